import { setMaxListeners } from 'node:events';
import { connect, type Socket } from 'node:net';
import { backoffDelay } from '../backoff.js';
import { joinTarget } from '../http-send.js';
import type { CapturedEvent, EventRecord, ForwardAttempt } from '../types.js';
import type { Attempts } from './attempts.js';
import { retryRule, type NextStep } from './retry-rule.js';
import { targetFor, type PendingDelivery, type Targets } from './targets.js';

export { targetFor, type PendingDelivery, type Targets };

/** Default automatic retries of a failed forward (`--retry`). */
export const DEFAULT_RETRIES = 3;
/** Default first retry delay (`--retry-backoff`); it doubles per retry. */
export const DEFAULT_RETRY_BACKOFF_MS = 1_000;
/** No retry waits longer than this. */
export const MAX_RETRY_DELAY_MS = 30_000;
/**
 * Retry delays are spread up to this share above the nominal one (`--retry-backoff`, doubled per
 * retry), never below it: events that failed together (a handler restart) are not all retried in the
 * same millisecond, and a retry never comes sooner than the user asked.
 */
export const RETRY_JITTER = 0.25;

/**
 * The delay before retry `retry` (1 for the first): from `backoffMs * 2^(retry-1)` up to RETRY_JITTER
 * more; near the cap, from 80 % to all of MAX_RETRY_DELAY_MS. Built on the one backoff helper.
 */
export function retryDelay(retry: number, backoffMs: number, random: () => number = Math.random): number {
  // backoffDelay takes a random share off the top: starting that much higher makes the nominal delay the floor.
  const jitter = RETRY_JITTER / (1 + RETRY_JITTER);
  return backoffDelay(retry, { initialMs: backoffMs * (1 + RETRY_JITTER), maxMs: MAX_RETRY_DELAY_MS, jitter }, random);
}
/** Bodies of events waiting for an unreachable handler are kept in memory up to this; beyond, re-read from the store. */
export const PARKED_BODY_BUDGET_BYTES = 32 * 1024 * 1024;
/** How often an unreachable handler is probed (a TCP connect), at most. */
export const MAX_PROBE_INTERVAL_MS = 1_000;
/** At shutdown, attempts on the wire get at most this long to finish (and at most the forward timeout). */
export const MAX_SHUTDOWN_GRACE_MS = 30_000;

/** Where events go: `--forward-to` and `--route TYPE=url`. */
export interface ForwarderOptions {
  targets: Targets;
  timeoutMs: number;
  retries: number;
  retryBackoffMs: number;
  /** Sends and records every attempt (the one owner of attempts). */
  attempts: Attempts;
  /** Reads a body back from the store when it was not kept in memory. */
  loadBody: (eventId: string) => Promise<Buffer>;
  /** Announces that an event waits (for a retry, for the handler, for its turn), or null when it no longer does. */
  onPending?: (eventId: string, pending: PendingDelivery | null) => void;
}

/** One event on its way: `retry` is the number of the next send (0 = the first forward). */
interface Delivery {
  event: CapturedEvent;
  body: Buffer | null;
  target: string;
  retry: number;
}

/** Events that wait for one handler origin, in arrival order: it is down, or a backlog drains. */
interface Outage {
  origin: string;
  host: string;
  port: number;
  queue: Delivery[];
  /** A connection failed (else the queue is a backlog being re-delivered in order). */
  down: boolean;
  reason: string | null;
  timer: NodeJS.Timeout | null;
  draining: boolean;
}

/**
 * Delivers captured events to the developer's handler. Failed forwards are retried with backoff
 * (connection errors, timeouts, 5xx; never 4xx, redirects or a host that does not resolve). When the
 * handler is unreachable, events wait in arrival order and are re-delivered once a probe finds it
 * listening again; events left pending by an earlier run are re-delivered the same way, before
 * newer ones. Every attempt records the delivery state it leaves its event in, so a later run knows
 * what is still pending whatever ended this one.
 */
export class Forwarder {
  private readonly options: ForwarderOptions;
  private readonly outages = new Map<string, Outage>();
  private readonly retryTimers = new Map<string, NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly probes = new Set<Socket>();
  /** Origins that gave an HTTP answer during this run. */
  private readonly answered = new Set<string>();
  /** Events with a request on the wire, and those of them delivered meanwhile by a replay. */
  private readonly onWire = new Set<string>();
  private readonly settledOnWire = new Set<string>();
  /** New events held while the leftovers of an earlier run are being found (they go after them). */
  private held: Array<{ event: CapturedEvent; body: Buffer }> | null = null;
  private parkedBodyBytes = 0;
  private closed = false;
  /** Aborts requests still on the wire at shutdown (with `--timeout 0` they could wait forever). */
  private readonly shutdown = new AbortController();

  constructor(options: ForwarderOptions) {
    this.options = options;
    // One listener per request on the wire: many is normal, not a leak.
    setMaxListeners(0, this.shutdown.signal);
  }

  /** True when a target covers the event (it will be forwarded). */
  covers(event: CapturedEvent): boolean {
    return targetFor(this.options.targets, event.mftg?.eventType) !== null;
  }

  /** Requests on the wire now. */
  get inFlightCount(): number {
    return this.onWire.size;
  }

  /** Forwards a just-captured event; returns at once (capture never waits for the handler). */
  deliver(event: CapturedEvent, body: Buffer): void {
    const base = targetFor(this.options.targets, event.mftg?.eventType);
    if (!base || this.closed) return;
    if (this.held) {
      this.held.push({ event, body });
      return;
    }
    const delivery: Delivery = { event, body, target: joinTarget(base, event.path), retry: 0 };
    const outage = this.outages.get(new URL(delivery.target).origin);
    if (outage) return this.park(outage, delivery);
    this.track(this.attempt(delivery));
  }

  /**
   * Re-delivers the events an earlier run left pending, in arrival order, before the events captured
   * meanwhile (held until `load` settles). Resolves with how many were queued.
   */
  async recover(load: () => Promise<EventRecord[]>): Promise<number> {
    this.held ??= [];
    let leftovers: EventRecord[] = [];
    try {
      leftovers = await load();
    } finally {
      const held = this.held ?? [];
      this.held = null;
      if (!this.closed) {
        for (const event of leftovers) {
          const base = targetFor(this.options.targets, event.mftg?.eventType);
          if (!base) continue;
          const target = joinTarget(base, event.path);
          const tried = event.attempts.some((attempt) => attempt.kind !== 'replay');
          this.park(this.outageFor(target, null), { event, body: null, target, retry: tried ? 1 : 0 });
        }
        for (const { event, body } of held) this.deliver(event, body);
      }
    }
    return leftovers.length;
  }

  /** The event was delivered elsewhere (a replay from another terminal): stop retrying it. */
  settle(eventId: string): void {
    if (this.onWire.has(eventId)) this.settledOnWire.add(eventId);
    const timer = this.retryTimers.get(eventId);
    if (timer) {
      clearTimeout(timer);
      this.retryTimers.delete(eventId);
    }
    for (const outage of this.outages.values()) {
      // The head of a draining queue may be on the wire: the settled mark covers it.
      const at = outage.queue.findIndex((queued, i) => queued.event.id === eventId && !(i === 0 && outage.draining));
      if (at >= 0) this.unpark(outage, at);
    }
    this.options.onPending?.(eventId, null);
  }

  private track(work: Promise<unknown>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  /** Sends once through the one owner of attempts, recorded with the retry rule's decision; returns what to do next. */
  private async send(delivery: Delivery, body: Buffer): Promise<{ attempt: ForwardAttempt; next: NextStep }> {
    const { event, target, retry } = delivery;
    let next: NextStep = 'done';
    const decide = (attempt: ForwardAttempt) => {
      // The wire is free again before the attempt is recorded: the shutdown grace counts only requests.
      this.onWire.delete(event.id);
      if (attempt.status !== null) this.answered.add(new URL(target).origin);
      const decision = retryRule(attempt, { retry, retries: this.options.retries });
      // Shutting down: nothing more starts; the event stays pending for the next start.
      next = this.closed ? 'done' : decision.next;
      return decision.delivery;
    };
    this.onWire.add(event.id);
    let attempt: ForwardAttempt;
    try {
      ({ attempt } = await this.options.attempts.attempt({
        eventId: event.id,
        kind: retry === 0 ? 'forward' : 'retry',
        target,
        method: event.method,
        headers: event.headers,
        body,
        timeoutMs: this.options.timeoutMs,
        signal: this.shutdown.signal,
        decide,
      }));
    } finally {
      this.onWire.delete(event.id);
    }
    if (this.settledOnWire.delete(event.id)) return { attempt, next: 'done' };
    return { attempt, next };
  }

  private async attempt(delivery: Delivery): Promise<void> {
    const body = delivery.body ?? (await this.options.loadBody(delivery.event.id).catch(() => null));
    if (body === null) return this.options.onPending?.(delivery.event.id, null);
    const { attempt, next } = await this.send(delivery, body);
    if (next === 'park') this.park(this.outageFor(delivery.target, attempt.error), { ...delivery, body, retry: delivery.retry + 1 });
    else if (next === 'retry') this.scheduleRetry({ ...delivery, body, retry: delivery.retry + 1 });
    else this.options.onPending?.(delivery.event.id, null);
  }

  private scheduleRetry(delivery: Delivery): void {
    const { event, retry } = delivery;
    const delay = retryDelay(retry, this.options.retryBackoffMs);
    this.options.onPending?.(event.id, { state: 'retry-scheduled', at: Date.now() + delay, retry, of: this.options.retries });
    const timer = setTimeout(() => {
      this.retryTimers.delete(event.id);
      if (this.closed) return;
      const outage = this.outages.get(new URL(delivery.target).origin);
      if (outage) this.park(outage, delivery);
      else this.track(this.attempt(delivery));
    }, delay);
    this.retryTimers.set(event.id, timer);
  }

  /** The queue for a target's origin; a new one is probed soon (`reason` null: a backlog, probed at once). */
  private outageFor(target: string, reason: string | null): Outage {
    const url = new URL(target);
    let outage = this.outages.get(url.origin);
    if (!outage) {
      const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
      outage = { origin: url.origin, host: url.hostname.replace(/^\[|\]$/g, ''), port, queue: [], down: reason !== null, reason, timer: null, draining: false };
      this.outages.set(url.origin, outage);
      this.scheduleProbe(outage, reason === null ? 0 : undefined);
    }
    return outage;
  }

  private pendingOf(outage: Outage, target: string): PendingDelivery {
    if (!outage.down) return { state: 'queued', target };
    return { state: 'waiting-for-handler', target, reason: outage.reason, answeredBefore: this.answered.has(outage.origin) };
  }

  private park(outage: Outage, delivery: Delivery): void {
    if (delivery.body && this.parkedBodyBytes + delivery.body.length > PARKED_BODY_BUDGET_BYTES) delivery.body = null;
    if (delivery.body) this.parkedBodyBytes += delivery.body.length;
    // Keep arrival order: a retried event re-enters before events that arrived after it.
    const at = outage.queue.findIndex((queued, i) => queued.event.id > delivery.event.id && !(i === 0 && outage.draining));
    if (at < 0) outage.queue.push(delivery);
    else outage.queue.splice(at, 0, delivery);
    this.options.onPending?.(delivery.event.id, this.pendingOf(outage, delivery.target));
  }

  private unpark(outage: Outage, at: number): Delivery {
    const [delivery] = outage.queue.splice(at, 1);
    if (delivery!.body) this.parkedBodyBytes -= delivery!.body.length;
    return delivery!;
  }

  private scheduleProbe(outage: Outage, delayMs = Math.min(MAX_PROBE_INTERVAL_MS, Math.max(50, this.options.retryBackoffMs))): void {
    outage.timer = setTimeout(() => void this.probe(outage), delayMs);
  }

  /** A TCP connect: cheap, and enough to know that something listens again. Null when it does, else the error code. */
  private connectError(outage: Outage): Promise<string | null> {
    return new Promise((resolve) => {
      const socket = connect({ host: outage.host, port: outage.port });
      this.probes.add(socket);
      const done = (error: string | null): void => {
        this.probes.delete(socket);
        socket.destroy();
        resolve(error);
      };
      socket.setTimeout(MAX_PROBE_INTERVAL_MS, () => done('CONNECT_TIMEOUT'));
      socket.once('connect', () => done(null));
      socket.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? 'ERROR'));
    });
  }

  private async probe(outage: Outage): Promise<void> {
    outage.timer = null;
    if (this.closed) return;
    const error = await this.connectError(outage);
    if (this.closed) return;
    if (error === null) {
      const work = this.drain(outage);
      this.track(work);
      await work;
    } else if (!outage.down) {
      outage.down = true;
      outage.reason = error;
      for (const queued of outage.queue) this.options.onPending?.(queued.event.id, this.pendingOf(outage, queued.target));
    }
    if (this.closed) return;
    if (outage.queue.length === 0) this.outages.delete(outage.origin);
    else this.scheduleProbe(outage);
  }

  /** Re-delivers waiting events one by one, in arrival order, until the queue is empty or the handler is gone again. */
  private async drain(outage: Outage): Promise<void> {
    outage.draining = true;
    try {
      while (outage.queue.length > 0 && !this.closed) {
        const delivery = outage.queue[0]!;
        const body = delivery.body ?? (await this.options.loadBody(delivery.event.id).catch(() => null));
        if (body === null) {
          this.unpark(outage, 0);
          this.options.onPending?.(delivery.event.id, null);
          continue;
        }
        const { attempt, next } = await this.send(delivery, body);
        if (next === 'park') {
          // Gone again: the event stays first in line, and the next probe finds out when it is back.
          outage.down = true;
          outage.reason = attempt.error;
          delivery.retry++;
          this.options.onPending?.(delivery.event.id, this.pendingOf(outage, delivery.target));
          return;
        }
        this.unpark(outage, 0);
        if (next === 'retry') this.scheduleRetry({ ...delivery, body, retry: delivery.retry + 1 });
        else this.options.onPending?.(delivery.event.id, null);
      }
    } finally {
      outage.draining = false;
    }
  }

  /**
   * Stops retrying, probing and starting attempts; gives the attempts on the wire up to `graceMs` to
   * finish and be recorded, then aborts them (recorded as ABORTED: still pending). Idempotent.
   */
  async close(graceMs = 0): Promise<void> {
    this.closed = true;
    this.held = null;
    for (const timer of this.retryTimers.values()) clearTimeout(timer);
    this.retryTimers.clear();
    for (const outage of this.outages.values()) if (outage.timer) clearTimeout(outage.timer);
    for (const socket of this.probes) socket.destroy();
    const abort = setTimeout(() => this.shutdown.abort(), graceMs);
    try {
      await Promise.allSettled([...this.inFlight]);
    } finally {
      clearTimeout(abort);
    }
  }

  /** Aborts what is on the wire now, without recording anything more (the second Ctrl+C). */
  abort(): void {
    this.closed = true;
    this.shutdown.abort();
  }
}
