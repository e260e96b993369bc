import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { DISABLED_TUNNEL, type SessionElement } from '../../src/core/session.js';
import type { CapturedEvent, EventRecord, ForwardAttempt } from '../../src/core/types.js';
import { LiveModel, RENDER_COST_FACTOR, type LiveSnapshot, type LiveSource } from '../../src/live/model.js';
import { waitUntil } from '../helpers/temp.js';

function event(n: number): CapturedEvent {
  return { id: `id${String(n).padStart(8, '0')}`, receivedAt: new Date().toISOString(), method: 'POST', path: '/', headers: [], remoteAddress: null, size: 2, mftg: null };
}

function attempt(eventN: number, id: string, status = 200): ForwardAttempt {
  return {
    id,
    eventId: event(eventN).id,
    kind: 'forward',
    target: 'http://h',
    startedAt: new Date().toISOString(),
    status,
    error: null,
    durationMs: 1,
    responseHeaders: [],
    responseSize: 0,
    modified: false,
  };
}

/** A stand-in session: elements are emitted by the test, the history comes from `history`. */
function fakeSource(history: () => Promise<EventRecord[]>) {
  const emitter = new EventEmitter();
  const source: LiveSource = {
    subscribe: (listener: (element: SessionElement) => void) => {
      emitter.on('element', listener);
      return () => emitter.off('element', listener);
    },
    snapshot: () => ({
      mode: 'listen',
      ready: false,
      store: '/tmp/x',
      localUrl: null,
      publicCaptureUrl: null,
      tunnel: DISABLED_TUNNEL,
      targets: { forwardTo: 'http://h', routes: {} },
      stats: { captured: 0, delivered: 0, failed: 0, waiting: 0, rejected: 0, rejectedByReason: {}, attempts: { ok: 0, failed: 0 } },
      inspectUrl: null,
    }),
    listEvents: history,
  };
  return { source, emit: (element: SessionElement) => emitter.emit('element', element) };
}

const ready: SessionElement = { type: 'ready', localUrl: 'http://127.0.0.1:1/t', store: '/tmp/x', forwardTo: 'http://h', routes: {} };

test('a burst of 2,000 events is published in a few batched snapshots, none lost', async () => {
  const { source, emit } = fakeSource(async () => []);
  const model = new LiveModel(source, { batchMs: 50 });
  let published = 0;
  model.subscribe(() => published++);
  emit(ready);
  await waitUntil(() => !model.getSnapshot().loading && model.getSnapshot().ready, 'history loaded');
  published = 0;
  // When 2,000 events and their attempts arrive in one go
  for (let n = 0; n < 2_000; n++) {
    emit({ type: 'event', event: event(n), foreign: false });
    emit({ type: 'attempt', attempt: attempt(n, `a${n}`), foreign: false });
  }
  // Then one batch carries them all, each with its attempt
  const snapshot = await waitUntil(() => (model.getSnapshot().rows.length === 2_000 ? model.getSnapshot() : null), 'all rows');
  assert.ok(published <= 2, `published ${published} snapshots for 4,000 elements`);
  assert.ok(snapshot.rows.every((row) => row.attempts === 1 && row.last?.status === 200));
  model.dispose();
});

test('the list is bounded to the newest rows; the snapshot stays the same object between batches', async () => {
  const { source, emit } = fakeSource(async () => []);
  const model = new LiveModel(source, { maxRows: 100, batchMs: 10 });
  emit(ready);
  for (let n = 0; n < 250; n++) emit({ type: 'event', event: event(n), foreign: false });
  const snapshot = await waitUntil(() => (model.getSnapshot().rows.length === 100 && !model.getSnapshot().loading ? model.getSnapshot() : null), 'bounded rows');
  assert.equal(snapshot.rows[0]!.id, event(150).id);
  assert.equal(snapshot.rows[99]!.id, event(249).id);
  assert.equal(model.getSnapshot(), model.getSnapshot());
  // An attempt for an evicted event changes nothing and costs nothing
  emit({ type: 'attempt', attempt: attempt(3, 'late'), foreign: true });
  model.dispose();
});

test('history from the store merges with live events that arrive while it loads', async () => {
  let release!: (records: EventRecord[]) => void;
  const { source, emit } = fakeSource(() => new Promise((resolve) => (release = resolve)));
  const model = new LiveModel(source, { batchMs: 5 });
  emit(ready);
  await waitUntil(() => model.getSnapshot().loading, 'loading');
  // While the store is read: event 5 arrives live, event 3's attempt is recorded, event 4 starts a retry
  emit({ type: 'event', event: event(5), foreign: false });
  emit({ type: 'attempt', attempt: attempt(3, 'live-attempt', 502), foreign: true });
  emit({ type: 'pending', eventId: event(4).id, pending: { state: 'retry-scheduled', at: Date.now() + 1000, retry: 1, of: 3 } });
  // When the history (events 1–5, event 3 without that attempt yet) arrives
  release([1, 2, 3, 4, 5].map((n) => ({ ...event(n), attempts: n === 3 ? [attempt(3, 'old')] : [] })));
  const snapshot: LiveSnapshot = await waitUntil(() => (!model.getSnapshot().loading && model.getSnapshot().rows.length > 1 ? model.getSnapshot() : null), 'merged');
  // Then every event is there once, in arrival order, with the live attempt and the pending state applied
  assert.deepEqual(
    snapshot.rows.map((row) => row.id),
    [1, 2, 3, 4, 5].map((n) => event(n).id),
  );
  const three = snapshot.rows[2]!;
  assert.equal(three.attempts, 2);
  assert.equal(three.last?.id, 'live-attempt');
  assert.equal(snapshot.rows[3]!.pending?.state, 'retry-scheduled');
  model.dispose();
});

test('rejections and warnings become notices; a cleared store empties the list', async () => {
  const { source, emit } = fakeSource(async () => []);
  const model = new LiveModel(source, { batchMs: 5 });
  emit(ready);
  emit({ type: 'event', event: event(1), foreign: false });
  emit({ type: 'rejected', reason: 'too-large', path: '/tok/x', detail: '11 MiB' });
  emit({ type: 'warning', message: 'a torn record was skipped' });
  await waitUntil(() => model.getSnapshot().notices.length === 2 && model.getSnapshot().rows.length === 1, 'notices');
  assert.match(model.getSnapshot().notices[0]!.text, /rejected too-large: \/tok\/x \(11 MiB\)/);
  emit({ type: 'cleared' });
  await waitUntil(() => model.getSnapshot().clears === 1, 'cleared');
  assert.equal(model.getSnapshot().rows.length, 0);
  model.dispose();
});

test('a costly render makes the next snapshot wait: drawing never takes more than a fifth of the loop', async () => {
  const { source, emit } = fakeSource(async () => []);
  let clock = 1_000;
  const model = new LiveModel(source, { batchMs: 5, now: () => clock });
  // Given a render that takes 100 ms of the event loop (the clock moves while the listener runs)
  model.subscribe(() => {
    clock += 100;
  });
  emit(ready);
  // Then the next snapshot waits four times what the render cost, not the 5 ms batch
  await waitUntil(() => model.batchWaitMs === 100 * RENDER_COST_FACTOR, 'a longer wait after a costly render');
  // And once drawing is cheap again, the wait goes back to the batch
  model.subscribe(() => (clock -= 100));
  emit({ type: 'event', event: event(1), foreign: false });
  clock += 10_000;
  await waitUntil(() => (model.getSnapshot().rows.length === 1 ? true : null), 'the event shown');
  await waitUntil(() => model.batchWaitMs === 5, 'the batch wait again');
  model.dispose();
});
