import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { MftgHooksError, isErrnoException } from './errors.js';
import { newId } from './ids.js';
import { summarize } from './mftg.js';
import { proveSelfCheck, SELF_CHECK_PATH } from './self-check.js';
import type { CapturedEvent, HeaderPairs } from './types.js';

/** Default largest accepted request body (`--max-body`). */
export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;
/** A client must send its headers within this time… */
export const HEADERS_TIMEOUT_MS = 15_000;
/** …and its whole request within this one (a 10 MiB body over a slow tunnel fits easily). */
export const REQUEST_TIMEOUT_MS = 120_000;
/**
 * An idle keep-alive connection is closed after this. Long, because the tunnel keeps a pool of idle
 * connections here: closing one just as the tunnel server writes a request onto it loses that request.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 600_000;

export type RejectReason = 'not-found' | 'too-large' | 'store-failed' | 'aborted';

export interface CaptureServerOptions {
  port: number;
  bind: string;
  /** The secret first path segment; null accepts every path (`--no-token`). */
  token: string | null;
  maxBodyBytes: number;
  /** Persists the event; the request is answered only after this resolves. */
  persist: (event: CapturedEvent, body: Buffer) => Promise<void>;
  onCaptured: (event: CapturedEvent, body: Buffer) => void;
  onRejected: (reason: RejectReason, path: string, detail?: string) => void;
  /** Overrides HEADERS_TIMEOUT_MS / REQUEST_TIMEOUT_MS (tests use short ones). */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
}

let isoMs = -1;
let isoText = '';
/** Under a burst, dozens of requests arrive within one millisecond: its timestamp is formatted once. */
function isoTimestamp(ms: number): string {
  if (ms !== isoMs) {
    isoMs = ms;
    isoText = new Date(ms).toISOString();
  }
  return isoText;
}

function headerPairs(raw: string[]): HeaderPairs {
  const pairs: HeaderPairs = [];
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i]!, raw[i + 1]!]);
  return pairs;
}

/**
 * The path below the token, query included, or null when the request is not for the capture URL.
 * `/TOKEN` and `/TOKEN/` map to `/`; `/TOKEN/a/b?x` to `/a/b?x`.
 */
export function capturedPath(url: string, token: string | null): string | null {
  const queryAt = url.indexOf('?');
  const pathname = queryAt < 0 ? url : url.slice(0, queryAt);
  const query = queryAt < 0 ? '' : url.slice(queryAt);
  if (token === null) return (pathname.startsWith('/') ? pathname : '/' + pathname) + query;
  const base = '/' + token;
  if (pathname === base) return '/' + query;
  if (pathname.startsWith(base + '/')) return pathname.slice(base.length) + query;
  return null;
}

/**
 * Accepts deliveries and writes each to the store before answering `200` with an empty body. It
 * never waits for the handler, never redirects, and answers everything else with a bare `404`.
 */
export class CaptureServer {
  private readonly server: Server;
  private readonly options: CaptureServerOptions;
  private readonly sockets = new Set<Socket>();
  private readonly inFlight = new Set<Promise<void>>();
  private port = 0;

  constructor(options: CaptureServerOptions) {
    this.options = options;
    this.server = createServer(
      {
        headersTimeout: options.headersTimeoutMs ?? HEADERS_TIMEOUT_MS,
        requestTimeout: options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
        keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
        // Node checks the timeouts on this interval; keep it below the shortest one.
        connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.floor((options.headersTimeoutMs ?? HEADERS_TIMEOUT_MS) / 2))),
      },
      (req, res) => this.handle(req, res),
    );
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    // Malformed HTTP, oversized headers, timeouts: answer if the socket can take it, never crash.
    this.server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
      if (socket.writable && !socket.destroyed && error.code !== 'ECONNRESET') {
        const status = error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
        socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      }
      socket.destroy();
    });
  }

  /** Starts listening; rejects with E_PORT_IN_USE / E_BIND. */
  async listen(): Promise<number> {
    const { port, bind } = this.options;
    await new Promise<void>((resolve, reject) => {
      const onError = (error: unknown): void => {
        this.server.off('listening', onListening);
        if (isErrnoException(error) && error.code === 'EADDRINUSE') {
          reject(new MftgHooksError('E_PORT_IN_USE', `port ${port} is already in use on ${bind}`, 'pick another with --port, or --port 0 for any free port', { cause: error }));
        } else {
          const reason = isErrnoException(error) ? error.code : String(error);
          reject(new MftgHooksError('E_BIND', `cannot listen on ${bind}:${port} (${reason})`, 'check --bind and --port', { cause: error }));
        }
      };
      const onListening = (): void => {
        this.server.off('error', onError);
        resolve();
      };
      this.server.once('error', onError);
      this.server.once('listening', onListening);
      this.server.listen(port, bind);
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }

  get listeningPort(): number {
    return this.port;
  }

  private reject(res: ServerResponse, req: IncomingMessage, status: number, reason: RejectReason, path: string): void {
    this.options.onRejected(reason, path);
    res.writeHead(status, { 'content-length': '0', connection: 'close' });
    res.end();
    // Discard whatever body follows without buffering it.
    req.resume();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const selfCheckPrefix = '/' + SELF_CHECK_PATH + '/';
    if (url.startsWith(selfCheckPrefix)) {
      const nonce = url.slice(selfCheckPrefix.length);
      const proof = proveSelfCheck(this.options.token, nonce);
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(proof.length), 'cache-control': 'no-store' });
      res.end(proof);
      req.resume();
      return;
    }
    const path = capturedPath(url, this.options.token);
    if (path === null) return this.reject(res, req, 404, 'not-found', url);

    const { maxBodyBytes } = this.options;
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBodyBytes) return this.reject(res, req, 413, 'too-large', path);

    const receivedAt = Date.now();
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > maxBodyBytes) {
        tooLarge = true;
        chunks.length = 0;
        this.options.onRejected('too-large', path);
        res.writeHead(413, { 'content-length': '0', connection: 'close' });
        res.end();
        return;
      }
      chunks.push(chunk);
    });
    req.on('aborted', () => {
      if (!tooLarge && !res.headersSent) this.options.onRejected('aborted', path);
    });
    req.on('end', () => {
      if (tooLarge) return;
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      const summary = summarize(body);
      const event: CapturedEvent = {
        id: newId(receivedAt),
        receivedAt: isoTimestamp(receivedAt),
        method: req.method ?? 'GET',
        path,
        headers: headerPairs(req.rawHeaders),
        remoteAddress: req.socket.remoteAddress ?? null,
        size: body.length,
        mftg: summary,
      };
      const work: Promise<void> = this.options.persist(event, body).then(
        () => {
          this.inFlight.delete(work);
          res.writeHead(200, { 'content-length': '0' });
          res.end();
          this.options.onCaptured(event, body);
        },
        (error: unknown) => {
          this.inFlight.delete(work);
          // Not stored means not acknowledged: the sender must not believe it was delivered.
          this.options.onRejected('store-failed', path, error instanceof Error ? error.message : String(error));
          res.writeHead(503, { 'content-length': '0', connection: 'close' });
          res.end();
        },
      );
      this.inFlight.add(work);
    });
  }

  /** Stops accepting, lets in-flight requests finish their writes, then closes every socket. */
  async close(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    await Promise.allSettled([...this.inFlight]);
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}
