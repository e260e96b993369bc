import { isIP, type Socket } from 'node:net';
import { Agent } from 'undici';
import { backoffDelay, type BackoffPolicy } from './backoff.js';
import { usageError } from './errors.js';
import { AttemptFailure, registerTunnel, TunnelConnection } from './tunnel-connection.js';
import { selfCheckNonces, type SelfCheckNonces } from './self-check.js';
import { checkThroughTunnel } from './self-check-probe.js';

/**
 * The public tunnel, supervised (it never dies silently): the state
 * machine (connecting, online, reconnecting, offline), its backoff, and the rebuild on any sign of
 * death. The localtunnel protocol (registration, socket pool) is in tunnel-connection.ts, the
 * end-to-end probe through the public URL in self-check.ts.
 *
 * We speak the localtunnel protocol ourselves instead of driving the `@n8n/localtunnel` client, and
 * hand each tunnel socket to the capture server in process (no second hop over loopback). Owning
 * those few hundred lines is what lets us keep the product's promises:
 * - the client's `local_host` option (needed to reach 127.0.0.1 rather than `localhost`, which may be
 *   `::1`) rewrites the Host header by turning the first chunk of each socket into a string: binary
 *   bodies arrive corrupted and truncated (measured: `ff fe 00 80 c3 28 41` arrived as
 *   `ef bf bd ef bf bd 00`);
 * - its registration has no timeout and retries every second forever, even on 4xx;
 * - a socket still connecting when it is closed cannot be reached, so it keeps the process alive
 *   for the OS connect timeout; its local retry timers are not unref'd;
 * - failed reconnects are dropped silently and a server restart is never noticed.
 * Here every socket and timer belongs to one `TunnelConnection` that `close()` tears down at once.
 */

export type TunnelStateName = 'connecting' | 'online' | 'reconnecting' | 'offline' | 'disabled';

/** A snapshot of the tunnel, emitted on every change (frozen, never mutated). */
export interface TunnelState {
  /**
   * `connecting`: first attempt running. `online`: a self-check came back through the public URL.
   * `reconnecting`: the last attempt or the running tunnel failed; the next attempt is at
   * `nextRetryAt` (in the past while that attempt runs). `offline`: the tunnel server refused the
   * tunnel (4xx; attempts continue at `nextRetryAt`) or the supervisor was closed.
   * `disabled` is never set by the supervisor (it is the `--no-tunnel` state of the caller).
   */
  state: TunnelStateName;
  /**
   * Public base URL given by the server, without the token path, e.g. `https://abcd.loca.lt`; the last
   * one given while reconnecting; null before the first registration.
   */
  publicUrl: string | null;
  /** Human-readable cause of the last failure, e.g. "tunnel server unreachable (ECONNREFUSED 127.0.0.1:9)". */
  reason: string | null;
  /** Consecutive failed attempts (0 when online and on the first connect). */
  attempt: number;
  /** Epoch ms of the next attempt when reconnecting/offline, else null. */
  nextRetryAt: number | null;
  /** The subdomain (tunnel id) the server gave. */
  subdomain: string | null;
  /**
   * Set only on the first state that uses a public URL different from the expected one (the requested
   * subdomain was given to someone else, or the server hands out another URL than before); null on
   * every other state.
   */
  urlChanged: { previous: string; current: string } | null;
}

export interface TunnelOptions {
  /** Tunnel server base URL, e.g. `https://localtunnel.me` or `http://127.0.0.1:1234`. */
  host: string;
  /** The capture server's port. */
  localPort: number;
  /** Address the tunnel sockets are piped to. Default `127.0.0.1`. */
  localHost?: string;
  /**
   * Takes each connected tunnel socket as a connection of an HTTP server in this process (the capture
   * server's `acceptConnection`); `localHost`/`localPort` are then not dialled. Default: pipe each
   * tunnel socket to a connection to `localHost:localPort`.
   */
  accept?: (socket: Socket) => void;
  /** Subdomain to ask for (remembered one or `--subdomain`); null/undefined lets the server choose. */
  subdomain?: string | null;
  /** Capture token, used only to verify the self-check proof. */
  token: string | null;
  /** Bound on the registration request and on connecting the first tunnel socket. Default 10000. */
  registerTimeoutMs?: number;
  /** Time between self-checks while online. Default 60000. */
  selfCheckIntervalMs?: number;
  /** Bound on one self-check request. Default 10000. */
  selfCheckTimeoutMs?: number;
  /**
   * Delay before reconnect attempt n: a random value between half and all of
   * `min(maxMs, initialMs * 2^(n-1))` (see `backoffDelay`). Default: `defaultTunnelBackoff(host)`.
   */
  backoff?: BackoffPolicy;
  /** Where self-check nonces are issued; default: the process-wide one the capture server reads. */
  selfCheckNonces?: SelfCheckNonces;
  /** Aborting it closes the supervisor. */
  signal?: AbortSignal;
}

/**
 * Reconnect backoff for a tunnel server on this machine or the local network (self-hosted, a test
 * server): there is no one else to be polite to, so a server that comes back is found within 2.5–5 s.
 */
export const LOCAL_TUNNEL_BACKOFF: Readonly<BackoffPolicy> = Object.freeze({ initialMs: 1000, maxMs: 5000 });
/**
 * Reconnect backoff for a tunnel server on the internet (the public localtunnel.me by default). It is
 * shared, and it rate-limits clients that re-register in a loop (being blocked costs far more than a
 * few seconds): 1, 2, 4, 8 s, then one registration every 7.5–15 s in a long outage, and a service
 * that comes back is found within 15 s. `t` in the live view tries at once.
 */
export const PUBLIC_TUNNEL_BACKOFF: Readonly<BackoffPolicy> = Object.freeze({ initialMs: 1000, maxMs: 15_000 });

/** Loopback, private and link-local addresses, `localhost` and mDNS names: a server on your own network. */
function isLocalNetworkHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local')) return true;
  if (isIP(host) === 4) {
    const [a, b] = host.split('.').map(Number) as [number, number];
    return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254);
  }
  if (isIP(host) === 6) return host === '::1' || /^f[cd]/.test(host) || /^fe[89ab]/.test(host) || /^::ffff:7f/.test(host);
  return false;
}

/** The reconnect backoff for a tunnel server: LOCAL_TUNNEL_BACKOFF on your own network, else PUBLIC_TUNNEL_BACKOFF. */
export function defaultTunnelBackoff(host: URL): BackoffPolicy {
  return isLocalNetworkHost(host.hostname) ? LOCAL_TUNNEL_BACKOFF : PUBLIC_TUNNEL_BACKOFF;
}

/** Registration that gave another subdomain than asked is retried this many times before accepting it. */
const SUBDOMAIN_RECLAIM_RETRIES = 3;
/**
 * Failures count up (and the backoff grows) until the tunnel has stayed online this long, so a tunnel
 * that dies right after each self-check does not re-register every second with the public service.
 */
const STABLE_ONLINE_MS = 30_000;
/** Upper bound on tunnel sockets, whatever the server allows. */
const MAX_SOCKETS = 10;

const SUBDOMAIN_PATTERN = /^(?:[a-z0-9][a-z0-9-]{4,63}[a-z0-9]|[a-z0-9]{4,63})$/;

/**
 * Checks a subdomain against the rules of localtunnel servers (their own regular expression, further
 * bounded to 63 characters for DNS): 4–63 lowercase letters, digits and hyphens, starting and ending
 * with a letter or digit; a name containing a hyphen needs at least 6 characters.
 * Returns an error message, or null when the name is acceptable.
 */
export function validateSubdomain(name: string): string | null {
  if (name.length < 4 || name.length > 63) {
    return `subdomain "${name}" must be 4 to 63 characters long`;
  }
  if (!/^[a-z0-9-]+$/.test(name)) {
    return `subdomain "${name}" may contain only lowercase letters, digits and hyphens`;
  }
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) {
    return `subdomain "${name}" must start and end with a letter or digit`;
  }
  if (!SUBDOMAIN_PATTERN.test(name)) {
    return `subdomain "${name}" contains a hyphen and must then be at least 6 characters long`;
  }
  return null;
}

type Listener = (state: TunnelState) => void;

export class TunnelSupervisor {
  readonly #hostUrl: URL;
  readonly #localHost: string;
  readonly #localPort: number;
  readonly #accept: ((socket: Socket) => void) | undefined;
  readonly #token: string | null;
  readonly #registerTimeoutMs: number;
  readonly #selfCheckIntervalMs: number;
  readonly #selfCheckTimeoutMs: number;
  readonly #backoff: BackoffPolicy;
  readonly #nonces: SelfCheckNonces;
  readonly #signal: AbortSignal | undefined;
  readonly #listeners = new Set<Listener>();
  readonly #http = new Agent({ keepAliveTimeout: 4000 });

  #state: TunnelState;
  #started = false;
  #closed = false;
  /** Subdomain asked for on the next registration: the requested one, then the one we got. */
  #wanted: string | null;
  /** Public URL we expect the next registration to give (the last one we were online on). */
  #expectedUrl: string | null = null;
  #reclaimRetries = 0;
  /** Consecutive failures, see STABLE_ONLINE_MS. */
  #failures = 0;
  #onlineSince = 0;
  /** Every attempt gets a new generation; callbacks of an older one are ignored. */
  #generation = 0;
  #connection: TunnelConnection | null = null;
  #attemptAbort: AbortController | null = null;
  #retryTimer: NodeJS.Timeout | null = null;
  #checkTimer: NodeJS.Timeout | null = null;
  #onAbort = (): void => {
    void this.close();
  };

  constructor(options: TunnelOptions) {
    let hostUrl: URL;
    try {
      hostUrl = new URL(options.host);
    } catch {
      throw usageError(`invalid tunnel host "${options.host}"`, 'give a URL such as https://localtunnel.me');
    }
    if (hostUrl.protocol !== 'http:' && hostUrl.protocol !== 'https:') {
      throw usageError(`invalid tunnel host "${options.host}": only http and https are supported`);
    }
    if (options.subdomain) {
      const problem = validateSubdomain(options.subdomain);
      if (problem) throw usageError(problem);
    }
    this.#hostUrl = hostUrl;
    this.#localHost = options.localHost ?? '127.0.0.1';
    this.#localPort = options.localPort;
    this.#accept = options.accept;
    this.#token = options.token;
    this.#wanted = options.subdomain ?? null;
    this.#registerTimeoutMs = options.registerTimeoutMs ?? 10_000;
    this.#selfCheckIntervalMs = options.selfCheckIntervalMs ?? 60_000;
    this.#selfCheckTimeoutMs = options.selfCheckTimeoutMs ?? 10_000;
    this.#backoff = options.backoff ?? defaultTunnelBackoff(hostUrl);
    this.#nonces = options.selfCheckNonces ?? selfCheckNonces;
    this.#signal = options.signal;
    this.#state = Object.freeze({
      state: 'connecting',
      publicUrl: null,
      reason: null,
      attempt: 0,
      nextRetryAt: null,
      subdomain: null,
      urlChanged: null,
    });
  }

  get state(): TunnelState {
    return this.#state;
  }

  /** Calls `listener` on every state change; returns the unsubscribe function. */
  onState(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Starts connecting in the background. Never throws; failures show up as states. */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    if (this.#signal?.aborted) {
      void this.close();
      return;
    }
    this.#signal?.addEventListener('abort', this.#onAbort, { once: true });
    // Emitted even though it equals the initial state: consumers get a first record without polling.
    this.#setState({ state: 'connecting', reason: null, attempt: 0, nextRetryAt: null }, true);
    void this.#attempt();
  }

  /** Stops everything: timers, requests, sockets. Idempotent; resolves once the sockets are destroyed. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#generation++;
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#clearTimers();
    this.#attemptAbort?.abort();
    this.#attemptAbort = null;
    this.#connection?.close();
    this.#connection = null;
    if (this.#started) {
      this.#setState({ state: 'offline', reason: 'tunnel closed', nextRetryAt: null, urlChanged: null });
    }
    await this.#http.destroy().catch(() => undefined);
  }

  /** Tries again now instead of waiting out the backoff (the live UI's `t`); no-op unless waiting for a retry. */
  retryNow(): void {
    if (this.#closed || !this.#started || this.#retryTimer === null) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    void this.#attempt();
  }

  async #attempt(): Promise<void> {
    const generation = ++this.#generation;
    const abort = new AbortController();
    this.#attemptAbort = abort;
    const current = (): boolean => generation === this.#generation && !this.#closed;
    try {
      const registration = await registerTunnel({
        hostUrl: this.#hostUrl,
        subdomain: this.#wanted,
        timeoutMs: this.#registerTimeoutMs,
        signal: abort.signal,
        dispatcher: this.#http,
      });
      if (!current()) return;

      const asked = this.#wanted;
      if (asked !== null && registration.id !== asked && this.#reclaimRetries < SUBDOMAIN_RECLAIM_RETRIES) {
        // Servers give a taken name to someone else; the taker is often our own previous tunnel,
        // which the server releases about a second after its sockets close. Ask again a few times
        // before accepting a URL that no longer matches what the developer pasted into MFTG.
        this.#reclaimRetries++;
        throw new AttemptFailure(`subdomain "${asked}" is taken on the tunnel server (it offered "${registration.id}")`);
      }

      const connection = new TunnelConnection({
        remoteHost: registration.remoteHost,
        remotePort: registration.remotePort,
        localHost: this.#localHost,
        localPort: this.#localPort,
        ...(this.#accept ? { accept: this.#accept } : {}),
        sockets: Math.min(Math.max(registration.maxConn, 1), MAX_SOCKETS),
        connectTimeoutMs: this.#registerTimeoutMs,
        onDeath: (reason) => {
          if (current() && this.#connection === connection) this.#fail(new AttemptFailure(reason));
        },
      });
      this.#connection = connection;
      await connection.firstSocket();
      if (!current()) return;

      await this.#selfCheck(registration.url, abort.signal);
      if (!current()) return;

      const expected = this.#expectedUrl ?? (asked === null ? null : withSubdomain(registration.url, registration.id, asked));
      const urlChanged = expected !== null && expected !== registration.url ? { previous: expected, current: registration.url } : null;
      this.#expectedUrl = registration.url;
      this.#wanted = registration.id;
      this.#reclaimRetries = 0;
      this.#onlineSince = Date.now();
      this.#setState({
        state: 'online',
        publicUrl: registration.url,
        subdomain: registration.id,
        reason: null,
        attempt: 0,
        nextRetryAt: null,
        urlChanged,
      });
      this.#scheduleSelfCheck(registration.url, generation);
    } catch (error) {
      if (!current()) return;
      this.#fail(error instanceof AttemptFailure ? error : new AttemptFailure(describeError(error)));
    } finally {
      if (this.#attemptAbort === abort) this.#attemptAbort = null;
    }
  }

  /** Tears the tunnel down and schedules a rebuild with backoff. */
  #fail(failure: AttemptFailure): void {
    if (this.#closed) return;
    this.#generation++;
    this.#clearTimers();
    this.#attemptAbort?.abort();
    this.#attemptAbort = null;
    this.#connection?.close();
    this.#connection = null;

    if (this.#state.state === 'online' && Date.now() - this.#onlineSince >= STABLE_ONLINE_MS) this.#failures = 0;
    const attempt = ++this.#failures;
    // Jittered, so clients that lost the public service together do not come back together.
    const delay = backoffDelay(attempt, this.#backoff);
    this.#setState({
      state: failure.refused ? 'offline' : 'reconnecting',
      reason: failure.message,
      attempt,
      nextRetryAt: Date.now() + delay,
      urlChanged: null,
    });
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      void this.#attempt();
    }, delay);
    this.#retryTimer.unref();
  }

  #scheduleSelfCheck(publicUrl: string, generation: number): void {
    this.#checkTimer = setTimeout(() => {
      this.#checkTimer = null;
      const abort = new AbortController();
      this.#attemptAbort = abort;
      this.#selfCheck(publicUrl, abort.signal).then(
        () => {
          if (generation === this.#generation && !this.#closed) this.#scheduleSelfCheck(publicUrl, generation);
        },
        (error: unknown) => {
          if (generation !== this.#generation || this.#closed) return;
          this.#fail(error instanceof AttemptFailure ? error : new AttemptFailure(describeError(error)));
        },
      );
    }, this.#selfCheckIntervalMs);
    this.#checkTimer.unref();
  }

  #clearTimers(): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    if (this.#checkTimer) clearTimeout(this.#checkTimer);
    this.#retryTimer = null;
    this.#checkTimer = null;
  }

  #selfCheck(publicUrl: string, signal: AbortSignal): Promise<void> {
    return checkThroughTunnel({
      publicUrl,
      hostUrl: this.#hostUrl,
      token: this.#token,
      nonces: this.#nonces,
      timeoutMs: this.#selfCheckTimeoutMs,
      signal,
      dispatcher: this.#http,
    });
  }

  #setState(patch: Partial<TunnelState>, force = false): void {
    const next: TunnelState = Object.freeze({ ...this.#state, ...patch });
    const previous = this.#state;
    if (
      !force &&
      previous.state === next.state &&
      previous.publicUrl === next.publicUrl &&
      previous.reason === next.reason &&
      previous.attempt === next.attempt &&
      previous.nextRetryAt === next.nextRetryAt &&
      previous.subdomain === next.subdomain &&
      previous.urlChanged === next.urlChanged
    ) {
      return;
    }
    this.#state = next;
    for (const listener of [...this.#listeners]) {
      try {
        listener(next);
      } catch (error) {
        // A broken listener is a bug of the caller: make it loud, but outside our state machine.
        process.nextTick(() => {
          throw error;
        });
      }
    }
  }
}

/** The URL the server would have given for `wanted`: `https://other.loca.lt` → `https://wanted.loca.lt`. */
function withSubdomain(url: string, given: string, wanted: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.hostname.startsWith(`${given}.`)) {
      parsed.hostname = `${wanted}${parsed.hostname.slice(given.length)}`;
      return parsed.href.replace(/\/+$/, '');
    }
  } catch {
    // fall through
  }
  return url.replace(given, wanted);
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
