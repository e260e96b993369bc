import { isSuccess, type CapturedEvent, type DeliveryState, type EventRecord, type ForwardAttempt } from './types.js';

/**
 * The delivery state of a stored event, from its record and attempts alone (the store is the single
 * source of truth, and a killed process leaves nothing else behind):
 * - any attempt with a 2xx (forward, retry or replay, to any target) → `delivered`;
 * - otherwise the state the last forwarder decision left (`ForwardAttempt.delivery`): an attempt cut
 *   short or never recorded (in flight at a crash, parked while the handler was down) leaves the
 *   event `pending`, as it was when it was stored with a target (`CapturedEvent.forward`);
 * - a failed replay changes nothing, except that an event nobody forwarded (captured without a
 *   target) counts as `failed` once a replay of it failed;
 * - a failed forward stored by an earlier version (no `delivery`) counts as `failed`, so upgrading
 *   never re-sends old events on its own.
 * Null: never forwarded and not meant to be (captured without a target, or by an earlier version).
 */
export function deliveryStateOf(event: CapturedEvent & { attempts: readonly ForwardAttempt[] }): DeliveryState | null {
  let state: DeliveryState | null = event.forward ? 'pending' : null;
  for (const attempt of event.attempts) {
    if (isSuccess(attempt)) return 'delivered';
    if (attempt.delivery) state = attempt.delivery;
    else if (attempt.kind !== 'replay' || state === null) state = 'failed';
  }
  return state;
}

/** True for events that are not delivered but were meant to be: `events list --failed`, `replay --failed`. */
export function isUndelivered(event: CapturedEvent & { attempts: readonly ForwardAttempt[] }): boolean {
  const state = deliveryStateOf(event);
  return state === 'pending' || state === 'failed';
}

/** Events the next listener with a target re-delivers. */
export function isPending(event: EventRecord): boolean {
  return deliveryStateOf(event) === 'pending';
}

/**
 * The event counters of one listener: which of its events (captured by it, or left pending by an
 * earlier run and picked up) are pending or failed, and how many it saw delivered. Delivered events
 * are not remembered one by one, so memory stays bounded by what is still open; the failed ids are
 * capped at `maxFailedIds` (the store keeps no more events than that anyway).
 */
export class DeliveryLedger {
  private readonly pending = new Set<string>();
  private readonly failed = new Set<string>();
  private readonly maxFailedIds: number;
  delivered = 0;
  failedCount = 0;

  constructor(maxFailedIds: number) {
    this.maxFailedIds = Math.max(1, maxFailedIds);
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** A new event that will be forwarded, or one left pending by an earlier run. */
  track(eventId: string): void {
    if (this.failed.has(eventId)) {
      this.failed.delete(eventId);
      this.failedCount--;
    }
    this.pending.add(eventId);
  }

  isPending(eventId: string): boolean {
    return this.pending.has(eventId);
  }

  /**
   * Applies an attempt (this listener's, or a replay from anywhere). Returns the event's new state
   * when it changed, else null. A replay of an event already delivered is an attempt, not a second
   * delivery; an event that failed and is then delivered by a replay moves from failed to delivered.
   */
  apply(attempt: ForwardAttempt): DeliveryState | null {
    const id = attempt.eventId;
    const from: DeliveryState | null = this.pending.has(id) ? 'pending' : this.failed.has(id) ? 'failed' : null;
    if (from === null) return null; // delivered already, or not this listener's event
    const to: DeliveryState = isSuccess(attempt) ? 'delivered' : (attempt.delivery ?? from);
    if (to === from) return null;
    if (from === 'pending') this.pending.delete(id);
    else {
      this.failed.delete(id);
      this.failedCount--;
    }
    if (to === 'delivered') this.delivered++;
    else if (to === 'failed') {
      this.failed.add(id);
      this.failedCount++;
      if (this.failed.size > this.maxFailedIds) {
        // The oldest one is gone from the store by now; only the count is kept.
        const oldest = this.failed.values().next().value as string;
        this.failed.delete(oldest);
      }
    } else this.pending.add(id);
    return to;
  }
}
