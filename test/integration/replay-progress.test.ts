import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import type { ServerResponse } from 'node:http';
import { test } from 'node:test';
import { newId } from '../../src/core/ids.js';
import { EventStore } from '../../src/core/store/store.js';
import { BIN } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { startRecordingHandler } from '../helpers/recording-handler.js';
import { tempDir, waitUntil } from '../helpers/temp.js';

function ptyAvailable(): boolean {
  try {
    execFileSync('script', ['-qfec', 'true', '/dev/null'], { stdio: 'ignore', timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
}

async function storeWithEvents(dir: string, count: number): Promise<void> {
  const store = await EventStore.open(dir);
  await store.openForWriting();
  for (let i = 1; i <= count; i++) {
    const body = Buffer.from(`{"n":${i}}`);
    await store.appendEvent(
      { id: newId(), receivedAt: new Date().toISOString(), method: 'POST', path: '/', headers: [['content-type', 'application/json']], remoteAddress: null, size: body.length, mftg: null },
      body,
    );
  }
  await store.close();
}

test('replay to a slow handler shows which request is on the wire on a terminal, and nothing extra when piped', { skip: !ptyAvailable() && 'util-linux script is not available' }, async (t) => {
  const home = await tempDir();
  const handler = await startRecordingHandler();
  const held: ServerResponse[] = [];
  let holding = true;
  handler.respond((_req, res) => {
    if (holding) held.push(res);
    else res.end('ok');
  });
  t.after(async () => {
    await handler.close();
    await home.cleanup();
  });
  await storeWithEvents(home.path, 2);
  // Given a handler that is slow to answer the first replay
  const command = [process.execPath, BIN, 'replay', '--last', '2', '--to', handler.url].map((arg) => `'${arg}'`).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], { env: { ...process.env, NO_COLOR: '1', MFTG_HOOKS_HOME: home.path }, stdio: ['pipe', 'pipe', 'pipe'] });
  let screen = '';
  child.stdout.on('data', (chunk: Buffer) => (screen += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  // When replaying on a terminal
  await handler.waitFor(1);
  // Then the terminal says which request is on the wire while the handler thinks
  await waitUntil(() => screen.includes(`replaying 1 of 2 → ${handler.url}…`), `the progress line; screen: ${JSON.stringify(screen)}`);
  holding = false;
  for (const res of held.splice(0)) res.end('ok');
  assert.equal(await exited, 0, screen);
  assert.match(screen, /replaying 2 of 2 →/);
  // And piped, stderr carries nothing but what it always did
  const piped = await runCliInProcess(['replay', '--last', '2', '--to', handler.url], { env: { MFTG_HOOKS_HOME: home.path } });
  assert.equal(piped.code, 0, piped.stderr);
  assert.equal(piped.stderr, '');
  assert.equal(piped.stdout.toString().trim().split('\n').length, 2);
});
