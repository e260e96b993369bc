import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { MftgHooksError, isErrnoException } from './errors.js';
import { EVENT_ID_HEADER, newCapturedEvent, readSourceMark } from './events.js';
import { unsafePathReason } from './path-safety.js';
import { proveSelfCheck, SELF_CHECK_PATH, selfCheckNonces, type SelfCheckNonces } from './self-check.js';
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

/**
 * `not-found`: not the capture URL (404). `too-large`: over --max-body (413). `store-failed`: not
 * stored, so 503. `aborted`: the client went away mid-request. `malformed`: not HTTP (400, 431).
 * `timeout`: headers or request too slow (408).
 */
export type RejectReason = 'not-found' | 'too-large' | 'store-failed' | 'aborted' | 'malformed' | 'timeout';

export interface CaptureServerOptions {
  port: number;
  bind: string;
  /** The secret first path segment; null accepts every path (`--no-token`). */
  token: string | null;
  maxBodyBytes: number;
  /**
   * The two halves of the ingest path (ingest.ts): `persist` stores the event, and the request is
   * answered only after it resolves; `onCaptured` then shows and forwards it, in a later turn, after
   * every request stored with it has been answered.
   */
  persist: (event: CapturedEvent, body: Buffer) => Promise<void>;
  onCaptured: (event: CapturedEvent, body: Buffer) => void;
  /**
   * The listener's source secret: a request carrying it with `x-mftg-hooks-source` is stored with
   * that source (`trigger`, `reconcile`) instead of `webhook` (events.ts). Default none.
   */
  sourceSecret?: string | null;
  onRejected: (reason: RejectReason, path: string, detail?: string) => void;
  /** Nonces the tunnel self-check may present; default: the process-wide `selfCheckNonces`. */
  selfCheckNonces?: SelfCheckNonces;
  /** Overrides HEADERS_TIMEOUT_MS / REQUEST_TIMEOUT_MS (tests use short ones). */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
}

const SELF_CHECK_PREFIX = '/' + SELF_CHECK_PATH + '/';
/** The headers of every `200` to a delivery, as writeHead's flat list (no object to walk per request). */
const ACK_HEADERS = ['content-length', '0'];

/** Per connection: responses not yet known to be finished (pipelined requests answer in order). */
interface Connection {
  responses: ServerResponse[];
  /** A parse error was seen; the connection ends once the complete requests before it are answered. */
  failed: boolean;
  /** A response with `connection: close` was sent: requests pipelined behind it will never be answered. */
  closing: boolean;
}

function headerPairs(raw: string[]): HeaderPairs {
  const pairs: HeaderPairs = [];
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i]!, raw[i + 1]!]);
  return pairs;
}

/**
 * The origin-form target (`/path?query`) of a request target. HTTP/1.1 servers must accept the
 * absolute form too (RFC 9112 §3.2.2: `POST http://host/TOKEN HTTP/1.1`); its path is taken as it
 * stands, without `new URL()`, which would remove dot segments before they can be refused.
 * Null for other forms (`*`, another scheme).
 */
export function originForm(target: string): string | null {
  if (target.startsWith('/')) return target;
  const authority = /^https?:\/\/[^/?#]*/i.exec(target);
  if (!authority) return null;
  const rest = target.slice(authority[0].length);
  return rest.startsWith('/') ? rest : '/' + rest;
}

/** The path below the token and the query (`?…` or ''), or null when the path is not below the token. */
function belowToken(url: string, token: string | null): { subPath: string; query: string } | null {
  const queryAt = url.indexOf('?');
  const pathname = queryAt < 0 ? url : url.slice(0, queryAt);
  const query = queryAt < 0 ? '' : url.slice(queryAt);
  if (token === null) return { subPath: pathname.startsWith('/') ? pathname : '/' + pathname, query };
  if (pathname === '/' + token) return { subPath: '/', query };
  if (pathname.startsWith('/' + token + '/')) return { subPath: pathname.slice(token.length + 1), query };
  return null;
}

/**
 * The path below the token, query included, or null when the request is not for the capture URL.
 * `/TOKEN` and `/TOKEN/` map to `/`; `/TOKEN/a/b?x` to `/a/b?x`. A sub-path that could climb out of
 * the forward target's base path (`/TOKEN/../admin`, `%2e%2e`, `\`, `//` …, see `unsafePathReason`)
 * is not the capture URL either.
 */
export function capturedPath(url: string, token: string | null): string | null {
  const below = belowToken(url, token);
  if (below === null || unsafePathReason(below.subPath) !== null) return null;
  return below.subPath + below.query;
}

/**
 * Accepts deliveries and writes each to the store before answering `200` with an empty body. It
 * never waits for the handler, never redirects, and answers everything else with a bare `404`.
 */
export class CaptureServer {
  private readonly server: Server;
  private readonly options: CaptureServerOptions;
  private readonly connections = new Map<Socket, Connection>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly nonces: SelfCheckNonces;
  private port = 0;
  /** Acknowledged events not yet handed to onCaptured: event, body, event, body … */
  private captured: Array<CapturedEvent | Buffer> = [];
  private publishScheduled: NodeJS.Immediate | null = null;

  constructor(options: CaptureServerOptions) {
    this.options = options;
    this.nonces = options.selfCheckNonces ?? selfCheckNonces;
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
    this.server.on('connection', (socket: Socket) => {
      this.connections.set(socket, { responses: [], failed: false, closing: false });
      socket.on('close', () => this.connections.delete(socket));
    });
    // Malformed HTTP, oversized headers, timeouts: answer if the socket can take it, never crash.
    this.server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => this.onClientError(error, socket));
  }

  /**
   * A parse error ends the connection with 400 (431, 408), but only after every request that was
   * complete before the error has been answered: a valid POST pipelined with garbage is stored, and
   * its `200` must reach the sender before the `400`, or the sender retries a delivery that was
   * stored (issue 7). Responses of pipelined requests go out in order, so waiting for the last
   * complete request's response waits for all of them.
   */
  private onClientError(error: NodeJS.ErrnoException, socket: Socket): void {
    const connection = this.connections.get(socket);
    // The parser stays failed: later bytes on this socket report the same error again.
    if (connection?.failed) return;
    if (connection) connection.failed = true;
    const responses = connection?.responses ?? [];
    if (error.code !== 'ECONNRESET') {
      // Counted once, here: the unfinished request's own 'aborted' is not counted again.
      const reason: RejectReason = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'timeout' : error.code === 'HPE_INVALID_EOF_STATE' ? 'aborted' : 'malformed';
      const unfinished = responses.find((res) => !res.req.complete);
      this.options.onRejected(reason, unfinished?.req.url ?? '', error.code);
    }
    const answer = (): void => {
      if (socket.writable && !socket.destroyed && error.code !== 'ECONNRESET') {
        const status = error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
        socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      }
      socket.destroy();
    };
    let last: ServerResponse | null = null;
    for (let index = responses.length - 1; index >= 0 && last === null; index--) {
      const res = responses[index]!;
      if (res.req.complete && !res.writableFinished) last = res;
    }
    if (last === null || error.code === 'ECONNRESET') return answer();
    last.once('close', answer);
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

  /**
   * Serves an already connected socket as if it had been accepted on the port: the tunnel hands its
   * sockets over in process, so tunneled requests take no second hop over loopback. Once `close()`
   * has begun (or before `listen()`), the socket is destroyed instead, like a connection to a closed port.
   */
  acceptConnection(socket: Socket): void {
    if (!this.server.listening) {
      socket.destroy();
      return;
    }
    this.server.emit('connection', socket);
  }

  private reject(res: ServerResponse, req: IncomingMessage, status: number, reason: RejectReason, path: string, detail?: string): void {
    this.options.onRejected(reason, path, detail);
    this.closeAfter(req);
    res.writeHead(status, { 'content-length': '0', connection: 'close' });
    res.end();
    // Discard whatever body follows without buffering it.
    req.resume();
  }

  /** Marks the connection as ending with the response being sent (see Connection.closing). */
  private closeAfter(req: IncomingMessage): void {
    const connection = this.connections.get(req.socket);
    if (connection) connection.closing = true;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const connection = this.connections.get(req.socket);
    // Pipelined behind a response that closes the connection: its answer could never be sent, so it
    // must not be stored either (the sender will send it again).
    if (connection?.closing) {
      req.resume();
      return;
    }
    if (connection) {
      const { responses } = connection;
      // Usually empty or one: responses leave once finished, in order.
      while (responses.length > 0 && responses[0]!.writableFinished) responses.shift();
      responses.push(res);
    }
    const url = req.url ?? '/';
    const target = originForm(url);
    if (target === null) return this.reject(res, req, 404, 'not-found', url);
    if (target.startsWith(SELF_CHECK_PREFIX)) {
      const nonce = target.slice(SELF_CHECK_PREFIX.length);
      // Only a nonce this listener's tunnel supervisor issued, once; anything else is the plain 404.
      if (req.method !== 'GET' || !this.nonces.redeem(this.options.token, nonce)) return this.reject(res, req, 404, 'not-found', url);
      const proof = proveSelfCheck(this.options.token, nonce);
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(proof.length), 'cache-control': 'no-store' });
      res.end(proof);
      req.resume();
      return;
    }
    const below = belowToken(target, this.options.token);
    if (below === null) return this.reject(res, req, 404, 'not-found', url);
    const unsafe = unsafePathReason(below.subPath);
    // Refused, never rewritten: forwarding it would let the sender reach outside --forward-to's path.
    if (unsafe !== null) return this.reject(res, req, 404, 'not-found', url, `the path ${unsafe}`);
    const path = below.subPath + below.query;

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
        this.closeAfter(req);
        res.writeHead(413, { 'content-length': '0', connection: 'close' });
        res.end();
        return;
      }
      chunks.push(chunk);
    });
    req.on('aborted', () => {
      if (!tooLarge && !res.headersSent && !this.connections.get(req.socket)?.failed) this.options.onRejected('aborted', path);
    });
    req.on('end', () => {
      if (tooLarge) return;
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      const mark = readSourceMark(headerPairs(req.rawHeaders), this.options.sourceSecret ?? null);
      const event = newCapturedEvent({
        source: mark.source,
        receivedAtMs: receivedAt,
        method: req.method ?? 'GET',
        path,
        headers: mark.headers,
        remoteAddress: req.socket.remoteAddress ?? null,
        body,
      });
      const work: Promise<void> = this.options.persist(event, body).then(
        () => {
          this.inFlight.delete(work);
          // Only the listener's own posts (trigger, reconcile) learn the id; a webhook's answer stays bare.
          res.writeHead(200, mark.marked ? ['content-length', '0', EVENT_ID_HEADER, event.id] : ACK_HEADERS);
          res.end();
          this.publishLater(event, body);
        },
        (error: unknown) => {
          this.inFlight.delete(work);
          // Not stored means not acknowledged: the sender must not believe it was delivered.
          this.options.onRejected('store-failed', path, error instanceof Error ? error.message : String(error));
          // The connection stays open: requests pipelined behind this one still get their answers.
          res.writeHead(503, { 'content-length': '0' });
          res.end();
        },
      );
      this.inFlight.add(work);
    });
  }

  /**
   * Hands a stored, acknowledged event to `onCaptured` after the acks of its turn: all the requests
   * stored by one group commit are answered first, then shown and forwarded, in arrival order, in
   * one later turn (the faces' work is off every ack's path).
   */
  private publishLater(event: CapturedEvent, body: Buffer): void {
    this.captured.push(event, body);
    this.publishScheduled ??= setImmediate(() => this.publishCaptured());
  }

  private publishCaptured(): void {
    this.publishScheduled = null;
    const captured = this.captured;
    this.captured = [];
    for (let i = 0; i < captured.length; i += 2) this.options.onCaptured(captured[i] as CapturedEvent, captured[i + 1] as Buffer);
  }

  /** Stops accepting, lets in-flight requests finish their writes, then closes every socket. */
  async close(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    await Promise.allSettled([...this.inFlight]);
    // Acknowledged events are shown and handed to delivery before close() returns.
    if (this.publishScheduled) clearImmediate(this.publishScheduled);
    this.publishCaptured();
    for (const socket of this.connections.keys()) socket.destroy();
    await closed;
  }
}
