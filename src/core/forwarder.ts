import { setMaxListeners } from 'node:events';
import { connect } from 'node:net';
import type { Dispatcher } from 'undici';
import { isUnreachable, joinTarget, send, type SendResult } from './http-send.js';
import { isSuccess, type CapturedEvent, type ForwardAttempt } from './types.js';

/** Default automatic retries of a failed forward (`--retry`). */
export const DEFAULT_RETRIES = 3;
/** Default first retry delay (`--retry-backoff`); it doubles per retry. */
export const DEFAULT_RETRY_BACKOFF_MS = 1_000;
/** No retry waits longer than this. */
export const MAX_RETRY_DELAY_MS = 30_000;
/** Bodies of events waiting for an unreachable handler are kept in memory up to this; beyond, re-read from the store. */
export const PARKED_BODY_BUDGET_BYTES = 32 * 1024 * 1024;
/** How often an unreachable handler is probed (a TCP connect), at most. */
export const MAX_PROBE_INTERVAL_MS = 1_000;

/** Where events go: `--forward-to` and `--route TYPE=url`. */
export interface Targets {
  forwardTo: string | null;
  routes: Record<string, string>;
}

/** The handler base URL for an event (routes by eventType first), or null for none. */
export function targetFor(targets: Targets, eventType: string | null | undefined): string | null {
  if (eventType && Object.hasOwn(targets.routes, eventType)) return targets.routes[eventType]!;
  return targets.forwardTo;
}

export interface ForwarderOptions {
  targets: Targets;
  timeoutMs: number;
  retries: number;
  retryBackoffMs: number;
  dispatcher: Dispatcher;
  /** Stores and announces an attempt (the store is the only owner of attempts once made). */
  record: (result: SendResult) => Promise<void>;
  /** Reads a body back from the store when it was not kept in memory. */
  loadBody: (eventId: string) => Promise<Buffer>;
  /** Announces that an event waits: for a retry at `at`, or for an unreachable handler to answer. */
  onPending?: (eventId: string, pending: PendingDelivery | null) => void;
}

export type PendingDelivery = { state: 'retry-scheduled'; at: number; retry: number; of: number } | { state: 'waiting-for-handler'; target: string };

interface ParkedEvent {
  event: CapturedEvent;
  body: Buffer | null;
  target: string;
}

/** Events that wait for one unreachable handler origin, in arrival order. */
interface Outage {
  origin: string;
  host: string;
  port: number;
  queue: ParkedEvent[];
  probing: boolean;
  timer: NodeJS.Timeout | null;
}

/**
 * Delivers captured events to the developer's handler. Failed forwards are retried with backoff
 * (connection errors, timeouts, 5xx; never 4xx). When the handler is unreachable, events wait in
 * arrival order and are re-delivered once a probe finds it listening again.
 */
export class Forwarder {
  private readonly options: ForwarderOptions;
  private readonly outages = new Map<string, Outage>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private parkedBodyBytes = 0;
  private closed = false;
  /** Aborts requests still on the wire at shutdown (with `--timeout 0` they could wait forever). */
  private readonly shutdown = new AbortController();

  constructor(options: ForwarderOptions) {
    this.options = options;
    // One listener per request on the wire: many is normal, not a leak.
    setMaxListeners(0, this.shutdown.signal);
  }

  get targets(): Targets {
    return this.options.targets;
  }

  /** Forwards a just-captured event; returns at once (capture never waits for the handler). */
  deliver(event: CapturedEvent, body: Buffer): void {
    const base = targetFor(this.options.targets, event.mftg?.eventType);
    if (!base || this.closed) return;
    const target = joinTarget(base, event.path);
    const outage = this.outages.get(new URL(target).origin);
    if (outage) return this.park(outage, { event, body, target });
    this.track(this.attempt(event, body, target, 'forward', 0));
  }

  /** Events currently waiting for an unreachable handler. */
  get waitingCount(): number {
    let count = 0;
    for (const outage of this.outages.values()) count += outage.queue.length;
    return count;
  }

  private track(work: Promise<unknown>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private async attempt(event: CapturedEvent, body: Buffer, target: string, kind: 'forward' | 'retry', retry: number): Promise<ForwardAttempt> {
    const result = await send({ eventId: event.id, kind, target, method: event.method, headers: event.headers, body, timeoutMs: this.options.timeoutMs, dispatcher: this.options.dispatcher, signal: this.shutdown.signal });
    await this.options.record(result);
    const { attempt } = result;
    if (isSuccess(attempt) || this.closed || this.options.retries === 0) {
      this.options.onPending?.(event.id, null);
      return attempt;
    }
    if (isUnreachable(attempt.error)) {
      this.park(this.outageFor(target), { event, body, target });
    } else if (attempt.error !== null || (attempt.status !== null && attempt.status >= 500)) {
      if (retry < this.options.retries) this.scheduleRetry(event, body, target, retry + 1);
      else this.options.onPending?.(event.id, null);
    } else {
      this.options.onPending?.(event.id, null);
    }
    return attempt;
  }

  private scheduleRetry(event: CapturedEvent, body: Buffer, target: string, retry: number): void {
    const delay = Math.min(this.options.retryBackoffMs * 2 ** (retry - 1), MAX_RETRY_DELAY_MS);
    this.options.onPending?.(event.id, { state: 'retry-scheduled', at: Date.now() + delay, retry, of: this.options.retries });
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      if (this.closed) return;
      const outage = this.outages.get(new URL(target).origin);
      if (outage) this.park(outage, { event, body, target });
      else this.track(this.attempt(event, body, target, 'retry', retry));
    }, delay);
    this.retryTimers.add(timer);
  }

  private outageFor(target: string): Outage {
    const url = new URL(target);
    let outage = this.outages.get(url.origin);
    if (!outage) {
      const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
      outage = { origin: url.origin, host: url.hostname.replace(/^\[|\]$/g, ''), port, queue: [], probing: false, timer: null };
      this.outages.set(url.origin, outage);
      this.scheduleProbe(outage);
    }
    return outage;
  }

  private park(outage: Outage, parked: ParkedEvent): void {
    if (parked.body && this.parkedBodyBytes + parked.body.length > PARKED_BODY_BUDGET_BYTES) parked.body = null;
    if (parked.body) this.parkedBodyBytes += parked.body.length;
    // Keep arrival order: a retried event re-enters before events that arrived after it.
    const at = outage.queue.findIndex((queued) => queued.event.id > parked.event.id);
    if (at < 0) outage.queue.push(parked);
    else outage.queue.splice(at, 0, parked);
    this.options.onPending?.(parked.event.id, { state: 'waiting-for-handler', target: parked.target });
  }

  private scheduleProbe(outage: Outage): void {
    const interval = Math.min(MAX_PROBE_INTERVAL_MS, Math.max(50, this.options.retryBackoffMs));
    outage.timer = setTimeout(() => void this.probe(outage), interval);
  }

  /** A TCP connect: cheap, and enough to know that something listens again. */
  private isListening(outage: Outage): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = connect({ host: outage.host, port: outage.port });
      const done = (up: boolean): void => {
        socket.destroy();
        resolve(up);
      };
      socket.setTimeout(MAX_PROBE_INTERVAL_MS, () => done(false));
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
    });
  }

  private async probe(outage: Outage): Promise<void> {
    outage.timer = null;
    if (this.closed) return;
    if (await this.isListening(outage)) await this.redeliver(outage);
    if (this.closed) return;
    if (outage.queue.length === 0) this.outages.delete(outage.origin);
    else this.scheduleProbe(outage);
  }

  /** Re-delivers waiting events one by one, in arrival order, until the queue is empty or the handler is gone again. */
  private async redeliver(outage: Outage): Promise<void> {
    while (outage.queue.length > 0 && !this.closed) {
      const parked = outage.queue[0]!;
      const body = parked.body ?? (await this.options.loadBody(parked.event.id).catch(() => null));
      if (body === null) {
        outage.queue.shift();
        continue;
      }
      const result = await send({ eventId: parked.event.id, kind: 'retry', target: parked.target, method: parked.event.method, headers: parked.event.headers, body, timeoutMs: this.options.timeoutMs, dispatcher: this.options.dispatcher, signal: this.shutdown.signal });
      await this.options.record(result);
      if (isUnreachable(result.attempt.error)) return;
      outage.queue.shift();
      if (parked.body) this.parkedBodyBytes -= parked.body.length;
      const { attempt } = result;
      const retryable = !isSuccess(attempt) && (attempt.error !== null || (attempt.status ?? 0) >= 500);
      if (retryable && this.options.retries > 1) this.scheduleRetry(parked.event, body, parked.target, 2);
      else this.options.onPending?.(parked.event.id, null);
    }
  }

  /** Stops retrying and probing, and waits for attempts already on the wire to be recorded. */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    for (const outage of this.outages.values()) if (outage.timer) clearTimeout(outage.timer);
    this.shutdown.abort();
    await Promise.allSettled([...this.inFlight]);
  }
}
