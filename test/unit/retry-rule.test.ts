import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_RETRY_DELAY_MS, retryDelay } from '../../src/core/delivery/forwarder.js';
import { isUnreachable, retryRule } from '../../src/core/delivery/retry-rule.js';

const outcome = (status: number | null, error: string | null = null) => ({ status, error });

test('the retry rule: what each outcome leaves the event in, and what comes next', () => {
  const first = { retry: 0, retries: 3 };
  // Given an attempt's outcome, Then its delivery state and the next step
  assert.deepEqual(retryRule(outcome(200), first), { delivery: 'delivered', next: 'done' });
  assert.deepEqual(retryRule(outcome(204), first), { delivery: 'delivered', next: 'done' });
  // The handler's own answer is final: a 4xx, a redirect
  assert.deepEqual(retryRule(outcome(422), first), { delivery: 'failed', next: 'done' });
  assert.deepEqual(retryRule(outcome(302), first), { delivery: 'failed', next: 'done' });
  // A host that does not resolve is a typo, not a handler that is down
  assert.deepEqual(retryRule(outcome(null, 'ENOTFOUND'), first), { delivery: 'failed', next: 'done' });
  // Cut short by a shutdown: pending for the next start, nothing now
  assert.deepEqual(retryRule(outcome(null, 'ABORTED'), first), { delivery: 'pending', next: 'done' });
  // Nothing listens: the event waits for the handler
  for (const code of ['ECONNREFUSED', 'ECONNRESET', 'CONNECT_TIMEOUT', 'EHOSTUNREACH', 'EAI_AGAIN']) {
    assert.equal(isUnreachable(code), true, code);
    assert.deepEqual(retryRule(outcome(null, code), first), { delivery: 'pending', next: 'park' }, code);
  }
  // A 5xx or a timeout is retried while retries are left, then final
  assert.deepEqual(retryRule(outcome(503), first), { delivery: 'pending', next: 'retry' });
  assert.deepEqual(retryRule(outcome(null, 'TIMEOUT'), { retry: 2, retries: 3 }), { delivery: 'pending', next: 'retry' });
  assert.deepEqual(retryRule(outcome(500), { retry: 3, retries: 3 }), { delivery: 'failed', next: 'done' });
  // --retry 0: every failure is final, an unreachable handler too
  assert.deepEqual(retryRule(outcome(503), { retry: 0, retries: 0 }), { delivery: 'failed', next: 'done' });
  assert.deepEqual(retryRule(outcome(null, 'ECONNREFUSED'), { retry: 0, retries: 0 }), { delivery: 'failed', next: 'done' });
  assert.equal(isUnreachable('ENOTFOUND'), false);
  assert.equal(isUnreachable(null), false);
});

test('retry delays double from --retry-backoff, with jitter above the nominal delay only, and a cap', () => {
  // Given the lowest and the highest random draw
  const low = () => 0;
  const high = () => 0.999999;
  // Then no retry comes sooner than asked, and at most a quarter later
  assert.equal(retryDelay(1, 1_000, high), 1_000);
  assert.equal(retryDelay(1, 1_000, low), 1_250);
  assert.equal(retryDelay(2, 1_000, high), 2_000);
  assert.equal(retryDelay(3, 1_000, high), 4_000);
  assert.equal(retryDelay(3, 1_000, low), 5_000);
  // And the delays spread between those bounds
  const spread = new Set(Array.from({ length: 20 }, (_, i) => retryDelay(1, 1_000, () => i / 20)));
  assert.ok(spread.size > 10, `${spread.size} distinct delays`);
  // And none is over the cap, however many retries
  assert.equal(retryDelay(40, 1_000, low), MAX_RETRY_DELAY_MS);
  assert.ok(retryDelay(40, 1_000, high) >= MAX_RETRY_DELAY_MS * 0.8);
});
