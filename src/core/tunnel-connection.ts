import net from 'node:net';

/**
 * One registered localtunnel tunnel: the TCP socket pool that carries public requests to the capture
 * server, byte for byte. The supervisor (tunnel.ts) decides when to build, check and rebuild one.
 */

/**
 * A socket that closes sooner than this without carrying data is replaced at once the first time,
 * then only after this delay (a server that accepts and closes must not see a connect loop).
 */
const QUICK_CLOSE_MS = 1000;
/** How long a tunnel socket may stay half-closed after its capture connection ended. */
const ENDING_LINGER_MS = 5000;

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

export interface ConnectionOptions {
  remoteHost: string;
  remotePort: number;
  localHost: string;
  localPort: number;
  sockets: number;
  connectTimeoutMs: number;
  onDeath: (reason: string) => void;
}

/**
 * One registered tunnel: a pool of TCP sockets to the tunnel server, each carrying requests to a
 * connection to the capture server opened on its first byte. Reports death once; never reconnects
 * to another tunnel (the supervisor rebuilds).
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
    let carried = false;
    let lastError: NodeJS.ErrnoException | null = null;

    remote.setTimeout(connectTimeoutMs);
    remote.on('timeout', () => {
      // Armed while connecting, and while ending after the capture connection closed.
      if (connectedAt === 0) lastError = Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' });
      remote.destroy();
    });
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
    });

    // The capture connection is opened on the first byte, not on connect: idle tunnel sockets
    // must not hold idle connections that the capture server would time out.
    const pending: Buffer[] = [];
    let local: net.Socket | null = null;
    const onFirstData = (chunk: Buffer): void => {
      carried = true;
      pending.push(chunk);
      if (local) return;
      remote.pause();
      local = this.#connectLocal(remote, pending, onFirstData);
    };
    remote.on('data', onFirstData);

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
      this.#connected--;
      if (this.#connected === 0) this.#watchNoSocket();
      const quick = !carried && Date.now() - connectedAt < QUICK_CLOSE_MS;
      if (!quick) this.#open();
      else if (quickCloses === 0) this.#open(1);
      else this.#later(QUICK_CLOSE_MS, () => this.#open(quickCloses + 1));
    });
  }

  #connectLocal(remote: net.Socket, pending: Buffer[], onFirstData: (chunk: Buffer) => void): net.Socket {
    const local = net.connect({ host: this.#options.localHost, port: this.#options.localPort });
    this.#locals.add(local);
    local.setNoDelay(true);
    local.on('error', () => {
      // Capture server unreachable or reset: drop this tunnel socket; the server side sees the
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
      // One capture connection per tunnel socket, as the localtunnel client does: when it ends,
      // the tunnel socket ends too and is replaced. End it gracefully so a response still queued
      // for the tunnel server is delivered; a server that never closes its side is cut after a while.
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
