import { MftgHooksError } from '../errors.js';
import { DEFAULT_RECONCILE_INTERVAL_MS } from './flags.js';
import { MftgApiClient, type MftgApiClientOptions } from '../mftg-api/client.js';
import type { MessageType } from '../mftg-api/types.js';
import type { TunnelStateName } from '../tunnel.js';
import { DEFAULT_RECONCILE_TYPES, RECONCILE_GRACE_MS, Reconciler, type ReconcileApi, type ReconcileSink, type ReconcileSummary } from './reconciler.js';

/**
 * Reconciling inside `listen`: a run at start, after every tunnel outage and
 * every interval, one at a time, each reported as it starts and as it ends. A failing API is a
 * summary with `state: 'failed'`, never an exception: capture and forwarding go on.
 */

/**
 * A later run looks back to the start of the last successful one minus this: the messages that run
 * left for their webhook (younger than RECONCILE_GRACE_MS then) are looked at again, and a minute
 * more covers clocks that disagree a little.
 */
export const RECONCILE_OVERLAP_MS = RECONCILE_GRACE_MS + 60_000;

/** Why a run happened. */
export type ReconcileReason = 'start' | 'tunnel' | 'interval';

/** What `listen` reconciles with (from `--reconcile [interval]` and the `MFTG_API_*` environment). */
export interface ListenReconcileOptions {
  /** Credentials, base URL and timeout of the MFTG API. */
  api: MftgApiClientOptions;
  /** Between two scheduled runs; default DEFAULT_RECONCILE_INTERVAL_MS. */
  intervalMs?: number;
  /** Default DEFAULT_RECONCILE_TYPES (received and failed). */
  types?: readonly MessageType[];
}

export interface ReconcileSchedulerOptions extends ListenReconcileOptions {
  /** Where recovered payloads go (the listener's own ingest path). */
  sink: ReconcileSink;
  /** Told when a run starts (`state: 'running'`) and when it ends (`done` or `failed`). */
  report: (summary: ReconcileSummary, reason: ReconcileReason) => void;
  /** Default Date.now. */
  now?: () => number;
  /** Default a MftgApiClient of `api` (tests may wrap it). */
  createApi?: (options: MftgApiClientOptions) => ReconcileApi & { close(): Promise<void> };
}

/** The summary of a run that could not even start (the store could not be read). */
function failedSummary(since: number, types: readonly MessageType[], error: MftgHooksError): ReconcileSummary {
  const empty = () => ({ inMftg: 0, alreadyCaptured: 0, leftForWebhook: 0, recovered: [], complete: false });
  return {
    state: 'failed',
    since: new Date(since).toISOString(),
    dryRun: false,
    types: [...types],
    stations: [],
    byType: { received: empty(), sent: empty(), failed: empty() },
    error: error.message,
    errorCode: error.code,
    hint: error.hint ?? null,
  };
}

/**
 * Runs the Reconciler for a listener: never two runs at once (a trigger while one runs queues at
 * most one more), each run's `--since` the start of the last successful run minus
 * RECONCILE_OVERLAP_MS (the store's default window until one succeeded). `close()` aborts a run in
 * flight: no request goes on, nothing more is ingested, and the next run finds what it missed.
 */
export class ReconcileScheduler {
  readonly #options: ReconcileSchedulerOptions;
  readonly #now: () => number;
  readonly #controller = new AbortController();
  readonly #sink: ReconcileSink;
  #api: (ReconcileApi & { close(): Promise<void> }) | null = null;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #queued: ReconcileReason | null = null;
  #lastSuccessAt: number | null = null;
  #tunnelDown = false;
  #closed = false;

  constructor(options: ReconcileSchedulerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    const { signal } = this.#controller;
    const sink = options.sink;
    // After close() nothing more enters the store: the run stops at its next event, which stays missing.
    this.#sink = {
      capturedMessages: () => sink.capturedMessages(),
      ingest: (body, headers) => {
        if (signal.aborted) return Promise.reject(new MftgHooksError('E_NO_LISTENER', 'the listener is shutting down'));
        return sink.ingest(body, headers);
      },
    };
  }

  /** The first run now, then one every interval. */
  start(): void {
    if (this.#closed || this.#timer) return;
    const intervalMs = this.#options.intervalMs ?? DEFAULT_RECONCILE_INTERVAL_MS;
    this.#timer = setInterval(() => this.trigger('interval'), intervalMs);
    this.#timer.unref();
    this.trigger('start');
  }

  /** Follows the tunnel: back online after reconnecting or offline is an outage that just ended. */
  onTunnelState(state: TunnelStateName): void {
    if (state === 'reconnecting' || state === 'offline') this.#tunnelDown = true;
    else if (state === 'online' && this.#tunnelDown) {
      this.#tunnelDown = false;
      this.trigger('tunnel');
    }
  }

  /** Starts a run, or queues one (at most one waits) when a run is going on. */
  trigger(reason: ReconcileReason): void {
    if (this.#closed) return;
    if (this.#running) {
      this.#queued ??= reason;
      return;
    }
    this.#running = this.#loop(reason);
  }

  /** Resolves when no run is going on (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async #loop(first: ReconcileReason): Promise<void> {
    let reason: ReconcileReason | null = first;
    try {
      while (reason !== null && !this.#closed) {
        this.#queued = null;
        await this.#runOnce(reason);
        reason = this.#queued;
      }
    } finally {
      this.#queued = null;
      this.#running = null;
    }
  }

  async #runOnce(reason: ReconcileReason): Promise<void> {
    const { report } = this.#options;
    const types = this.#options.types ?? DEFAULT_RECONCILE_TYPES;
    const startedAt = this.#now();
    const since = this.#lastSuccessAt === null ? null : this.#lastSuccessAt - RECONCILE_OVERLAP_MS;
    let summary: ReconcileSummary;
    try {
      this.#api ??= (this.#options.createApi ?? ((options) => new MftgApiClient(options)))({ ...this.#options.api, signal: this.#controller.signal });
      const reconciler = new Reconciler({ api: this.#api, sink: this.#sink, now: this.#now, onStart: (running) => report(structuredClone(running), reason) });
      summary = await reconciler.run({ since, types });
    } catch (error) {
      const typed = error instanceof MftgHooksError ? error : new MftgHooksError('E_MFTG_API', (error as Error).message);
      summary = failedSummary(since ?? startedAt, types, typed);
    }
    if (this.#controller.signal.aborted && summary.state !== 'done') {
      summary.state = 'failed';
      summary.error = 'stopped: the listener is shutting down (the next run finds what this one did not get to)';
      summary.errorCode = 'E_NO_LISTENER';
      summary.hint = null;
    } else if (summary.state === 'done') {
      this.#lastSuccessAt = startedAt;
    }
    report(summary, reason);
  }

  /** Stops the schedule and aborts a run in flight; resolves once it has ended. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#controller.abort();
    await this.idle();
    const api = this.#api;
    this.#api = null;
    await api?.close();
  }
}

export { DEFAULT_RECONCILE_INTERVAL_MS, MIN_RECONCILE_INTERVAL_MS } from './flags.js';
