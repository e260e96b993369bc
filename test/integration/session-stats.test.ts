import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newId } from '../../src/core/ids.js';
import { EventStore } from '../../src/core/store/store.js';
import { startSession } from '../helpers/session.js';
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
  const replay = (status: number | null) => ({
    id: newId(), eventId: event.event.id, kind: 'replay' as const, target: 'http://127.0.0.1:1/hook', startedAt: new Date().toISOString(),
    status, error: status === null ? 'ECONNREFUSED' : null, durationMs: 1, responseHeaders: [], responseSize: 0, modified: false,
  });
  await other.appendAttempt(replay(204), Buffer.alloc(0));
  await other.appendAttempt(replay(null), Buffer.alloc(0));
  // Then the listener reports both as foreign attempts and counts them
  await waitUntil(() => elements.filter((e) => e.type === 'attempt' && e.foreign).length === 2, 'two foreign attempts');
  assert.deepEqual([session.stats.attempts.ok, session.stats.attempts.failed], [1, 1]);
});
