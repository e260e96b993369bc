import { createRequire } from 'node:module';
import type { Agent, Dispatcher } from 'undici';
import { MftgHooksError } from './errors.js';
import { unsafePathReason } from './path-safety.js';
import { RESPONSE_PREVIEW_BYTES } from './store/store.js';
import type { HeaderPairs } from './types.js';

/**
 * undici takes ~55 ms to load. The CLI's flag definitions import constants from the forwarder (and so
 * this module): loading undici on first use keeps `--help` and `events` from paying for it.
 */
const requireHere = createRequire(import.meta.url);
let undiciModule: typeof import('undici') | null = null;
function undici(): typeof import('undici') {
  undiciModule ??= requireHere('undici') as typeof import('undici');
  return undiciModule;
}

/**
 * Headers that describe one hop, not the message: never forwarded. undici also refuses
 * `transfer-encoding`, `keep-alive`, `upgrade` and `expect`, and sets `host` from the target.
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect', 'host']);

/** The headers the handler receives: the captured ones minus hop-by-hop ones, in order and case. */
export function forwardableHeaders(headers: HeaderPairs, bodyLength: number): string[] {
  const named = new Set<string>();
  for (const [name, value] of headers) {
    if (name.toLowerCase() === 'connection') for (const token of value.split(',')) named.add(token.trim().toLowerCase());
  }
  const flat: string[] = [];
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || named.has(lower)) continue;
    // undici throws on a content-length that does not match the body; a chunked request has none.
    if (lower === 'content-length' && Number(value) !== bodyLength) continue;
    flat.push(name, value);
  }
  return flat;
}

/**
 * `base` (the handler URL) plus the captured sub-path and query. The result is always below the base
 * path: a sub-path that could climb out of it (`..`, `%2e%2e`, `\`, `%2f`, `//` …, see
 * `unsafePathReason`) throws E_NO_TARGET instead, whatever stored it (an event captured before such
 * paths were refused is replayed too). The `pathname` setter is given only checked paths: it removes
 * dot segments and reads `\` as `/`.
 */
export function joinTarget(base: string, capturedPath: string): string {
  const url = new URL(base);
  const queryAt = capturedPath.indexOf('?');
  const subPath = queryAt < 0 ? capturedPath : capturedPath.slice(0, queryAt);
  const query = queryAt < 0 ? '' : capturedPath.slice(queryAt + 1);
  const basePath = url.pathname.replace(/\/$/, '');
  const unsafe = unsafePathReason(subPath);
  if (unsafe === null && subPath !== '/' && subPath !== '') url.pathname = basePath + subPath;
  if (unsafe !== null || (url.pathname !== basePath && !url.pathname.startsWith(basePath + '/'))) {
    throw new MftgHooksError(
      'E_NO_TARGET',
      `the captured path ${JSON.stringify(subPath)} ${unsafe ?? 'leaves the target path'}: sent on, it could reach outside ${url.origin}${basePath || '/'}`,
      'a path that climbs out of the capture URL is never forwarded or replayed',
    );
  }
  if (query) url.search = url.search ? `${url.search}&${query}` : `?${query}`;
  return url.toString();
}

function errorCode(error: unknown, timedOut: boolean): string {
  if (timedOut) return 'TIMEOUT';
  const err = error as { code?: unknown; cause?: { code?: unknown }; name?: string };
  // A DOMException (the AbortError of a request aborted at shutdown) has a numeric `code`.
  const found = err.cause?.code ?? err.code;
  const code = typeof found === 'string' ? found : undefined;
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'CONNECT_TIMEOUT';
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return 'TIMEOUT';
    case 'UND_ERR_SOCKET':
      return 'ECONNRESET';
    case undefined:
      return err.name === 'AbortError' ? 'ABORTED' : 'ERROR';
    default:
      return code.startsWith('UND_ERR_') ? code.slice('UND_ERR_'.length) : code;
  }
}

/** One HTTP client for every forward and replay; closed on shutdown so the process can exit. */
export function createDispatcher(options: { insecure: boolean }): Agent {
  return new (undici().Agent)({
    // The overall --timeout is enforced with an abort signal; undici's own limits stay off so
    // `--timeout 0` can wait at a breakpoint forever.
    headersTimeout: 0,
    bodyTimeout: 0,
    connect: { rejectUnauthorized: !options.insecure, timeout: 10_000 },
  });
}

/**
 * How long a request to a handler (a forward, a retry, a replay) or to a listener (`trigger`, reconcile)
 * waits for its answer unless told otherwise (`--timeout`); 0 waits forever.
 */
export const DEFAULT_TIMEOUT_MS = 30_000;

export interface HttpRequest {
  target: string;
  method: string;
  headers: HeaderPairs;
  body: Buffer;
  /** 0 waits forever. */
  timeoutMs: number;
  dispatcher: Dispatcher;
  signal?: AbortSignal;
}

/** What one request got: a response (status, headers, a preview of the body) or an error code. */
export interface HttpResult {
  /** ISO-8601 start time. */
  startedAt: string;
  /** HTTP status, or null when no response came (see `error`). */
  status: number | null;
  /** `ECONNREFUSED`, `TIMEOUT`, … or null when a response came. */
  error: string | null;
  durationMs: number;
  responseHeaders: HeaderPairs;
  /** Full size of the response body. */
  responseSize: number;
  /** At most RESPONSE_PREVIEW_BYTES of the response body. */
  responseBody: Buffer;
}

/**
 * Sends one request and describes what happened: the one HTTP primitive. Never throws: a failure is
 * a result with an `error` code. Redirects are recorded, not followed. It knows nothing of events:
 * attempts are made from its results by the delivery module alone (delivery/attempts.ts).
 */
export async function httpRequest(req: HttpRequest): Promise<HttpResult> {
  const started = Date.now();
  const startedNs = process.hrtime.bigint();
  const controller = new AbortController();
  let timedOut = false;
  const timer =
    req.timeoutMs > 0
      ? setTimeout(() => {
          timedOut = true;
          controller.abort();
        }, req.timeoutMs)
      : null;
  const onOuterAbort = (): void => controller.abort();
  req.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const startedAt = new Date(started).toISOString();
  const elapsed = (): number => Number((process.hrtime.bigint() - startedNs) / 1000n) / 1000;
  try {
    const response = await undici().request(req.target, {
      method: req.method as Dispatcher.HttpMethod,
      headers: forwardableHeaders(req.headers, req.body.length),
      body: req.body.length > 0 ? req.body : null,
      dispatcher: req.dispatcher,
      signal: controller.signal,
    });
    const kept: Buffer[] = [];
    let keptBytes = 0;
    let responseSize = 0;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      responseSize += chunk.length;
      if (keptBytes < RESPONSE_PREVIEW_BYTES) {
        const part = chunk.subarray(0, RESPONSE_PREVIEW_BYTES - keptBytes);
        kept.push(part);
        keptBytes += part.length;
      }
    }
    const responseHeaders: HeaderPairs = [];
    const raw = response.headers;
    for (const [name, value] of Object.entries(raw)) {
      if (Array.isArray(value)) for (const v of value) responseHeaders.push([name, v]);
      else if (value !== undefined) responseHeaders.push([name, value]);
    }
    return { startedAt, status: response.statusCode, error: null, durationMs: elapsed(), responseHeaders, responseSize, responseBody: Buffer.concat(kept, keptBytes) };
  } catch (error) {
    return { startedAt, status: null, error: errorCode(error, timedOut), durationMs: elapsed(), responseHeaders: [], responseSize: 0, responseBody: Buffer.alloc(0) };
  } finally {
    if (timer) clearTimeout(timer);
    req.signal?.removeEventListener('abort', onOuterAbort);
  }
}
