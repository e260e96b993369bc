import { EventEmitter } from 'node:events';
import { StoreReads } from './store-reads.js';
import type { Socket } from 'node:net';
import type { Agent } from 'undici';
import { CaptureServer } from './capture-server.js';
import { Attempts, replayRequest, type SendResult } from './delivery/attempts.js';
import { Forwarder, MAX_SHUTDOWN_GRACE_MS, targetFor, type Targets } from './delivery/forwarder.js';
import { DeliveryLedger } from './delivery-state.js';
import { MftgHooksError } from './errors.js';
import { newCapturedEvent, newSourceSecret } from './events.js';
import { createDispatcher, joinTarget } from './http-send.js';
import { newId } from './ids.js';
import { Ingest, sampleRequest } from './ingest.js';
import { messageFiles, type AttachmentListing, type AttachmentsProgress, type OpenedAttachment, type SavedAttachments } from './reconcile/attachments.js';
import { ReconcileScheduler, type ListenReconcileOptions } from './reconcile/scheduler.js';
import { IngestSink } from './reconcile/sinks.js';
import type { DeliveryPhase, ReplayEdits, SessionElement, SessionSnapshot, SessionStats, SessionView, TriggerRequest } from './session-view.js';
import { DEFAULT_KEEP_EVENTS, EventStore } from './store/store.js';
import { lockStore, type StoreLock } from './store/lock.js';
import { readListener, removeListener, updateSettings, writeListener } from './store/state-files.js';
import type { TunnelState, TunnelStateName } from './tunnel.js';
import { isSuccess, type ForwardAttempt } from './types.js';

/** The tunnel as the session sees it (implemented by TunnelSupervisor; a stand-in in tests). */
export interface TunnelLike {
  readonly state: TunnelState;
  onState(listener: (state: TunnelState) => void): () => void;
  start(): void;
  /** Skips the backoff wait and tries to reconnect now (the UI's `t` key); no-op while online. */
  retryNow(): void;
  close(): Promise<void>;
}

export type { TunnelState, TunnelStateName };

export const DISABLED_TUNNEL: TunnelState = { state: 'disabled', publicUrl: null, reason: null, attempt: 0, nextRetryAt: null, subdomain: null, urlChanged: null };

export type { DeliveryPhase, SessionElement, SessionStats };

export const emptyStats = (): SessionStats => ({ captured: 0, delivered: 0, failed: 0, waiting: 0, rejected: 0, rejectedByReason: {}, attempts: { ok: 0, failed: 0 } });

export interface SessionOptions {
  storeDir: string;
  keep?: number;
  port: number;
  bind: string;
  token: string | null;
  maxBodyBytes: number;
  targets: Targets;
  timeoutMs: number;
  retries: number;
  retryBackoffMs: number;
  insecure: boolean;
  /** The tunnel server, remembered with the subdomain it gave. */
  tunnelHost?: string | null;
  /** Builds the tunnel once the capture port is known; absent = `--no-tunnel`. */
  createTunnel?: (localPort: number, accept: (socket: Socket) => void) => TunnelLike;
  /** Reconcile through the MFTG API at start, after tunnel outages and on an interval; absent = off. */
  reconcile?: ListenReconcileOptions | null;
  /** Where the details' attachments read MFTG API credentials when `reconcile` has none; default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** Host part of a URL for display: `0.0.0.0` and `::` are reachable as 127.0.0.1 locally. */
function localHostFor(bind: string): string {
  if (bind === '0.0.0.0' || bind === '::' || bind === '') return '127.0.0.1';
  return bind.includes(':') ? `[${bind}]` : bind;
}

/**
 * One `listen` run: the store, the capture server, the forwarder and the tunnel, wired as the
 * pipeline — sources (the capture server, triggers) → ingest → store → delivery — so that capture
 * never waits for anything but the store. Emits SessionElements and never prints; every face reads
 * it as a SessionView.
 */
export class ListenSession extends StoreReads implements SessionView {
  readonly options: SessionOptions;
  readonly stats: SessionStats = emptyStats();
  private readonly emitter = new EventEmitter();
  private store: EventStore | null = null;
  private capture: CaptureServer | null = null;
  private forwarder: Forwarder | null = null;
  private ingestPath: Ingest | null = null;
  private attempts: Attempts | null = null;
  private ledger: DeliveryLedger;
  private dispatcher: Agent | null = null;
  /** Marks this run's own posts (trigger, reconcile from another terminal) with their source. */
  private readonly sourceSecret = newSourceSecret();
  private ready = false;
  /** The web inspector's URL while it serves this session (set by `listen` before `start`). */
  inspectUrl: string | null = null;
  private tunnel: TunnelLike | null = null;
  private reconciling: ReconcileScheduler | null = null;
  private stopFollowing: (() => void) | null = null;
  private closing: Promise<void> | null = null;
  private lock: StoreLock | null = null;
  private localCaptureUrl = '';
  tunnelState: TunnelState = DISABLED_TUNNEL;

  constructor(options: SessionOptions) {
    super();
    this.options = options;
    this.ledger = new DeliveryLedger(options.keep ?? DEFAULT_KEEP_EVENTS);
    this.emitter.setMaxListeners(0);
  }

  on(listener: (element: SessionElement) => void): () => void {
    this.emitter.on('element', listener);
    return () => this.emitter.off('element', listener);
  }

  subscribe(listener: (element: SessionElement) => void): () => void {
    return this.on(listener);
  }

  snapshot(): SessionSnapshot {
    return {
      mode: 'listen',
      ready: this.ready,
      store: this.options.storeDir,
      localUrl: this.localCaptureUrl || null,
      publicCaptureUrl: this.publicCaptureUrl(),
      tunnel: this.tunnelState,
      targets: { forwardTo: this.options.targets.forwardTo, routes: { ...this.options.targets.routes } },
      stats: this.statsCopy(),
      inspectUrl: this.inspectUrl,
    };
  }

  protected readsFrom(): EventStore {
    return this.eventStore;
  }

  private emit(element: SessionElement): void {
    this.emitter.emit('element', element);
  }

  get eventStore(): EventStore {
    if (!this.store) throw new Error('session not started');
    return this.store;
  }

  get captureUrl(): string {
    return this.localCaptureUrl;
  }

  get targets(): Targets {
    return this.options.targets;
  }

  /** The public capture URL (with the token path) while the tunnel has one. */
  publicCaptureUrl(tunnel: TunnelState = this.tunnelState): string | null {
    if (!tunnel.publicUrl) return null;
    return tunnel.publicUrl.replace(/\/$/, '') + (this.options.token ? `/${this.options.token}` : '');
  }

  async start(): Promise<void> {
    const { options } = this;
    // Exactly one listener per store, whatever starts at the same moment: the lock comes first.
    this.lock = await lockStore(options.storeDir, async (holder) => {
      const running = await readListener(options.storeDir);
      return running?.pid === holder.pid ? running.captureUrl : null;
    });
    const store = await EventStore.open(options.storeDir, options.keep === undefined ? {} : { keep: options.keep });
    this.store = store;
    await store.openForWriting();
    this.dispatcher = createDispatcher({ insecure: options.insecure });
    // The one owner of this listener's attempts: forwards, retries and every replay made here.
    this.attempts = new Attempts({ dispatcher: this.dispatcher, record: (result) => this.recordAttempt(result) });
    this.forwarder = new Forwarder({
      targets: options.targets,
      timeoutMs: options.timeoutMs,
      retries: options.retries,
      retryBackoffMs: options.retryBackoffMs,
      attempts: this.attempts,
      loadBody: async (eventId) => (await store.getWithBody(eventId)).body,
      onPending: (eventId, pending) => this.emit({ type: 'pending', eventId, pending }),
    });
    const forwarder = this.forwarder;
    // Events an earlier run left pending go out first; ids made from now on are this run's.
    const firstOwnId = newId();
    const hasTargets = options.targets.forwardTo !== null || Object.keys(options.targets.routes).length > 0;
    const recovering = hasTargets
      ? forwarder.recover(async () => {
          // A scan of the whole store, in the background: only pending events are kept in memory.
          const pending = await store.list({ limit: Number.MAX_SAFE_INTEGER, pending: true });
          const leftovers = pending.filter((event) => event.id < firstOwnId && forwarder.covers(event));
          for (const event of leftovers) this.ledger.track(event.id);
          this.syncStats();
          return leftovers;
        })
      : null;
    const ingest = new Ingest({
      store: (event, body) => {
        // Stored as meant for the handler: pending until an attempt settles it, whatever ends this run.
        if (forwarder.covers(event)) event.forward = true;
        return store.appendEvent(event, body);
      },
      emit: (event) => {
        this.stats.captured++;
        if (event.forward) {
          this.ledger.track(event.id);
          this.syncStats();
        }
        this.emit({ type: 'event', event, foreign: false });
      },
      deliver: (event, body) => forwarder.deliver(event, body),
    });
    this.ingestPath = ingest;
    this.capture = new CaptureServer({
      port: options.port,
      bind: options.bind,
      token: options.token,
      maxBodyBytes: options.maxBodyBytes,
      sourceSecret: this.sourceSecret,
      // The first source: it answers the sender between the two halves of ingest.
      persist: (event, body) => ingest.store(event, body),
      onCaptured: (event, body) => ingest.publish(event, body),
      onRejected: (reason, path, detail) => {
        this.stats.rejected++;
        this.stats.rejectedByReason[reason] = (this.stats.rejectedByReason[reason] ?? 0) + 1;
        this.emit({ type: 'rejected', reason, path, detail: detail ?? null });
      },
    });
    // On failure (port in use…) the caller's close() releases what was opened.
    const port = await this.capture.listen();
    this.localCaptureUrl = `http://${localHostFor(options.bind)}:${port}/${options.token ?? ''}`;
    await updateSettings(options.storeDir, { forwardTo: options.targets.forwardTo, routes: options.targets.routes });
    await writeListener(options.storeDir, this.listenerInfo());
    this.stopFollowing = await store.follow((record) => {
      if (record.kind === 'attempt') {
        // Replays from another terminal count like this listener's own attempts.
        this.applyAttempt(record.attempt);
        this.emit({ type: 'attempt', attempt: record.attempt, foreign: true });
      } else if (record.kind === 'event') this.emit({ type: 'event', event: record.event, foreign: true });
      else this.emit({ type: 'cleared' });
    });
    this.ready = true;
    this.emit({ type: 'ready', localUrl: this.localCaptureUrl, store: options.storeDir, forwardTo: options.targets.forwardTo, routes: options.targets.routes, inspectUrl: this.inspectUrl });
    store.onWarning((message) => this.emit({ type: 'warning', message }));
    if (options.reconcile) {
      const sink = new IngestSink(store, ingest);
      this.reconciling = new ReconcileScheduler({ ...options.reconcile, sink, report: (summary, reason) => this.emit({ type: 'reconcile', summary, reason }) });
      this.reconciling.start();
    }
    recovering?.then(
      (count) => {
        if (count > 0 && !this.closing) this.emit({ type: 'delivery', phase: 'redelivering', inFlight: 0, pending: count, deadlineAt: null, stats: this.statsCopy() });
      },
      (error: unknown) => this.emit({ type: 'warning', message: `could not look for events left pending by the last run: ${(error as Error).message}` }),
    );

    if (options.createTunnel) {
      this.tunnel = options.createTunnel(port, (socket) => (this.capture ? this.capture.acceptConnection(socket) : socket.destroy()));
      this.tunnel.onState((state) => this.onTunnelState(state));
      this.tunnel.start();
    } else {
      this.onTunnelState(DISABLED_TUNNEL);
    }
  }

  private listenerInfo() {
    return {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      captureUrl: this.localCaptureUrl,
      publicUrl: this.publicCaptureUrl(),
      forwardTo: this.options.targets.forwardTo,
      routes: this.options.targets.routes,
      sourceSecret: this.sourceSecret,
    };
  }

  private onTunnelState(state: TunnelState): void {
    const previousUrl = this.tunnelState.publicUrl;
    this.tunnelState = state;
    this.reconciling?.onTunnelState(state.state);
    this.emit({ type: 'tunnel', tunnel: state, publicCaptureUrl: this.publicCaptureUrl(state) });
    if (state.publicUrl !== previousUrl && !this.closing) {
      void writeListener(this.options.storeDir, this.listenerInfo()).catch(() => undefined);
      if (state.state === 'online' && state.subdomain) {
        void updateSettings(this.options.storeDir, { subdomain: state.subdomain, tunnelHost: this.options.tunnelHost ?? undefined }).catch(() => undefined);
      }
    }
  }

  private statsCopy(): SessionStats {
    return { ...this.stats, rejectedByReason: { ...this.stats.rejectedByReason }, attempts: { ...this.stats.attempts } };
  }

  private syncStats(): void {
    this.stats.delivered = this.ledger.delivered;
    this.stats.failed = this.ledger.failedCount;
    this.stats.waiting = this.ledger.pendingCount;
  }

  /** Counts an attempt (this listener's or another process's) and moves its event between the counters. */
  private applyAttempt(attempt: ForwardAttempt): void {
    if (isSuccess(attempt)) this.stats.attempts.ok++;
    else this.stats.attempts.failed++;
    const state = this.ledger.apply(attempt);
    if (state === null) return;
    this.syncStats();
    // Delivered by a replay (from here or another terminal): the forwarder stops retrying it.
    if (state === 'delivered' && attempt.kind === 'replay') this.forwarder?.settle(attempt.eventId);
  }

  /** Events not delivered yet that this listener would still deliver (the `pending` of the exit line). */
  get pendingCount(): number {
    return this.ledger.pendingCount;
  }

  /** Attempts on the wire now. */
  get inFlightCount(): number {
    return this.forwarder?.inFlightCount ?? 0;
  }

  /** Records an attempt of this listener (made by `attempts`): counted, stored, then announced. */
  private async recordAttempt(result: SendResult): Promise<void> {
    const { attempt } = result;
    this.applyAttempt(attempt);
    try {
      await this.store?.appendAttempt(attempt, result.responseBody);
    } catch (error) {
      this.emit({ type: 'warning', message: `could not store an attempt of event ${attempt.eventId}: ${(error as Error).message}` });
    }
    this.emit({ type: 'attempt', attempt, foreign: false });
  }

  /**
   * Sends a stored event again and records the attempt (kind `replay`, `modified` when `edits`
   * changed it): unchanged and to the target its eventType routes to unless `edits` say otherwise.
   * Used by the live UI's replay key and the web inspector.
   */
  async replay(eventIdOrPrefix: string, edits: ReplayEdits = {}): Promise<ForwardAttempt> {
    const store = this.eventStore;
    const { event, body } = await store.getWithBody(eventIdOrPrefix);
    const base = edits.target ?? targetFor(this.options.targets, event.mftg?.eventType);
    if (!base || !this.attempts) {
      throw new MftgHooksError('E_NO_TARGET', 'there is no forward target to replay to', 'start the listener with --forward-to <url>');
    }
    const { attempt } = await this.attempts.attempt(replayRequest(event, body, joinTarget(base, event.path), edits, this.options.timeoutMs));
    return attempt;
  }

  /**
   * Makes a realistic sample (source `trigger`) and sends it down the ingest path like a delivery:
   * stored, shown, forwarded. Resolves with its id once stored.
   */
  async trigger(request: TriggerRequest): Promise<string> {
    const ingest = this.ingestPath;
    if (!ingest || this.closing) throw new MftgHooksError('E_NO_LISTENER', 'the listener is not running', 'start `mftg-hooks listen`');
    const sample = sampleRequest(request.eventType, request.variant);
    const event = newCapturedEvent({ source: 'trigger', method: 'POST', path: '/', headers: sample.headers, remoteAddress: null, body: sample.body });
    await ingest.ingest(event, sample.body);
    return event.id;
  }

  /** Retries the tunnel now instead of waiting for the backoff (no-op without a tunnel). */
  retryTunnel(): void {
    this.tunnel?.retryNow();
  }

  /** The details' message files: with the credentials reconcile uses, else the environment's. */
  private readonly files = messageFiles(
    () => this.eventStore,
    () => this.options.reconcile?.api,
    () => this.options.env ?? process.env,
  );

  listAttachments(idOrPrefix: string, progress?: Pick<AttachmentsProgress, 'asking'>): Promise<AttachmentListing> {
    return this.files.list(idOrPrefix, progress);
  }

  saveAttachments(idOrPrefix: string, dir: string, progress?: AttachmentsProgress): Promise<SavedAttachments> {
    return this.files.save(idOrPrefix, dir, progress);
  }

  openAttachment(idOrPrefix: string, index: number): Promise<OpenedAttachment> {
    return this.files.open(idOrPrefix, index);
  }

  attachmentsUnavailable(): MftgHooksError | null {
    return this.files.unavailable();
  }

  /**
   * Stops accepting, finishes in-flight writes, gives attempts on the wire up to the forward timeout
   * (at most MAX_SHUTDOWN_GRACE_MS) to finish, closes the tunnel, and reports what stays pending.
   * Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stopFollowing?.();
      // First: a run in flight stops before the store closes (what it did not get to stays missing).
      await this.reconciling?.close();
      await this.capture?.close();
      const forwarder = this.forwarder;
      let finishing: Promise<void> | undefined;
      if (forwarder) {
        const { timeoutMs } = this.options;
        const graceMs = timeoutMs > 0 ? Math.min(timeoutMs, MAX_SHUTDOWN_GRACE_MS) : MAX_SHUTDOWN_GRACE_MS;
        const inFlight = forwarder.inFlightCount;
        if (inFlight > 0) this.emit({ type: 'delivery', phase: 'finishing', inFlight, pending: this.ledger.pendingCount, deadlineAt: Date.now() + graceMs, stats: this.statsCopy() });
        finishing = forwarder.close(graceMs);
      }
      await Promise.all([this.tunnel?.close(), finishing]);
      await this.dispatcher?.close();
      await this.files.close();
      await this.store?.close();
      if (this.localCaptureUrl) this.emit({ type: 'delivery', phase: 'stopped', inFlight: 0, pending: this.ledger.pendingCount, deadlineAt: null, stats: this.statsCopy() });
      await removeListener(this.options.storeDir).catch(() => undefined);
      await this.lock?.release();
    })();
    return this.closing;
  }

  /**
   * The second Ctrl+C: aborts the attempts on the wire without waiting (nothing more is recorded;
   * their events stay pending for the next start). Returns what was cut short; the caller exits.
   */
  quitNow(): { inFlight: number; pending: number } {
    const cut = { inFlight: this.inFlightCount, pending: this.ledger.pendingCount };
    this.forwarder?.abort();
    return cut;
  }
}
