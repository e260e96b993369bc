import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Agent } from 'undici';
import { Forwarder, type PendingDelivery } from '../../src/core/forwarder.js';
import { Attempts, type SendResult } from '../../src/core/delivery/attempts.js';
import type { CapturedEvent } from '../../src/core/types.js';
import { waitUntil } from '../helpers/temp.js';

test('a handler host that does not resolve is one failed attempt, not retried and not waited for', async (t) => {
  // Given a resolver that does not know the host (what `localhsot` gets from DNS), without the network
  let connects = 0;
  const dispatcher = new Agent({
    connect: (_options, callback) => {
      connects++;
      callback(Object.assign(new Error('getaddrinfo ENOTFOUND localhsot'), { code: 'ENOTFOUND' }), null);
    },
  });
  t.after(() => dispatcher.close());
  const recorded: SendResult[] = [];
  const pending: Array<PendingDelivery | null> = [];
  const forwarder = new Forwarder({
    targets: { forwardTo: 'http://localhsot:3000/hook', routes: {} },
    timeoutMs: 5_000,
    retries: 3,
    retryBackoffMs: 50,
    attempts: new Attempts({ dispatcher, record: async (result) => void recorded.push(result) }),
    loadBody: () => Promise.reject(new Error('not stored')),
    onPending: (_id, state) => pending.push(state),
  });
  t.after(() => forwarder.close());
  const event: CapturedEvent = { id: '01abcdefghjkmn', receivedAt: new Date().toISOString(), method: 'POST', path: '/', headers: [], remoteAddress: null, size: 2, mftg: null, forward: true };
  // When an event is forwarded there
  forwarder.deliver(event, Buffer.from('{}'));
  await waitUntil(() => pending.length > 0, 'the outcome');
  // Then one attempt, ENOTFOUND, left failed; no retry scheduled and no wait for the handler
  assert.deepEqual(
    recorded.map((r) => [r.attempt.kind, r.attempt.error, r.attempt.delivery]),
    [['forward', 'ENOTFOUND', 'failed']],
  );
  assert.deepEqual(pending, [null]);
  assert.equal(connects, 1);
});
