import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DeliveryLedger, deliveryStateOf } from '../../src/core/delivery-state.js';
import type { CapturedEvent, ForwardAttempt } from '../../src/core/types.js';

const base: CapturedEvent = { id: '01abcdefghjkmn', receivedAt: '2026-01-01T00:00:00.000Z', method: 'POST', path: '/', headers: [], remoteAddress: null, size: 0, mftg: null };
let n = 0;
const attempt = (kind: ForwardAttempt['kind'], status: number | null, delivery?: ForwardAttempt['delivery']): ForwardAttempt => ({
  id: `a${++n}`,
  eventId: base.id,
  kind,
  target: 'http://127.0.0.1:1/hook',
  startedAt: base.receivedAt,
  status,
  error: status === null ? 'ECONNREFUSED' : null,
  durationMs: 1,
  responseHeaders: [],
  responseSize: 0,
  modified: false,
  ...(delivery ? { delivery } : {}),
});
const stateOf = (forward: boolean, ...attempts: ForwardAttempt[]) => deliveryStateOf({ ...base, ...(forward ? { forward: true as const } : {}), attempts });

test('delivery state from the stored record alone', () => {
  // Stored with a target, no attempt recorded (in flight at a crash, or parked): pending
  assert.equal(stateOf(true), 'pending');
  // The forwarder's decision after each attempt
  assert.equal(stateOf(true, attempt('forward', null, 'pending')), 'pending');
  assert.equal(stateOf(true, attempt('forward', 503, 'pending'), attempt('retry', 503, 'failed')), 'failed');
  assert.equal(stateOf(true, attempt('forward', 422, 'failed')), 'failed');
  // Any 2xx delivers, whatever came before or after
  assert.equal(stateOf(true, attempt('forward', 422, 'failed'), attempt('replay', 200), attempt('replay', 500)), 'delivered');
  // A failed replay leaves a pending event pending and a failed one failed
  assert.equal(stateOf(true, attempt('forward', null, 'pending'), attempt('replay', 500)), 'pending');
  assert.equal(stateOf(true, attempt('forward', 404, 'failed'), attempt('replay', 500)), 'failed');
  // Captured without a target: not meant for the handler, unless a replay of it failed
  assert.equal(stateOf(false), null);
  assert.equal(stateOf(false, attempt('replay', 500)), 'failed');
  // Stored by an earlier version (no marker, no decision): a failed forward counts as final
  assert.equal(stateOf(false, attempt('forward', null)), 'failed');
});

test('the ledger counts events, not attempts: a replay of a delivered event is not a second delivery', () => {
  const ledger = new DeliveryLedger(10);
  const a = (id: string, status: number | null, kind: ForwardAttempt['kind'], delivery?: ForwardAttempt['delivery']): ForwardAttempt => ({ ...attempt(kind, status, delivery), eventId: id });
  ledger.track('e1');
  ledger.track('e2');
  assert.equal(ledger.pendingCount, 2);
  ledger.apply(a('e1', 200, 'forward', 'delivered'));
  ledger.apply(a('e1', 200, 'replay'));
  ledger.apply(a('e2', 503, 'forward', 'pending'));
  assert.deepEqual([ledger.delivered, ledger.failedCount, ledger.pendingCount], [1, 0, 1]);
  ledger.apply(a('e2', 503, 'retry', 'failed'));
  assert.deepEqual([ledger.delivered, ledger.failedCount, ledger.pendingCount], [1, 1, 0]);
  // A failed replay of a failed event changes nothing; a successful one moves it to delivered
  ledger.apply(a('e2', 500, 'replay'));
  assert.deepEqual([ledger.delivered, ledger.failedCount, ledger.pendingCount], [1, 1, 0]);
  ledger.apply(a('e2', 204, 'replay'));
  assert.deepEqual([ledger.delivered, ledger.failedCount, ledger.pendingCount], [2, 0, 0]);
  // Attempts on events that are not this listener's change no counter
  assert.equal(ledger.apply(a('other', 200, 'replay')), null);
  assert.deepEqual([ledger.delivered, ledger.failedCount, ledger.pendingCount], [2, 0, 0]);
});
