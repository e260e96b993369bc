// What a face may know of delivery without reaching it: where an event goes and why it waits.

/** Where events are forwarded: `--route` targets by eventType, else `--forward-to`. */
export interface Targets {
  forwardTo: string | null;
  routes: Record<string, string>;
}

/** The handler base URL for an event (routes by eventType first), or null for none. */
export function targetFor(targets: Targets, eventType: string | null | undefined): string | null {
  if (eventType && Object.hasOwn(targets.routes, eventType)) return targets.routes[eventType]!;
  return targets.forwardTo;
}

/**
 * Why an event waits:
 * - `retry-scheduled`: retry `retry` of `of` goes out at `at` (epoch ms);
 * - `waiting-for-handler`: the handler's origin does not accept connections (`reason`: the error
 *   code); `answeredBefore` says whether it answered at all during this run (then it is "down
 *   again", else perhaps not started yet or a wrong port);
 * - `queued`: waits its turn behind older events for the same handler (re-delivery in arrival order).
 */
export type PendingDelivery =
  | { state: 'retry-scheduled'; at: number; retry: number; of: number }
  | { state: 'waiting-for-handler'; target: string; reason?: string | null; answeredBefore?: boolean }
  | { state: 'queued'; target: string };
