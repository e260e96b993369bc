import assert from 'node:assert/strict';
import { appendFile, chmod, mkdir, readdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { receivedBoth } from '../fixtures/mftg-payloads.js';
import { runCli, startJsonListener } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { startRecordingHandler } from '../helpers/recording-handler.js';
import { tempDir, waitUntil } from '../helpers/temp.js';

test('listen --json: ready first, then event and attempt; a second process sees the store while it runs', async (t) => {
  const dir = await tempDir();
  const handler = await startRecordingHandler();
  const listener = startJsonListener(['--no-tunnel', '--forward-to', handler.url], { MFTG_HOOKS_HOME: dir.path });
  t.after(async () => {
    await listener.stop('SIGKILL');
    await handler.close();
    await dir.cleanup();
  });
  const ready = await listener.waitForRecord((r) => r.type === 'ready', 'ready');
  assert.equal(listener.records[0], ready, 'ready is the first record');
  assert.match(String(ready.localUrl), /^http:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{22}$/);
  assert.equal(ready.forwardTo, handler.url);
  assert.equal(ready.store, dir.path);
  await listener.waitForRecord((r) => r.type === 'tunnel' && r.state === 'disabled', 'tunnel disabled');
  // When MFTG delivers
  const body = Buffer.from(JSON.stringify(receivedBoth));
  const ack = await fetch(String(ready.localUrl), { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  assert.equal(ack.status, 200);
  const event = await listener.waitForRecord((r) => r.type === 'event', 'event');
  assert.equal(event.eventType, 'MESSAGE.RECEIVED.SUCCESS');
  assert.equal(event.messageId, receivedBoth.messageIdentifier);
  assert.equal(event.size, body.length);
  assert.equal(event.method, 'POST');
  assert.equal(event.path, '/');
  const attempt = await listener.waitForRecord((r) => r.type === 'attempt', 'attempt');
  assert.deepEqual([attempt.eventId, attempt.kind, attempt.status, attempt.error, attempt.target], [event.id, 'forward', 200, null, handler.url]);
  // Then another process lists and shows it by a prefix of its id (the CLI's other commands read the
  // store beside the running listener; after the first one they run in the test process)
  const env = { MFTG_HOOKS_HOME: dir.path };
  const list = await runCli(['events', 'list', '--json'], { env });
  assert.equal(list.code, 0, list.stderr);
  assert.equal(JSON.parse(list.stdout.toString()).id, event.id);
  const show = await runCliInProcess(['events', 'show', String(event.id).slice(0, 12), '--json'], { env });
  const detail = JSON.parse(show.stdout.toString()) as { attempts: Array<{ status: number }>; headers: string[][]; mftg: { partner: string; attachments: string[] } };
  assert.deepEqual(
    detail.attempts.map((a) => a.status),
    [200],
  );
  // The attachment keys are read from the stored body, not kept in the summary
  assert.equal(detail.mftg.partner, receivedBoth.partnerIdentifier);
  assert.deepEqual(detail.mftg.attachments, receivedBoth.attachments);
  assert.ok(detail.headers.some(([name, value]) => name.toLowerCase() === 'content-type' && value === 'application/json'));
  const raw = await runCliInProcess(['events', 'show', String(event.id), '--body'], { env });
  assert.ok(raw.stdout.equals(body), 'show --body prints the exact bytes');
  const human = await runCliInProcess(['events', 'show', String(event.id)], { env });
  assert.match(human.stdout.toString(), /ZZGLOBEXCORP/);
  assert.match(human.stdout.toString(), /PO_850_4500012345\.edi/);
  // And SIGTERM ends it with exit code 0
  assert.equal(await listener.stop('SIGTERM'), 0);
});

test('SIGKILL right after the acks loses nothing: every acked event is there after a restart', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const env = { MFTG_HOOKS_HOME: dir.path };
  const first = startJsonListener(['--no-tunnel'], env);
  const ready = await first.waitForRecord((r) => r.type === 'ready', 'ready');
  const acked: string[] = [];
  await Promise.all(
    Array.from({ length: 100 }, async (_, i) => {
      const response = await fetch(`${String(ready.localUrl)}/n/${i}`, { method: 'POST', body: `{"n":${i}}` });
      if (response.status === 200) acked.push(`/n/${i}`);
    }),
  );
  // The instant the last ack arrives, kill the process without any chance to clean up
  first.child.kill('SIGKILL');
  await first.exited;
  assert.equal(acked.length, 100);
  // And a record torn by a crash mid-write sits at the end of the segment
  const segments = (await readdir(join(dir.path, 'events'))).filter((name) => name.endsWith('.seg')).sort();
  await appendFile(join(dir.path, 'events', segments[segments.length - 1]!), Buffer.from('MFH1\u0001\u0000\u0000\u0000half a record'));
  const second = startJsonListener(['--no-tunnel'], env);
  t.after(() => second.stop('SIGKILL'));
  const again = await second.waitForRecord((r) => r.type === 'ready', 'ready after restart');
  assert.equal(again.localUrl !== undefined, true);
  assert.equal(new URL(String(again.localUrl)).pathname, new URL(String(ready.localUrl)).pathname, 'the token is remembered');
  const list = await runCliInProcess(['events', 'list', '--json', '--limit', '1000'], { env });
  const paths = list.stdout
    .toString()
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { path: string }).path);
  assert.deepEqual(paths.sort(), acked.sort());
  const warning = await second.waitForRecord((r) => r.type === 'warning', 'a torn-record warning');
  assert.match(String(warning.message), /torn or corrupt/);
  assert.equal(second.records[0]!.type, 'ready', 'ready stays the first record');
  assert.equal(await second.stop('SIGINT'), 0);
});

test('usage and environment errors: one clear line and the right exit code', async (t) => {
  // One real process per exit code (2 here, 1 for the unknown id below); the rest run in-process.
  const dir = await tempDir();
  t.after(dir.cleanup);
  const env = { MFTG_HOOKS_HOME: dir.path };
  const badFlag = await runCli(['listen', '--port', 'eighty'], { env });
  assert.equal(badFlag.code, 2);
  assert.match(badFlag.stderr, /--port.*whole number/);
  const unknown = await runCliInProcess(['listen', '--frobnicate'], { env });
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown option '--frobnicate'/);
  const badUrl = await runCliInProcess(['listen', '--forward-to', 'ftp://x'], { env });
  assert.equal(badUrl.code, 2);
  const badEnv = await runCliInProcess(['listen', '--no-tunnel'], { env: { ...env, MFTG_HOOKS_TIMEOUT: '-5' } });
  assert.equal(badEnv.code, 2, 'environment twins are validated like flags');
  // Port in use
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.after(() => blocker.close());
  const port = (blocker.address() as { port: number }).port;
  const inUse = await runCliInProcess(['listen', '--no-tunnel', '--port', String(port)], { env });
  assert.equal(inUse.code, 1);
  assert.match(inUse.stderr, new RegExp(`port ${port} is already in use`));
  assert.equal(inUse.stderr.trim().split('\n').length, 1);
  // An unwritable store
  if (process.getuid?.() !== 0) {
    const locked = join(dir.path, 'locked');
    await mkdir(locked);
    await chmod(locked, 0o500);
    const unwritable = await runCliInProcess(['listen', '--no-tunnel', '--store', join(locked, 'store')]);
    assert.equal(unwritable.code, 1);
    assert.match(unwritable.stderr, /cannot create the store /);
  } else {
    const file = join(dir.path, 'a-file');
    await (await import('node:fs/promises')).writeFile(file, 'x');
    const unwritable = await runCliInProcess(['listen', '--no-tunnel', '--store', join(file, 'store')]);
    assert.equal(unwritable.code, 1);
    assert.match(unwritable.stderr, /cannot create the store /);
  }
  // Unknown ids
  const missing = await runCli(['events', 'show', 'zzzz'], { env });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no event with id zzzz/);
  // clear without --yes and without a terminal refuses
  const clear = await runCliInProcess(['events', 'clear'], { env });
  assert.equal(clear.code, 2);
});

test('a second listener on the same store is refused; the plain printer shows events without a TTY', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const env = { MFTG_HOOKS_HOME: dir.path };
  const first = startJsonListener(['--no-tunnel'], env);
  t.after(() => first.stop('SIGKILL'));
  const ready = await first.waitForRecord((r) => r.type === 'ready', 'ready');
  const second = await runCli(['listen', '--no-tunnel'], { env });
  assert.equal(second.code, 1);
  assert.match(second.stderr, /another listener/);
  await first.stop('SIGTERM');
  // Plain mode (stdout is a pipe here)
  const { spawn } = await import('node:child_process');
  const { BIN } = await import('../helpers/cli.js');
  const plain = spawn(process.execPath, [BIN, 'listen', '--no-tunnel'], { env: { ...process.env, ...env, NO_COLOR: '1' } });
  let out = '';
  plain.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await waitUntil(() => out.includes('capturing at'), 'plain ready line');
  const url = /capturing at (\S+)/.exec(out)![1]!;
  assert.equal(new URL(url).pathname, new URL(String(ready.localUrl)).pathname);
  await fetch(url, { method: 'POST', body: JSON.stringify(receivedBoth) });
  await waitUntil(() => out.includes('MESSAGE.RECEIVED.SUCCESS'), 'plain event line');
  assert.match(out, /ZZGLOBEXCORP → ACME-AS2/);
  assert.doesNotMatch(out, /\u001b\[/, 'no colour codes when NO_COLOR is set and stdout is not a TTY');
  plain.kill('SIGINT');
  const code = await new Promise((resolve) => plain.on('close', resolve));
  assert.equal(code, 0);
});

test('shutdown while a forward waits forever (--timeout 0): the first stop waits for it, a second one quits at once', async (t) => {
  const dir = await tempDir();
  const handler = await startRecordingHandler();
  handler.respond(() => undefined); // never answers: a developer at a breakpoint
  t.after(async () => {
    await handler.close();
    await dir.cleanup();
  });
  const listener = startJsonListener(['--no-tunnel', '--timeout', '0', '--forward-to', handler.url], { MFTG_HOOKS_HOME: dir.path });
  t.after(() => listener.stop('SIGKILL'));
  const ready = await listener.waitForRecord((r) => r.type === 'ready', 'ready');
  assert.equal((await fetch(String(ready.localUrl), { method: 'POST', body: '{}' })).status, 200);
  await handler.waitFor(1);
  // When it is stopped, it says it is finishing the forward instead of cutting it short…
  const exited = listener.stop('SIGTERM');
  await listener.waitForRecord((r) => r.type === 'delivery' && r.phase === 'finishing' && r.inFlight === 1, 'the finishing record');
  // …and a second stop quits at once (130), recording no attempt: the event stays pending for the next start
  listener.child.kill('SIGTERM');
  assert.equal(await exited, 130);
  assert.equal(listener.records.filter((r) => r.type === 'attempt').length, 0);
});

test('--token sets the secret path and is remembered; --no-token captures on every path; env twins work', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const env = { MFTG_HOOKS_HOME: dir.path };
  const explicit = startJsonListener(['--no-tunnel', '--token', 'my-own-token-123'], env);
  const ready = await explicit.waitForRecord((r) => r.type === 'ready', 'ready');
  assert.equal(new URL(String(ready.localUrl)).pathname, '/my-own-token-123');
  assert.equal(await explicit.stop('SIGTERM'), 0);
  // The next run without --token uses the remembered one
  const remembered = startJsonListener([], { ...env, MFTG_HOOKS_NO_TUNNEL: '1' });
  const again = await remembered.waitForRecord((r) => r.type === 'ready', 'ready');
  assert.equal(new URL(String(again.localUrl)).pathname, '/my-own-token-123');
  await remembered.waitForRecord((r) => r.type === 'tunnel' && r.state === 'disabled', 'tunnel disabled by MFTG_HOOKS_NO_TUNNEL');
  assert.equal(await remembered.stop('SIGTERM'), 0);
  // --no-token: any path is a capture path, kept as the event path
  const open = startJsonListener(['--no-tunnel', '--no-token'], env);
  t.after(() => open.stop('SIGKILL'));
  const openReady = await open.waitForRecord((r) => r.type === 'ready', 'ready');
  const base = String(openReady.localUrl).replace(/\/$/, '');
  assert.equal((await fetch(`${base}/anything/at/all?x=1`, { method: 'POST', body: '{}' })).status, 200);
  const event = await open.waitForRecord((r) => r.type === 'event', 'event');
  assert.equal(event.path, '/anything/at/all?x=1');
  assert.equal(await open.stop('SIGTERM'), 0);
  const bad = await runCliInProcess(['listen', '--token', 'short'], { env });
  assert.equal(bad.code, 2);
});
