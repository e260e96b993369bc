/**
 * Exponential backoff with "equal jitter": attempt 1 waits between half of and `initialMs`, each
 * further attempt doubles that, capped at `maxMs`. Callers that failed together do not come back
 * together. (The same signature as the shared backoff helper the rest of core moves to.)
 */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export function backoffDelay(attempt: number, { initialMs, maxMs }: BackoffOptions): number {
  const capped = Math.min(maxMs, initialMs * 2 ** Math.min(Math.max(attempt, 1) - 1, 30));
  return Math.round(capped * (0.5 + Math.random() * 0.5));
}
