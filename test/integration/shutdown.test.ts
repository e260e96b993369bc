import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ServerResponse } from 'node:http';
import { test } from 'node:test';
import { Forwarder } from '../../src/core/forwarder.js';
import { createDispatcher } from '../../src/core/http-send.js';
import { Attempts, type SendResult } from '../../src/core/delivery/attempts.js';
import type { CapturedEvent } from '../../src/core/types.js';
import { BIN, runCli } from '../helpers/cli.js';
import { attemptsOf, capturedIds, post, startListener } from '../helpers/deliveries.js';
import { startRecordingHandler, type RecordingHandler } from '../helpers/recording-handler.js';
import { tempDir, waitUntil } from '../helpers/temp.js';

/** A handler that holds every request until `release()` (a handler asleep at a breakpoint). */
async function holdingHandler(): Promise<{ handler: RecordingHandler; held: ServerResponse[]; release: () => void }> {
  const handler = await startRecordingHandler();
  const held: ServerResponse[] = [];
  let released = false;
  handler.respond((_req, res) => {
    if (released) res.end('ok');
    else held.push(res);
  });
  const release = (): void => {
    released = true;
    for (const res of held.splice(0)) res.end('ok');
  };
  return { handler, held, release };
}

/** `listen --no-ui --no-tunnel` with its plain lines. */
function startPlainListener(home: string, args: string[]) {
  const child = spawn(process.execPath, [BIN, 'listen', '--no-ui', '--no-tunnel', ...args], { env: { ...process.env, NO_COLOR: '1', MFTG_HOOKS_HOME: home }, stdio: 'pipe' });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    exited,
    out: () => out,
    err: () => err,
    waitForText: (pattern: RegExp, what: string) => waitUntil(() => pattern.exec(out), `${what}; stdout so far:\n${out}\nstderr:\n${err}`),
  };
}

async function storedAttempts(home: string, id: string): Promise<Array<{ kind: string; status: number | null; error: string | null }>> {
  const shown = await runCli(['events', 'show', id, '--json'], { env: { MFTG_HOOKS_HOME: home } });
  assert.equal(shown.code, 0, shown.stderr);
  return (JSON.parse(shown.stdout.toString()) as { attempts: Array<{ kind: string; status: number | null; error: string | null }> }).attempts;
}

test('one Ctrl+C waits for the forward on the wire: it completes, exit 0, and the next start does not send it again', async (t) => {
  const home = await tempDir();
  const { handler, release } = await holdingHandler();
  // Hooks run in the order they are added: the listener started last is stopped here, before its store goes.
  const started: { next?: Awaited<ReturnType<typeof startListener>> } = {};
  t.after(async () => {
    await started.next?.listener.stop();
    await handler.close();
    await home.cleanup();
  });
  // Given a listener whose handler is busy with one forward
  const listener = startPlainListener(home.path, ['--forward-to', handler.url]);
  const url = (await listener.waitForText(/capturing at (\S+)/, 'the capture URL'))[1]!;
  assert.equal(await post(url, Buffer.from('{"n":1}')), 200);
  const id = (await listener.waitForText(/ ([0-9a-z]{14})  ←/, 'the event line'))[1]!;
  await handler.waitFor(1);
  // When Ctrl+C is pressed once
  listener.child.kill('SIGINT');
  // Then it says it is finishing that forward, and how to quit now
  await listener.waitForText(/^finishing 1 forward… \(Ctrl\+C again to quit now\)$/m, 'the finishing line');
  // And when the handler answers, the attempt is recorded and the process exits 0
  release();
  assert.equal(await listener.exited, 0, listener.err());
  assert.match(listener.out(), /→ forward 200/);
  assert.match(listener.out(), /^stopped: captured 1 event; forwarded ok 1, failed 0, pending 0; handler attempts 1 ok, 0 failed/m);
  assert.deepEqual(
    (await storedAttempts(home.path, id)).map((a) => [a.kind, a.status]),
    [['forward', 200]],
  );
  // And a listener started afterwards sends nothing again
  const next = await startListener(home.path, ['--forward-to', handler.url]);
  started.next = next;
  assert.equal(await post(next.captureUrl, Buffer.from('{"n":2}')), 200);
  const [second] = await capturedIds(next.listener, 1);
  await next.listener.waitForRecord((r) => r.type === 'attempt' && r.eventId === second, 'the new forward');
  assert.deepEqual(
    handler.requests.map((req) => req.body.toString()),
    ['{"n":1}', '{"n":2}'],
  );
});

test('a second Ctrl+C quits at once; the forward it cut short stays pending and is re-delivered at the next start', async (t) => {
  const home = await tempDir();
  const { handler, release } = await holdingHandler();
  const started: { next?: Awaited<ReturnType<typeof startListener>> } = {};
  t.after(async () => {
    await started.next?.listener.stop();
    await handler.close();
    await home.cleanup();
  });
  const first = await startListener(home.path, ['--forward-to', handler.url, '--timeout', '0']);
  assert.equal(await post(first.captureUrl, Buffer.from('{"n":1}')), 200);
  const [id] = await capturedIds(first.listener, 1);
  await handler.waitFor(1);
  // When Ctrl+C is pressed, and again while the forward is finishing
  first.listener.child.kill('SIGINT');
  const finishing = await first.listener.waitForRecord((r) => r.type === 'delivery' && r.phase === 'finishing', 'the finishing record');
  assert.equal(finishing.inFlight, 1);
  first.listener.child.kill('SIGINT');
  // Then it quits at once and says what stays pending
  assert.equal(await first.listener.exited, 130);
  assert.match(first.listener.stderr(), /quit now: 1 forward cut short; 1 event not delivered stays pending and is re-delivered/);
  assert.deepEqual(await storedAttempts(home.path, id!), []);
  // And the next start re-delivers it, once
  release();
  const next = await startListener(home.path, ['--forward-to', handler.url]);
  started.next = next;
  await next.listener.waitForRecord((r) => r.type === 'attempt' && r.eventId === id && r.status === 200, 'the re-delivery');
  assert.deepEqual(
    handler.requests.map((req) => req.body.toString()),
    ['{"n":1}', '{"n":1}'],
  );
  assert.equal(attemptsOf(next.listener, id!).length, 1);
});

test('at shutdown a forward gets at most the grace time, then it is aborted and recorded as still pending', async (t) => {
  const { handler, release } = await holdingHandler();
  const dispatcher = createDispatcher({ insecure: false });
  t.after(async () => {
    release();
    await dispatcher.close();
    await handler.close();
  });
  const recorded: SendResult[] = [];
  const forwarder = new Forwarder({
    targets: { forwardTo: handler.url, routes: {} },
    timeoutMs: 0,
    retries: 3,
    retryBackoffMs: 100,
    attempts: new Attempts({ dispatcher, record: async (result) => void recorded.push(result) }),
    loadBody: () => Promise.reject(new Error('not stored')),
  });
  const event: CapturedEvent = { id: '01abcdefghjkmn', receivedAt: new Date().toISOString(), method: 'POST', path: '/', headers: [], remoteAddress: null, size: 2, mftg: null, forward: true };
  // Given a forward that would wait forever (--timeout 0)
  forwarder.deliver(event, Buffer.from('{}'));
  await handler.waitFor(1);
  assert.equal(forwarder.inFlightCount, 1);
  // When the forwarder closes with a grace time of 200 ms
  await forwarder.close(200);
  // Then the attempt was aborted, and it leaves the event pending
  assert.deepEqual(
    recorded.map((r) => [r.attempt.error, r.attempt.delivery]),
    [['ABORTED', 'pending']],
  );
  assert.equal(forwarder.inFlightCount, 0);
});
