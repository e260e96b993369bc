import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { request } from 'undici';
import { BIN, startJsonListener } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { post, startListener } from '../helpers/deliveries.js';
import { tempDir, waitUntil } from '../helpers/temp.js';

const get = async (url: string): Promise<{ status: number; text: string }> => {
  const response = await request(url);
  return { status: response.statusCode, text: await response.body.text() };
};

test('listen serves the inspector on loopback, names it in ready, and the capture port serves none of it', async (t) => {
  const home = await tempDir();
  const running = await startListener(home.path, ['--inspect', '127.0.0.1:0']);
  t.after(async () => {
    await running.listener.stop();
    await home.cleanup();
  });
  // Given the ready record
  const ready = running.listener.records.find((r) => r.type === 'ready')!;
  const inspectUrl = String(ready.inspectUrl);
  assert.match(inspectUrl, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  // When a delivery is captured
  assert.equal(await post(running.captureUrl, Buffer.from('{"eventType":"MESSAGE.SEND.SUCCESS"}')), 200);
  const event = await running.listener.waitForRecord((r) => r.type === 'event', 'the event');
  // Then the inspector lists it, with its source
  const listed = JSON.parse((await get(`${inspectUrl}api/events`)).text) as { events: Array<Record<string, unknown>> };
  assert.deepEqual(
    listed.events.map((e) => [e.id, e.source]),
    [[event.id, 'webhook']],
  );
  assert.equal((await get(inspectUrl)).status, 200);
  // And the capture server answers none of the inspector's paths (nor with a token prefix)
  const capture = new URL(running.captureUrl);
  for (const path of ['/', '/api/events', '/api/stream', '/api/session', '/assets/app.js', '/favicon.svg', `${capture.pathname}/api/events`.replace('//', '/')]) {
    const got = await get(`${capture.origin}${path}`);
    if (path.startsWith(capture.pathname)) {
      // Below the token: a delivery (captured, empty 200), never the inspector's JSON
      assert.equal(got.text, '', path);
    } else {
      assert.deepEqual(got, { status: 404, text: '' }, path);
    }
  }
});

test('listen --no-inspect and MFTG_HOOKS_INSPECT=off serve no inspector; ready says null', async (t) => {
  const home = await tempDir();
  t.after(() => home.cleanup());
  for (const [args, env] of [
    [['--no-inspect'], {}],
    [[], { MFTG_HOOKS_INSPECT: 'off' }],
  ] as const) {
    const listener = startJsonListener(['--no-tunnel', ...args], { MFTG_HOOKS_HOME: home.path, ...env });
    const ready = await listener.waitForRecord((r) => r.type === 'ready', 'ready');
    assert.equal(await listener.stop(), 0);
    assert.equal(ready.inspectUrl, null, JSON.stringify(env));
  }
  const viaEnv = await runCliInProcess(['listen', '--no-tunnel', '--json', '--inspect', 'nope'], { env: { MFTG_HOOKS_HOME: home.path } });
  assert.equal(viaEnv.code, 2);
});

test('a non-loopback --inspect is refused with exit 2 and the reason, before anything starts', async (t) => {
  const home = await tempDir();
  t.after(() => home.cleanup());
  for (const args of [
    ['listen', '--no-tunnel', '--inspect', '0.0.0.0:4141'],
    ['inspect', '--inspect', '192.168.1.20:4141'],
  ]) {
    const result = await runCliInProcess(args, { env: { MFTG_HOOKS_HOME: home.path } });
    assert.equal(result.code, 2, args.join(' '));
    assert.match(result.stderr, /the web inspector binds loopback only/);
    assert.equal(result.stdout.toString(), '');
  }
  const viaEnv = await runCliInProcess(['listen', '--no-tunnel'], { env: { MFTG_HOOKS_HOME: home.path, MFTG_HOOKS_INSPECT: '10.1.2.3' } });
  assert.equal(viaEnv.code, 2);
  assert.match(viaEnv.stderr, /loopback only/);
});

test('mftg-hooks inspect serves the store alone, follows it, and exits 0 on Ctrl+C', async (t) => {
  const home = await tempDir();
  t.after(() => home.cleanup());
  // Given a store with one event from an earlier run
  const running = await startListener(home.path, ['--no-inspect']);
  assert.equal(await post(running.captureUrl, Buffer.from('{"n":1}')), 200);
  const first = await running.listener.waitForRecord((r) => r.type === 'event', 'the event');
  // When `inspect` runs on it
  const child = spawn(process.execPath, [BIN, 'inspect', '--inspect', '127.0.0.1:0'], { env: { ...process.env, NO_COLOR: '1', MFTG_HOOKS_HOME: home.path }, stdio: 'pipe' });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  t.after(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await running.listener.stop();
  });
  const url = await waitUntil(() => /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1], 'the inspector URL');
  // Then it lists the stored event, in inspect mode
  const session = JSON.parse((await get(`${url}api/session`)).text) as Record<string, unknown>;
  assert.equal(session.mode, 'inspect');
  assert.equal(session.inspectUrl, url);
  const listed = JSON.parse((await get(`${url}api/events`)).text) as { events: Array<Record<string, unknown>> };
  assert.deepEqual(
    listed.events.map((e) => e.id),
    [first.id],
  );
  // And the listener's new events show in the store it follows
  assert.equal(await post(running.captureUrl, Buffer.from('{"n":2}')), 200);
  await waitUntil(async () => (JSON.parse((await get(`${url}api/events`)).text) as { events: unknown[] }).events.length === 2, 'the second event');
  // When Ctrl+C
  child.kill('SIGINT');
  assert.equal(await exited, 0);
});
