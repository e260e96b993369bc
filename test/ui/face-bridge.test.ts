import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { test } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import { MftgHooksError } from '../../src/core/errors.js';
import { newId } from '../../src/core/ids.js';
import type { SavedFile } from '../../src/core/reconcile/attachments.js';
import type { SessionElement, SessionView } from '../../src/core/session-view.js';
import { connectFaceView, serveFaceView, type BridgedView } from '../../src/live/face-bridge.js';
import { FakeSessionView } from '../helpers/fake-session-view.js';
import { startRecordingHandler } from '../helpers/recording-handler.js';
import { waitUntil } from '../helpers/temp.js';

/** Every byte value, and bytes that are not UTF-8: a body must cross unchanged. */
const BINARY = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from([0xff, 0xfe, 0x00, 0xc3])]);

async function bridged(view: FaceView) {
  const { port1, port2 } = new MessageChannel();
  let posted = 0;
  const post = port1.postMessage.bind(port1);
  port1.postMessage = (...args: Parameters<typeof port1.postMessage>) => {
    posted++;
    post(...args);
  };
  const stop = serveFaceView(view, port1);
  const face = await connectFaceView(port2);
  return { ...face, stop, posted: () => posted };
}
type FaceView = Parameters<typeof serveFaceView>[0];

/** The fake's face port as a plain object (as a face sees it): only the methods every view has. */
function faceOf(fake: FakeSessionView): FaceView {
  return {
    subscribe: (listener) => fake.subscribe(listener),
    snapshot: () => fake.snapshot(),
    listEvents: (filter) => fake.listEvents(filter),
    getEvent: (id) => fake.getEvent(id),
    getBody: (id) => fake.getBody(id),
    getResponseBody: (id, attemptId) => fake.getResponseBody(id, attemptId),
    replay: (id, edits) => fake.replay(id, edits),
    retryTunnel: () => fake.retryTunnel(),
  };
}

test('every method of the view crosses the port: queries, intents, the snapshot; bodies byte-exact as Buffers', async (t) => {
  const handler = await startRecordingHandler();
  const fake = await FakeSessionView.create({ targets: { forwardTo: handler.url, routes: {} } });
  t.after(async () => {
    await fake.close();
    await handler.close();
  });
  // Given a stored binary event and a view served over a MessageChannel
  const stored = await fake.deliver({ body: BINARY, headers: [['content-type', 'application/octet-stream']] });
  const { view, detach } = await bridged(fake);
  t.after(detach);

  // Then the queries answer what the store holds
  const listed = await view.listEvents({ limit: 10 });
  assert.deepEqual(
    listed.map((record) => record.id),
    [stored.id],
  );
  assert.deepEqual(await view.getEvent(stored.id.slice(0, 12)), await fake.getEvent(stored.id));
  const body = await view.getBody(stored.id);
  assert.ok(Buffer.isBuffer(body), 'a Buffer again');
  assert.deepEqual(body, BINARY);

  // When an edited replay goes through the proxy, the handler gets the edited bytes exactly
  const edited = Buffer.from([0x00, 0x80, 0xff, 0x0a]);
  const attempt = await view.replay(stored.id, { body: edited });
  assert.equal(attempt.status, 200);
  assert.equal(attempt.modified, true);
  await handler.waitFor(1);
  assert.deepEqual(handler.requests[0]!.body, edited);
  const response = await view.getResponseBody(stored.id, attempt.id);
  assert.ok(Buffer.isBuffer(response));
  assert.equal(response.toString(), 'ok');

  // And trigger answers the new id; retryTunnel reaches the view; the snapshot follows the batches
  const triggered = await (view as BridgedView).trigger!({ eventType: 'received' });
  assert.equal((await view.getEvent(triggered)).id, triggered);
  view.retryTunnel();
  await waitUntil(() => fake.tunnelRetries === 1, 'the retry intent');
  fake.stats.captured = 42;
  fake.emit({ type: 'warning', message: 'after the change' });
  await waitUntil(() => view.snapshot().stats.captured === 42, 'the snapshot sent with the batch');
  assert.deepEqual(view.snapshot(), fake.snapshot());
});

test('elements keep their order and a burst crosses in a few messages', async (t) => {
  const fake = await FakeSessionView.create();
  t.after(() => fake.close());
  const { view, detach, posted } = await bridged(fake);
  t.after(detach);
  const seen: SessionElement[] = [];
  view.subscribe((element) => seen.push(element));
  const before = posted();

  // When 500 elements are emitted in one turn, then 500 more in the next
  const sent: SessionElement[] = [];
  for (let i = 0; i < 1_000; i++) {
    const element: SessionElement = { type: 'pending', eventId: `${newId()}-${i}`, pending: null };
    sent.push(element);
    if (i === 500) await new Promise((resolve) => setImmediate(resolve));
    fake.emit(element);
  }
  await waitUntil(() => seen.length === sent.length, 'every element');

  // Then each arrives once, in order, in a handful of messages
  assert.deepEqual(seen, sent);
  assert.ok(posted() - before <= 4, `${posted() - before} messages for 1,000 elements`);
});

test('errors keep their class, code, message and hint', async (t) => {
  const fake = await FakeSessionView.create();
  t.after(() => fake.close());
  const stored = await fake.deliver({ body: '{}' });
  const { view, detach } = await bridged(fake);
  t.after(detach);

  await assert.rejects(view.getEvent('zzzz-nothing'), (error: unknown) => {
    assert.ok(error instanceof MftgHooksError);
    assert.equal(error.code, 'E_EVENT_NOT_FOUND');
    return true;
  });
  // No target: the fake's replay throws E_NO_TARGET with a hint
  const direct = (await fake.replay(stored.id).then(
    () => assert.fail('the replay has no target'),
    (error: unknown) => error,
  )) as MftgHooksError;
  await assert.rejects(view.replay(stored.id), (error: unknown) => {
    assert.ok(error instanceof MftgHooksError);
    assert.equal(error.code, 'E_NO_TARGET');
    assert.equal(error.message, direct.message);
    assert.equal(error.hint, direct.hint);
    assert.ok(direct.hint);
    return true;
  });
});

test('optional methods cross by name: a streamed attachment arrives byte-exact, a mirrored read follows', async (t) => {
  const fake = await FakeSessionView.create();
  t.after(() => fake.close());
  const chunks = [BINARY, Buffer.from('second chunk'), BINARY.subarray(10, 20)];
  let unavailable: MftgHooksError | null = new MftgHooksError('E_MFTG_NO_CREDENTIALS', 'no MFTG credentials', 'set MFTG_USERNAME and MFTG_PASSWORD');
  // Given a view with the attachment methods (a plain object, as a face sees the port)
  const withFiles: FaceView & Pick<SessionView, 'openAttachment' | 'attachmentsUnavailable'> = {
    ...faceOf(fake),
    openAttachment: async (id, index) => ({ name: `${id}-${index}.bin`, body: Readable.from(chunks) }),
    attachmentsUnavailable: () => unavailable,
  };
  const { view, detach } = await bridged(withFiles);
  t.after(detach);
  assert.equal(view.listAttachments, undefined, 'a method the view lacks stays absent');
  assert.equal(view.trigger, undefined);

  const opened = await view.openAttachment!('abc', 2);
  assert.equal(opened.name, 'abc-2.bin');
  assert.deepEqual(await buffer(opened.body), Buffer.concat(chunks));

  const reason = view.attachmentsUnavailable!();
  assert.equal(reason?.code, 'E_MFTG_NO_CREDENTIALS');
  unavailable = null;
  fake.emit({ type: 'cleared' });
  await waitUntil(() => view.attachmentsUnavailable!() === null, 'the mirrored read after a batch');
});

test('detach stops the stream: the view loses its subscriber, later calls fail', async (t) => {
  const fake = await FakeSessionView.create();
  t.after(() => fake.close());
  const { view, detach } = await bridged(fake);
  const seen: SessionElement[] = [];
  view.subscribe((element) => seen.push(element));
  fake.emit({ type: 'warning', message: 'one' });
  await waitUntil(() => seen.length === 1, 'the first element');
  assert.equal(fake.emitter.listenerCount('element'), 1);

  // When the face detaches
  detach();
  await waitUntil(() => fake.emitter.listenerCount('element') === 0, 'the served side unsubscribed');
  fake.emit({ type: 'warning', message: 'two' });
  await assert.rejects(view.getEvent('x'), /the listener is gone/);
  assert.equal(seen.length, 1);
});

test('the serving side closing ends the face: pending calls fail instead of hanging', async (t) => {
  const fake = await FakeSessionView.create();
  t.after(() => fake.close());
  const slow: FaceView = Object.assign(Object.create(fake) as FakeSessionView, { listEvents: () => new Promise<never>(() => undefined) });
  const { view, stop } = await bridged(slow);
  const pending = view.listEvents({ limit: 1 });
  stop();
  await assert.rejects(pending, /the listener is gone/);
});

test('listeners in a call cross too: saveAttachments reports progress back to the face, in order, before its answer', async (t) => {
  const fake = await FakeSessionView.create();
  t.after(() => fake.close());
  const saved = (name: string): SavedFile => ({ name, state: 'saved', path: `/tmp/out/${name}`, size: 3, error: null });
  // Given a view whose save calls its progress listeners while it works
  const withSave: FaceView = {
    ...faceOf(fake),
    saveAttachments: async (id, dir, progress) => {
      progress?.asking?.();
      await new Promise((resolve) => setImmediate(resolve));
      progress?.file?.(saved('a.edi'));
      progress?.file?.(saved('b.pdf'));
      return { eventId: id, messageId: 'm-1', box: 'inbox', dir, files: [saved('a.edi'), saved('b.pdf')] };
    },
  };
  const { view, detach } = await bridged(withSave);
  t.after(detach);
  // When the face saves with listeners
  const heard: string[] = [];
  const result = await view.saveAttachments!('abc', '/tmp/out', { asking: () => heard.push('asking'), file: (file) => heard.push(`file ${file.name} ${file.state}`) });
  heard.push('answer');
  // Then every listener was called with its arguments, in order, before the answer
  assert.deepEqual(heard, ['asking', 'file a.edi saved', 'file b.pdf saved', 'answer']);
  assert.deepEqual(
    result.files.map((file) => file.path),
    ['/tmp/out/a.edi', '/tmp/out/b.pdf'],
  );
});
