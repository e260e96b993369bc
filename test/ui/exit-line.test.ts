import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyStats } from '../../src/core/session.js';
import { exitLines } from '../../src/ui/start.js';

test('the exit line counts events and attempts apart, and says what still waits for the handler', () => {
  // Given a run with 5 captured events, 2 of them still waiting, and a replay
  const stats = { ...emptyStats(), captured: 5, delivered: 2, failed: 1, waiting: 2, attempts: { ok: 3, failed: 4 } };
  // Then the exit lines say so
  assert.deepEqual(exitLines(stats, '/tmp/store'), [
    'mftg-hooks: captured 5 events (2 forwarded ok, 1 failed, 2 waiting); 7 handler attempts (3 ok, 4 failed: forwards, retries and replays); they stay in /tmp/store (mftg-hooks events list)',
    'mftg-hooks: 2 events still waiting for the handler: they are re-delivered at the next start',
  ]);
  // And a quiet run says only what it captured
  assert.deepEqual(exitLines({ ...emptyStats(), captured: 1, delivered: 1 }, '/s'), ['mftg-hooks: captured 1 event (1 forwarded ok, 0 failed, 0 waiting); they stay in /s (mftg-hooks events list)']);
});
