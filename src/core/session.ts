import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Agent } from 'undici';
import { CaptureServer, type RejectReason } from './capture-server.js';
import { MftgHooksError } from './errors.js';
import { Forwarder, targetFor, type PendingDelivery, type Targets } from './forwarder.js';
import { createDispatcher, joinTarget, send, type SendResult } from './http-send.js';
import { EventStore } from './store/store.js';
import { readListener, removeListener, updateSettings, writeListener } from './store/state-files.js';
import type { TunnelState, TunnelStateName } from './tunnel.js';
import { isSuccess, type CapturedEvent, type ForwardAttempt } from './types.js';

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

/** Everything a listener reports. Front ends (live UI, plain lines, --json) consume only these. */
export type SessionElement =
  | { type: 'ready'; localUrl: string; store: string; forwardTo: string | null; routes: Record<string, string> }
  | { type: 'tunnel'; tunnel: TunnelState; publicCaptureUrl: string | null }
  | { type: 'event'; event: CapturedEvent; foreign: boolean }
  | { type: 'attempt'; attempt: ForwardAttempt; foreign: boolean }
  | { type: 'pending'; eventId: string; pending: PendingDelivery | null }
  | { type: 'rejected'; reason: RejectReason; path: string; detail: string | null }
  | { type: 'warning'; message: string }
  | { type: 'cleared' };

/**
 * What a listener counts. `captured`, `delivered`, `failed`, `waiting` and `rejected` count events;
 * `attempts` counts handler attempts (forwards, retries and replays, from any terminal) apart.
 */
export interface SessionStats {
  /** Events this listener stored. */
  captured: number;
  /** Events whose latest attempt got a 2xx. */
  delivered: number;
  /** Events whose delivery failed for good (not retryable, or retries used up). */
  failed: number;
  /** Events waiting for the handler: a retry scheduled, the handler down, or left over from an earlier run. */
  waiting: number;
  rejected: number;
  rejectedByReason: Partial<Record<RejectReason, number>>;
  /** Handler attempts by outcome. */
  attempts: { ok: number; failed: number };
}

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
}

/** Host part of a URL for display: `0.0.0.0` and `::` are reachable as 127.0.0.1 locally. */
function localHostFor(bind: string): string {
  if (bind === '0.0.0.0' || bind === '::' || bind === '') return '127.0.0.1';
  return bind.includes(':') ? `[${bind}]` : bind;
}

/**
 * One `listen` run: the store, the capture server, the forwarder and the tunnel, wired so that
 * capture never waits for anything but the store. Emits SessionElements; never prints.
 */
export class ListenSession {
  readonly options: SessionOptions;
  readonly stats: SessionStats = emptyStats();
  private readonly emitter = new EventEmitter();
  private store: EventStore | null = null;
  private capture: CaptureServer | null = null;
  private forwarder: Forwarder | null = null;
  private dispatcher: Agent | null = null;
  private tunnel: TunnelLike | null = null;
  private stopFollowing: (() => void) | null = null;
  private closing: Promise<void> | null = null;
  private localCaptureUrl = '';
  tunnelState: TunnelState = DISABLED_TUNNEL;

  constructor(options: SessionOptions) {
    this.options = options;
    this.emitter.setMaxListeners(0);
  }

  on(listener: (element: SessionElement) => void): () => void {
    this.emitter.on('element', listener);
    return () => this.emitter.off('element', listener);
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
    const running = await readListener(options.storeDir);
    if (running && running.pid !== process.pid) {
      throw new MftgHooksError('E_STORE_BUSY', `another listener (pid ${running.pid}) is using the store ${options.storeDir} at ${running.captureUrl}`, 'stop it first, or give this one its own --store');
    }
    const store = await EventStore.open(options.storeDir, options.keep === undefined ? {} : { keep: options.keep });
    this.store = store;
    await store.openForWriting();
    this.dispatcher = createDispatcher({ insecure: options.insecure });
    this.forwarder = new Forwarder({
      targets: options.targets,
      timeoutMs: options.timeoutMs,
      retries: options.retries,
      retryBackoffMs: options.retryBackoffMs,
      dispatcher: this.dispatcher,
      record: (result) => this.recordAttempt(result),
      loadBody: async (eventId) => (await store.getWithBody(eventId)).body,
      onPending: (eventId, pending) => this.emit({ type: 'pending', eventId, pending }),
    });
    const forwarder = this.forwarder;
    this.capture = new CaptureServer({
      port: options.port,
      bind: options.bind,
      token: options.token,
      maxBodyBytes: options.maxBodyBytes,
      persist: (event, body) => store.appendEvent(event, body),
      onCaptured: (event, body) => {
        this.stats.captured++;
        this.emit({ type: 'event', event, foreign: false });
        forwarder.deliver(event, body);
      },
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
        this.countAttempt(record.attempt);
        this.emit({ type: 'attempt', attempt: record.attempt, foreign: true });
      }
      else if (record.kind === 'event') this.emit({ type: 'event', event: record.event, foreign: true });
      else this.emit({ type: 'cleared' });
    });
    this.emit({ type: 'ready', localUrl: this.localCaptureUrl, store: options.storeDir, forwardTo: options.targets.forwardTo, routes: options.targets.routes });
    store.onWarning((message) => this.emit({ type: 'warning', message }));

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
    };
  }

  private onTunnelState(state: TunnelState): void {
    const previousUrl = this.tunnelState.publicUrl;
    this.tunnelState = state;
    this.emit({ type: 'tunnel', tunnel: state, publicCaptureUrl: this.publicCaptureUrl(state) });
    if (state.publicUrl !== previousUrl && !this.closing) {
      void writeListener(this.options.storeDir, this.listenerInfo()).catch(() => undefined);
      if (state.state === 'online' && state.subdomain) {
        void updateSettings(this.options.storeDir, { subdomain: state.subdomain, tunnelHost: this.options.tunnelHost ?? undefined }).catch(() => undefined);
      }
    }
  }

  private countAttempt(attempt: ForwardAttempt): void {
    if (isSuccess(attempt)) this.stats.attempts.ok++;
    else this.stats.attempts.failed++;
  }

  private async recordAttempt(result: SendResult): Promise<void> {
    const { attempt } = result;
    this.countAttempt(attempt);
    try {
      await this.store?.appendAttempt(attempt, result.responseBody);
    } catch (error) {
      this.emit({ type: 'warning', message: `could not store an attempt of event ${attempt.eventId}: ${(error as Error).message}` });
    }
    this.emit({ type: 'attempt', attempt, foreign: false });
  }

  /**
   * Sends a stored event again, unchanged, to the target its eventType routes to, and records the
   * attempt (kind `replay`). Used by the live UI's replay key.
   */
  async replay(eventIdOrPrefix: string): Promise<ForwardAttempt> {
    const store = this.eventStore;
    const { event, body } = await store.getWithBody(eventIdOrPrefix);
    const base = targetFor(this.options.targets, event.mftg?.eventType);
    if (!base || !this.dispatcher) {
      throw new MftgHooksError('E_NO_TARGET', 'there is no forward target to replay to', 'start the listener with --forward-to <url>');
    }
    const result = await send({ eventId: event.id, kind: 'replay', target: joinTarget(base, event.path), method: event.method, headers: event.headers, body, timeoutMs: this.options.timeoutMs, dispatcher: this.dispatcher });
    await this.recordAttempt(result);
    return result.attempt;
  }

  /** Retries the tunnel now instead of waiting for the backoff (no-op without a tunnel). */
  retryTunnel(): void {
    this.tunnel?.retryNow();
  }

  /** Stops accepting, finishes in-flight writes and attempts, closes the tunnel. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stopFollowing?.();
      await this.capture?.close();
      await this.tunnel?.close();
      await this.forwarder?.close();
      await this.dispatcher?.close();
      await this.store?.close();
      await removeListener(this.options.storeDir).catch(() => undefined);
    })();
    return this.closing;
  }
}
