import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { receivedBoth } from '../fixtures/mftg-payloads.js';
import { BIN } from '../helpers/cli.js';
import { hasTmux, tmuxTestSetup } from '../helpers/tmux.js';
import { waitUntil } from '../helpers/temp.js';
import { post } from '../ui/post.js';

const run = promisify(execFile);

test('the curl view in a real 80×24 terminal: the command copied from the screen sends the same bytes', { skip: !hasTmux() && 'tmux is not installed' }, async (t) => {
  const { home, handler, term } = await tmuxTestSetup(t);
  const tmux = term.cmd;
  /** Waits on the screen with the lines the terminal wrapped joined again: what a mouse copies. */
  const waitForScreen = async (check: (screen: string) => boolean, what: string): Promise<string> => (await term.waitForScreen(check, what, { timeoutMs: 15_000, joined: true })).screen;

  // Given the built CLI in an 80×24 terminal (CI=false: Ink draws nothing until exit under CI=true)
  const command = `env CI=false NO_COLOR=1 MFTG_HOOKS_HOME='${home.path}' '${process.execPath}' '${BIN}' listen --no-tunnel --forward-to '${handler.url}'; sleep 60`;
  await tmux('new-session', '-d', '-s', 'ui', '-x', '80', '-y', '24', command);
  const listener = await waitUntil(async () => JSON.parse(await readFile(join(home.path, 'listener.json'), 'utf8').catch(() => 'null')) as { captureUrl: string } | null, 'the listener');

  const bodies = [
    // What MFTG sends: compact JSON
    Buffer.from(JSON.stringify(receivedBoth)),
    // Harder: line breaks, non-ASCII text, quotes, a backslash, a percent sign
    Buffer.from(JSON.stringify({ ...receivedBoth, messageSubject: `Bestellung für Köln — 10 % 'fast' "now" \\ done` }, null, 2) + '\n'),
  ];
  for (const [index, body] of bodies.entries()) {
    // When an event arrives and c is pressed on it
    assert.equal(await post(listener.captureUrl, body), 200);
    await handler.waitFor(2 * index + 1);
    await waitForScreen((s) => (s.match(/200 · /g) ?? []).length === index + 1, `row ${index + 1} forwarded`);
    await tmux('send-keys', '-t', 'ui', 'c');
    const screen = await waitForScreen((s) => s.includes('curl command for'), 'the curl view');
    // Then the view starts at the top of the screen (the wrapped command pushed nothing off)…
    const lines = screen.split('\n');
    assert.ok(lines[0]!.startsWith('curl command for '), screen);
    const file = /saved to (\S+)/.exec(screen)?.[1];
    assert.ok(file, screen);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    // …and the command copied from the screen runs and sends the body byte for byte
    const copied = lines.find((line) => /^(curl http|printf ')/.test(line))!.trimEnd();
    assert.ok(copied.length > 80, `the command is wrapped by the terminal: ${copied.length} cells`);
    await run('sh', ['-c', copied]);
    const requests = await handler.waitFor(2 * index + 2);
    assert.deepEqual(requests[2 * index + 1]!.body, body);
    assert.deepEqual(requests[2 * index + 1]!.body, requests[2 * index]!.body);
    // When Esc goes back, the list is drawn whole again: header on top, keys at the bottom
    await tmux('send-keys', '-t', 'ui', 'Escape');
    const list = await waitForScreen((s) => s.includes('PARTNER → STATION'), 'the list again');
    const listLines = list.split('\n');
    assert.ok(listLines[0]!.startsWith('mftg-hooks  no public URL'), list);
    assert.ok(
      listLines.some((line) => line.startsWith('↑↓ move')),
      list,
    );
    assert.ok(!list.includes('curl command for'), list);
  }
});
