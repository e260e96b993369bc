/**
 * Exponential backoff with jitter and a cap: the one schedule for everything in core that tries
 * again (tunnel rebuilds; forward retries can use it too).
 */
export interface BackoffPolicy {
  /** Delay before the first retry (before jitter). */
  initialMs: number;
  /** No delay is longer than this. */
  maxMs: number;
  /**
   * Share of each delay that is random: 0 = exact delays, 0.5 = "equal jitter" (a value between
   * half and all of the delay, the default), 1 = "full jitter" (between 0 and all of it). Clients
   * that failed together (a restart of the public tunnel service) then do not come back together.
   */
  jitter?: number;
}

/**
 * The delay before retry `attempt` (1 for the first): `min(maxMs, initialMs * 2^(attempt-1))`, less
 * a random share of up to `jitter` of it. `random` returns values in [0, 1) (tests pass their own).
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const { initialMs, maxMs } = policy;
  const jitter = Math.min(1, Math.max(0, policy.jitter ?? 0.5));
  // The exponent is bounded so a long outage cannot overflow to Infinity.
  const capped = Math.min(maxMs, initialMs * 2 ** Math.min(Math.max(attempt, 1) - 1, 30));
  return Math.round(capped * (1 - jitter * random()));
}
