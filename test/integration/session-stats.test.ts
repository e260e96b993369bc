import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newId } from '../../src/core/ids.js';
import { EventStore } from '../../src/core/store/store.js';
import { startRecordingHandler } from '../helpers/recording-handler.js';
import { startSession } from '../helpers/session.js';
import { storedAttempt } from '../helpers/store-fixtures.js';
import { waitUntil } from '../helpers/temp.js';

test('attempts written by another process (a replay in a second terminal) are shown and counted', async (t) => {
  const { session, elements, storeDir, close } = await startSession();
  t.after(close);
  // Given a captured event (no forward target: nothing counted yet)
  assert.equal((await fetch(session.captureUrl, { method: 'POST', body: '{"eventType":"MESSAGE.SEND.SUCCESS"}' })).status, 200);
  const event = await waitUntil(() => elements.find((e) => e.type === 'event'), 'the event');
  if (event.type !== 'event') throw new Error('unreachable');
  assert.deepEqual([session.stats.attempts.ok, session.stats.attempts.failed], [0, 0]);
  // When another process records a successful and a failed replay of it
  const other = await EventStore.open(storeDir);
  const replay = (status: number | null) => storedAttempt(event.event.id, status, { kind: 'replay' });
  await other.appendAttempt(replay(204), Buffer.alloc(0));
  await other.appendAttempt(replay(null), Buffer.alloc(0));
  // Then the listener reports both as foreign attempts and counts them
  await waitUntil(() => elements.filter((e) => e.type === 'attempt' && e.foreign).length === 2, 'two foreign attempts');
  assert.deepEqual([session.stats.attempts.ok, session.stats.attempts.failed], [1, 1]);
});

test('event counters count events: retries and replays are attempts, and a delivered replay moves an event from failed to delivered', async (t) => {
  const handler = await startRecordingHandler();
  // Given a handler that answers by tag: "ok" 200, "bad" 422, "flaky" 503 then 200
  const seen = new Map<string, number>();
  handler.respond((req, res) => {
    const tag = String(req.headers['x-tag']);
    const count = (seen.get(tag) ?? 0) + 1;
    seen.set(tag, count);
    res.writeHead(tag === 'bad' ? 422 : tag === 'flaky' && count === 1 ? 503 : 200);
    res.end();
  });
  const { session, elements, storeDir, close } = await startSession({ targets: { forwardTo: handler.url, routes: {} }, retries: 3, retryBackoffMs: 20 });
  t.after(async () => {
    await close();
    await handler.close();
  });
  const capture = async (tag: string): Promise<string> => {
    assert.equal((await fetch(session.captureUrl, { method: 'POST', body: `{"tag":"${tag}"}`, headers: { 'x-tag': tag } })).status, 200);
    const found = await waitUntil(() => elements.find((e) => e.type === 'event' && !e.foreign && e.event.path === '/' && !known.has(e.event.id)), `the ${tag} event`);
    if (found.type !== 'event') throw new Error('unreachable');
    known.add(found.event.id);
    return found.event.id;
  };
  const known = new Set<string>();
  const counters = () => [session.stats.captured, session.stats.delivered, session.stats.failed, session.stats.waiting, session.stats.attempts.ok, session.stats.attempts.failed];
  // When three events are forwarded (one retried once)
  const ok = await capture('ok');
  const bad = await capture('bad');
  await capture('flaky');
  await waitUntil(() => session.stats.delivered === 2 && session.stats.failed === 1, 'settled counters');
  // Then three events: 2 delivered, 1 failed, none waiting; four attempts: 2 ok, the 503 and the 422 failed
  assert.deepEqual(counters(), [3, 2, 1, 0, 2, 2]);
  // When the failed event is replayed successfully from another terminal, and a delivered one again
  const other = await EventStore.open(storeDir);
  const replay = (eventId: string, status: number) => ({
    id: newId(),
    eventId,
    kind: 'replay' as const,
    target: handler.url,
    startedAt: new Date().toISOString(),
    status,
    error: null,
    durationMs: 1,
    responseHeaders: [],
    responseSize: 0,
    modified: false,
  });
  await other.appendAttempt(replay(bad, 200), Buffer.alloc(0));
  await waitUntil(() => session.stats.delivered === 3, 'the replay moving the event to delivered');
  assert.deepEqual(counters(), [3, 3, 0, 0, 3, 2]);
  // And a replay of an already delivered event is one more attempt, not one more delivered event
  await session.replay(ok);
  assert.deepEqual(counters(), [3, 3, 0, 0, 4, 2]);
  // And a failed replay of a delivered event leaves it delivered
  await session.replay(bad);
  assert.deepEqual(counters(), [3, 3, 0, 0, 4, 3]);
});
