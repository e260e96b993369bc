import { isSuccess, type DeliveryState, type ForwardAttempt } from '../types.js';

/**
 * Errors that mean "nothing is listening there": the event waits until the handler is back.
 * ENOTFOUND is not one: a host that does not resolve is a typo in the target, not a handler that is
 * down (EAI_AGAIN, a resolver that did not answer, is).
 */
const UNREACHABLE_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'CONNECT_TIMEOUT', 'EPIPE']);

export function isUnreachable(error: string | null): boolean {
  return error !== null && UNREACHABLE_ERRORS.has(error);
}

/**
 * What follows an automatic attempt: `done` (nothing more), `retry` (again after a backoff delay),
 * `park` (wait, in arrival order, until the handler's origin accepts connections again).
 */
export type NextStep = 'done' | 'park' | 'retry';

export interface RetryContext {
  /** The number of the attempt just made: 0 = the first forward, 1 = the first retry, … */
  retry: number;
  /** `--retry`: how many automatic retries an event gets. */
  retries: number;
}

/**
 * The one retryability rule: the delivery state an attempt leaves its event in, and what happens
 * next. A 2xx delivers. The handler's own answer (a 4xx, a redirect) and a host that does not
 * resolve are final (sending again changes nothing). An attempt cut short by a shutdown stays pending
 * for the next start. With `--retry 0` every failure is final. An unreachable handler parks the
 * event; a timeout, a 5xx or a reset mid-answer are retried until the retries are used up.
 */
export function retryRule(outcome: Pick<ForwardAttempt, 'status' | 'error'>, context: RetryContext): { delivery: DeliveryState; next: NextStep } {
  if (isSuccess(outcome)) return { delivery: 'delivered', next: 'done' };
  if (outcome.status !== null && outcome.status < 500) return { delivery: 'failed', next: 'done' };
  if (outcome.error === 'ENOTFOUND') return { delivery: 'failed', next: 'done' };
  if (outcome.error === 'ABORTED') return { delivery: 'pending', next: 'done' };
  if (context.retries === 0) return { delivery: 'failed', next: 'done' };
  if (isUnreachable(outcome.error)) return { delivery: 'pending', next: 'park' };
  if (context.retry < context.retries) return { delivery: 'pending', next: 'retry' };
  return { delivery: 'failed', next: 'done' };
}
