import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { attemptsOf, capturedIds, post, startListener, type RunningListener } from '../helpers/deliveries.js';
import { startRecordingHandler, type RecordedRequest, type RecordingHandler } from '../helpers/recording-handler.js';
import { tempDir, waitUntil } from '../helpers/temp.js';
import { closedPort } from '../helpers/tunnel-servers.js';

const BACKOFF = ['--retry', '3', '--retry-backoff', '100'];
const bodyOf = (n: number): Buffer => Buffer.from(`{"eventType":"MESSAGE.RECEIVED.SUCCESS","seq":${n},"bytes":"\u00e9\u0000"}`);
const seqOf = (req: RecordedRequest): string => String(req.headers['x-seq']);

/** Posts events 1..count (acked 200 each) and returns their ids in arrival order. */
async function captureEvents(running: RunningListener, count: number, from = 1): Promise<string[]> {
  const before = running.listener.records.filter((r) => r.type === 'event' && r.foreign === false).length;
  for (let n = from; n < from + count; n++) assert.equal(await post(running.captureUrl, bodyOf(n), ['Content-Type', 'application/json', 'X-Seq', String(n)]), 200);
  return (await capturedIds(running.listener, before + count)).slice(before);
}

async function undeliveredIds(home: string): Promise<string[]> {
  const listed = await runCli(['events', 'list', '--failed', '--json', '--limit', '1000'], { env: { MFTG_HOOKS_HOME: home } });
  assert.equal(listed.code, 0, listed.stderr);
  return listed.stdout
    .toString()
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => String((JSON.parse(line) as { id: string }).id));
}

/**
 * After the restart: the handler gets each event exactly once more, in arrival order, with its exact
 * bytes; every one is recorded as delivered; and nothing else comes (an event captured afterwards is
 * the very next request).
 */
async function assertRedeliveredOnce(running: RunningListener, handler: RecordingHandler, ids: string[], alreadySeen: number): Promise<void> {
  const received = (await handler.waitFor(alreadySeen + ids.length)).slice(alreadySeen);
  assert.deepEqual(
    received.map(seqOf),
    ids.map((_, i) => String(i + 1)),
    'arrival order',
  );
  received.forEach((req, i) => assert.ok(req.body.equals(bodyOf(i + 1)), `body of event ${i + 1}`));
  for (const id of ids) await running.listener.waitForRecord((r) => r.type === 'attempt' && r.eventId === id && r.status === 200, `delivery of ${id}`);
  const [later] = await captureEvents(running, 1, ids.length + 1);
  await running.listener.waitForRecord((r) => r.type === 'attempt' && r.eventId === later && r.status === 200, 'the later event');
  assert.deepEqual(handler.requests.slice(alreadySeen).map(seqOf), [...ids.map((_, i) => String(i + 1)), String(ids.length + 1)]);
  for (const id of ids) assert.equal(attemptsOf(running.listener, id).filter((a) => a.status === 200).length, 1, `${id} delivered once`);
}

test('SIGKILL with forwards in flight: after the restart every acked event is delivered once, in arrival order', async (t) => {
  const home = await tempDir();
  const handler = await startRecordingHandler();
  t.after(async () => {
    await handler.close();
    await home.cleanup();
  });
  // Given a handler that holds every request without answering
  const held: ServerResponse[] = [];
  handler.respond((_req, res) => void held.push(res));
  const first = await startListener(home.path, ['--forward-to', handler.url, ...BACKOFF]);
  const ids = await captureEvents(first, 5);
  await handler.waitFor(5);
  // When the listener is killed while the five forwards are on the wire
  assert.equal(await first.listener.stop('SIGKILL'), null);
  for (const res of held) res.destroy();
  // Then every one of them is listed as not delivered
  assert.deepEqual(await undeliveredIds(home.path), ids);
  // And when a listener starts again with a target (the handler now answers)
  handler.respond((_req, res) => void res.end('ok'));
  const second = await startListener(home.path, ['--forward-to', handler.url, ...BACKOFF]);
  t.after(() => second.listener.stop());
  const redelivering = await second.listener.waitForRecord((r) => r.type === 'delivery' && r.phase === 'redelivering', 'the redelivering record');
  assert.equal(redelivering.pending, 5);
  // Then each is delivered exactly once more, in arrival order, byte for byte
  await assertRedeliveredOnce(second, handler, ids, 5);
  assert.deepEqual(await undeliveredIds(home.path), []);
});

test('SIGKILL during a handler outage: the events that waited (and the refused one) are delivered after the restart', async (t) => {
  const home = await tempDir();
  const port = await closedPort();
  let handler: RecordingHandler | null = null;
  t.after(async () => {
    await handler?.close();
    await home.cleanup();
  });
  // Given a handler that is down: the first forward is refused, the next five wait without an attempt
  const target = `http://127.0.0.1:${port}/hook`;
  const first = await startListener(home.path, ['--forward-to', target, ...BACKOFF]);
  const ids = await captureEvents(first, 6);
  await first.listener.waitForRecord((r) => r.type === 'attempt' && r.eventId === ids[0] && r.error === 'ECONNREFUSED', 'the refused forward');
  // When the listener is killed meanwhile
  await first.listener.stop('SIGKILL');
  // Then all six are listed as not delivered
  assert.deepEqual(await undeliveredIds(home.path), ids);
  // And when the handler is back and a listener starts again
  handler = await startRecordingHandler({ port });
  const second = await startListener(home.path, ['--forward-to', target, ...BACKOFF]);
  t.after(() => second.listener.stop());
  // Then all six arrive once each, in arrival order
  await assertRedeliveredOnce(second, handler, ids, 0);
});

test('a clean stop during an outage: replay --failed finds every waiting event, and the next start does not send them again', async (t) => {
  const home = await tempDir();
  const port = await closedPort();
  let handler: RecordingHandler | null = null;
  t.after(async () => {
    await handler?.close();
    await home.cleanup();
  });
  const target = `http://127.0.0.1:${port}/hook`;
  const first = await startListener(home.path, ['--forward-to', target, ...BACKOFF]);
  const ids = await captureEvents(first, 6);
  await first.listener.waitForRecord((r) => r.type === 'attempt' && r.eventId === ids[0], 'the refused forward');
  // When the listener is stopped cleanly (SIGINT) while the handler is down
  assert.equal(await first.listener.stop('SIGINT'), 0);
  // Then its last record says six events stay pending
  const stopped = first.listener.records.at(-1)!;
  assert.deepEqual([stopped.type, stopped.phase, stopped.pending], ['delivery', 'stopped', 6]);
  // And replay --failed sends all six, oldest first
  handler = await startRecordingHandler({ port });
  const replayed = await runCli(['replay', '--failed', '--json'], { env: { MFTG_HOOKS_HOME: home.path } });
  assert.equal(replayed.code, 0, replayed.stderr);
  assert.deepEqual(
    replayed.stdout
      .toString()
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { eventId: string }).eventId),
    ids,
  );
  assert.deepEqual(handler.requests.map(seqOf), ['1', '2', '3', '4', '5', '6']);
  // And a listener started afterwards does not send them again
  const second = await startListener(home.path, ['--forward-to', target, ...BACKOFF]);
  t.after(() => second.listener.stop());
  const [later] = await captureEvents(second, 1, 7);
  await second.listener.waitForRecord((r) => r.type === 'attempt' && r.eventId === later && r.status === 200, 'the new event');
  assert.deepEqual(handler.requests.map(seqOf), ['1', '2', '3', '4', '5', '6', '7']);
  assert.equal(
    second.listener.records.some((r) => r.type === 'delivery' && r.phase === 'redelivering'),
    false,
  );
});

test('events captured without a target are not pending: a later listen with a target does not send them', async (t) => {
  const home = await tempDir();
  const handler = await startRecordingHandler();
  t.after(async () => {
    await handler.close();
    await home.cleanup();
  });
  // Given events captured with no --forward-to (capture and show only)
  const first = await startListener(home.path, []);
  await captureEvents(first, 2);
  assert.equal(await first.listener.stop('SIGKILL'), null);
  assert.deepEqual(await undeliveredIds(home.path), []);
  // When a listener with a target starts on that store and captures one more
  const second = await startListener(home.path, ['--forward-to', handler.url]);
  t.after(() => second.listener.stop());
  const [later] = await captureEvents(second, 1, 3);
  await second.listener.waitForRecord((r) => r.type === 'attempt' && r.eventId === later, 'the new forward');
  // Then only the new one went out
  await waitUntil(() => handler.requests.length >= 1, 'the forward');
  assert.deepEqual(handler.requests.map(seqOf), ['3']);
});

test('an event that waits for the handler and is delivered meanwhile by a replay from another terminal is not sent again', async (t) => {
  const home = await tempDir();
  const port = await closedPort();
  const elsewhere = await startRecordingHandler();
  let handler: RecordingHandler | null = null;
  t.after(async () => {
    await handler?.close();
    await elsewhere.close();
    await home.cleanup();
  });
  // Given three events waiting for a handler that is down
  const running = await startListener(home.path, ['--forward-to', `http://127.0.0.1:${port}/hook`, ...BACKOFF]);
  t.after(() => running.listener.stop());
  const ids = await captureEvents(running, 3);
  await running.listener.waitForRecord((r) => r.type === 'attempt' && r.eventId === ids[0], 'the refused forward');
  // When the second is replayed to another handler from another terminal
  const replayed = await runCli(['replay', ids[1]!, '--to', elsewhere.url], { env: running.env });
  assert.equal(replayed.code, 0, replayed.stderr);
  await running.listener.waitForRecord((r) => r.type === 'attempt' && r.eventId === ids[1] && r.kind === 'replay', 'the foreign replay');
  // And the handler comes back
  handler = await startRecordingHandler({ port });
  // Then it gets the other two only, in order
  await running.listener.waitForRecord((r) => r.type === 'attempt' && r.eventId === ids[2] && r.status === 200, 'the third delivery');
  const [later] = await captureEvents(running, 1, 4);
  await running.listener.waitForRecord((r) => r.type === 'attempt' && r.eventId === later && r.status === 200, 'a later event');
  assert.deepEqual(handler.requests.map(seqOf), ['1', '3', '4']);
});
