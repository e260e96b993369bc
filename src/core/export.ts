import { createHash } from 'node:crypto';
import { forwardableHeaders, joinTarget } from './http-send.js';
import { mftgDetails } from './mftg.js';
import type { CapturedEvent, EventRecord, ForwardAttempt, HeaderPairs, MftgDetails } from './types.js';

/**
 * Exports of captured requests: curl commands, HAR 1.2 and JSON. Pure functions of an event and its
 * body bytes; the caller (the `events export` command, the live UI) decides the URL.
 */

/** What a masked capture token is replaced with (`--mask-token`). */
export const MASKED_TOKEN = 'MASKED-TOKEN';

/**
 * Methods for which undici always sends a `content-length`, even `0` (RFC 9110 §8.6: the method
 * anticipates content). Others send one only with a body.
 */
const PAYLOAD_METHODS = new Set(['PUT', 'POST', 'PATCH', 'QUERY', 'PROPFIND', 'PROPPATCH']);

/**
 * The headers a handler receives when an event is forwarded or replayed: the captured ones minus
 * hop-by-hop ones (see `forwardableHeaders`), in order and case, then `content-length` last and in
 * lower case, which is where and how undici writes it. `host` comes from the target URL.
 */
export function deliveredHeaders(method: string, headers: HeaderPairs, bodyLength: number): HeaderPairs {
  const flat = forwardableHeaders(headers, bodyLength);
  const pairs: HeaderPairs = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    if (flat[i]!.toLowerCase() !== 'content-length') pairs.push([flat[i]!, flat[i + 1]!]);
  }
  if (bodyLength > 0 || PAYLOAD_METHODS.has(method.toUpperCase())) pairs.push(['content-length', String(bodyLength)]);
  return pairs;
}

/** The URL an event goes to when forwarded to the handler base URL `base` (sub-path and query kept). */
export function requestUrl(event: Pick<CapturedEvent, 'path'>, base: string): string {
  return joinTarget(base, event.path);
}

function headerValue(headers: HeaderPairs, name: string): string | null {
  const lower = name.toLowerCase();
  for (const [key, value] of headers) if (key.toLowerCase() === lower) return value;
  return null;
}

function isLoopbackOrIp(host: string): boolean {
  const hostname = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return hostname === 'localhost' || /^[\d.]+$/.test(hostname) || hostname.includes(':');
}

/**
 * The URL a request was originally sent to (the capture URL MFTG posted to), rebuilt from its
 * `Host` / `X-Forwarded-*` headers, the capture token and the captured sub-path. Without an
 * `X-Forwarded-Proto` header the scheme is guessed: `http` for loopback and IP hosts (a local
 * `trigger` or curl), `https` for names (a public tunnel).
 */
export function originalUrl(event: Pick<CapturedEvent, 'headers' | 'path'>, token: string | null): string {
  const forwardedProto = headerValue(event.headers, 'x-forwarded-proto')?.split(',')[0]?.trim();
  const host = headerValue(event.headers, 'x-forwarded-host')?.split(',')[0]?.trim() || headerValue(event.headers, 'host') || '127.0.0.1';
  const scheme = forwardedProto === 'https' || forwardedProto === 'http' ? forwardedProto : isLoopbackOrIp(host) ? 'http' : 'https';
  const queryAt = event.path.indexOf('?');
  const pathname = queryAt < 0 ? event.path : event.path.slice(0, queryAt);
  const query = queryAt < 0 ? '' : event.path.slice(queryAt);
  const tokenPart = token ? `/${token}` : '';
  const subPath = pathname === '/' || pathname === '' ? (tokenPart ? '' : '/') : pathname;
  return `${scheme}://${host}${tokenPart}${subPath}${query}`;
}

/** Replaces every occurrence of the capture token (URL, header values) with MASKED_TOKEN. */
export function maskToken(text: string, token: string | null): string {
  return token ? text.split(token).join(MASKED_TOKEN) : text;
}

// ---- curl ----------------------------------------------------------------------------------------

/** A POSIX shell word for `text` (written out as UTF-8): bare when safe, else single-quoted. */
export function shellQuote(text: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * A shell word for a header line. Header values are latin1 on the wire, so a character from U+0080
 * to U+00FF must become one byte, not its UTF-8 form: such characters come from `$(printf '\ooo')`,
 * which every POSIX shell understands.
 */
export function shellQuoteLatin1(text: string): string {
  if (/^[\x00-\x7f]*$/.test(text)) return shellQuote(text);
  let out = '';
  let run = '';
  for (const char of text) {
    const code = char.charCodeAt(0);
    if (code < 0x80) {
      run += char;
      continue;
    }
    if (run) out += shellQuote(run);
    run = '';
    out += `"$(printf '\\${(code & 0xff).toString(8).padStart(3, '0')}')"`;
  }
  return run ? out + shellQuote(run) : out;
}

/**
 * True for bodies that can be pasted between single quotes as they are: valid UTF-8, no control
 * characters but newline (a pasted CR or TAB may be changed by the terminal), no C1 controls and no
 * bidirectional overrides (a terminal would act on them, or show the command other than it is).
 */
function isPlainText(body: Buffer): boolean {
  const text = body.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(body)) return false;
  return !/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/.test(text);
}

/**
 * A POSIX `printf` format that prints exactly `body`: printable ASCII as is, `\n`, `\t`, `\r`, and
 * three-digit octal escapes for every other byte (so a following digit is never swallowed).
 */
export function printfFormat(body: Buffer): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const byte = body[i]!;
    if (byte === 0x5c) out += '\\\\';
    else if (byte === 0x25) out += '%%';
    else if (byte === 0x0a) out += '\\n';
    else if (byte === 0x09) out += '\\t';
    else if (byte === 0x0d) out += '\\r';
    // A leading `-` would be taken for an option by some printf implementations.
    else if (byte >= 0x20 && byte < 0x7f && !(i === 0 && byte === 0x2d)) out += String.fromCharCode(byte);
    else out += '\\' + byte.toString(8).padStart(3, '0');
  }
  return out;
}

/**
 * A shell command that sends the same request again with curl: method, headers (as a forward
 * delivers them: hop-by-hop ones dropped, `content-length` last) and the exact body bytes, to `url`
 * (the full URL; see `requestUrl` to build it from a handler base URL). Text bodies go inline with
 * `--data-raw`; any other body is produced by `printf` with octal escapes and piped to
 * `--data-binary @-`, so even NUL bytes survive. curl's own `User-Agent`, `Accept`, `Content-Type`
 * and `Expect` are suppressed unless the request had them, so the handler sees what a forward shows.
 */
export function toCurl(event: CapturedEvent, body: Buffer, url: string): string {
  const method = event.method.toUpperCase();
  const headers = deliveredHeaders(method, event.headers, body.length);
  const has = (name: string): boolean => headers.some(([key]) => key.toLowerCase() === name);
  const options: string[] = [];
  const plain = body.length > 0 && isPlainText(body);
  const piped = body.length > 0 && !plain;

  if (method === 'HEAD') options.push('--head');
  else if (!((method === 'GET' && body.length === 0) || (method === 'POST' && body.length > 0))) options.push(`--request ${shellQuote(method)}`);
  if (new URL(url).protocol === 'https:') options.push('--http1.1');
  for (const [name, value] of headers) options.push(`--header ${shellQuoteLatin1(value === '' ? `${name};` : `${name}: ${value}`)}`);
  // An empty `Name:` tells curl not to send a header it would add by itself.
  for (const name of ['User-Agent', 'Accept']) if (!has(name.toLowerCase())) options.push(`--header ${shellQuote(`${name}:`)}`);
  if (body.length > 0) {
    if (!has('content-type')) options.push(`--header ${shellQuote('Content-Type:')}`);
    options.push(`--header ${shellQuote('Expect:')}`);
  }
  if (plain) options.push(`--data-raw ${shellQuote(body.toString('utf8'))}`);
  if (piped) options.push('--data-binary @-');

  const curl = [`curl ${shellQuote(url)}`, ...options].join(' \\\n  ');
  if (!piped) return curl;
  return `printf '${printfFormat(body).replace(/'/g, `'\\''`)}' \\\n  | ${curl}`;
}

// ---- HAR 1.2 -----------------------------------------------------------------------------------

/** A request as an export shows it. */
export interface ExportItem {
  event: EventRecord;
  body: Buffer;
  /** The URL the request is shown as sent to (the original capture URL, or a handler's). */
  url: string;
  /** The headers exactly as sent to `url`. */
  headers: HeaderPairs;
  /** The stored response preview of the event's last attempt, when there is one. */
  lastResponseBody?: Buffer;
}

/** The request as MFTG sent it: the original capture URL and every captured header, unchanged. */
export function originalItem(event: EventRecord, body: Buffer, url: string): Omit<ExportItem, 'lastResponseBody'> {
  return { event, body, url, headers: event.headers };
}

/** The request as a forward to `url` (a full URL) sends it. */
export function deliveredItem(event: EventRecord, body: Buffer, url: string): Omit<ExportItem, 'lastResponseBody'> {
  return { event, body, url, headers: [['host', new URL(url).host], ...deliveredHeaders(event.method, event.headers, body.length)] };
}

export interface HarNameValue {
  name: string;
  value: string;
}

export interface HarEntry {
  startedDateTime: string;
  time: number;
  request: {
    method: string;
    url: string;
    httpVersion: string;
    cookies: HarNameValue[];
    headers: HarNameValue[];
    queryString: HarNameValue[];
    postData?: { mimeType: string; text: string; comment?: string; _encoding?: 'base64' };
    headersSize: number;
    bodySize: number;
  };
  response: {
    status: number;
    statusText: string;
    httpVersion: string;
    cookies: HarNameValue[];
    headers: HarNameValue[];
    content: { size: number; mimeType: string; text?: string; encoding?: 'base64'; comment?: string };
    redirectURL: string;
    headersSize: number;
    bodySize: number;
    _error?: string;
  };
  cache: Record<string, never>;
  timings: { blocked: number; dns: number; connect: number; ssl: number; send: number; wait: number; receive: number };
  comment?: string;
  _mftgHooks: { eventId: string; eventType: string | null; messageId: string | null; attempts: Array<Pick<ForwardAttempt, 'kind' | 'target' | 'startedAt' | 'status' | 'error' | 'durationMs' | 'modified'>> };
}

export interface Har {
  log: {
    version: '1.2';
    creator: { name: string; version: string };
    entries: HarEntry[];
    comment?: string;
  };
}

const STATUS_TEXT: Record<number, string> = {
  200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 301: 'Moved Permanently', 302: 'Found', 303: 'See Other',
  304: 'Not Modified', 307: 'Temporary Redirect', 308: 'Permanent Redirect', 400: 'Bad Request', 401: 'Unauthorized',
  403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 408: 'Request Timeout', 409: 'Conflict', 413: 'Content Too Large',
  415: 'Unsupported Media Type', 422: 'Unprocessable Content', 429: 'Too Many Requests', 500: 'Internal Server Error',
  501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

const nameValues = (headers: HeaderPairs): HarNameValue[] => headers.map(([name, value]) => ({ name, value }));

function cookiesOf(headers: HeaderPairs, header: 'cookie' | 'set-cookie'): HarNameValue[] {
  const cookies: HarNameValue[] = [];
  for (const [name, value] of headers) {
    if (name.toLowerCase() !== header) continue;
    const pairs = header === 'cookie' ? value.split(';') : [value.split(';')[0] ?? ''];
    for (const pair of pairs) {
      const at = pair.indexOf('=');
      if (at > 0) cookies.push({ name: pair.slice(0, at).trim(), value: pair.slice(at + 1).trim() });
    }
  }
  return cookies;
}

function queryOf(url: string): HarNameValue[] {
  try {
    return [...new URL(url).searchParams].map(([name, value]) => ({ name, value }));
  } catch {
    return [];
  }
}

/** Text when the bytes are valid UTF-8 (and so survive a round trip), else null. */
function utf8Text(body: Buffer): string | null {
  const text = body.toString('utf8');
  return Buffer.from(text, 'utf8').equals(body) ? text : null;
}

function harEntry(item: ExportItem): HarEntry {
  const { event, body, url, headers } = item;
  const attempt = event.attempts[event.attempts.length - 1];
  const mimeType = headerValue(headers, 'content-type') ?? 'application/octet-stream';
  const text = utf8Text(body);
  const request: HarEntry['request'] = {
    method: event.method,
    url,
    httpVersion: 'HTTP/1.1',
    cookies: cookiesOf(headers, 'cookie'),
    headers: nameValues(headers),
    queryString: queryOf(url),
    headersSize: -1,
    bodySize: body.length,
  };
  if (body.length > 0) {
    request.postData = text !== null ? { mimeType, text } : { mimeType, text: body.toString('base64'), _encoding: 'base64', comment: 'binary body, base64-encoded' };
  }

  let response: HarEntry['response'];
  let wait = 0;
  if (attempt) {
    const preview = item.lastResponseBody ?? Buffer.alloc(0);
    const previewText = utf8Text(preview);
    const truncated = attempt.responseSize > preview.length;
    wait = attempt.durationMs;
    response = {
      status: attempt.status ?? 0,
      statusText: attempt.status !== null ? (STATUS_TEXT[attempt.status] ?? '') : (attempt.error ?? 'ERROR'),
      httpVersion: attempt.status !== null ? 'HTTP/1.1' : '',
      cookies: cookiesOf(attempt.responseHeaders, 'set-cookie'),
      headers: nameValues(attempt.responseHeaders),
      content: {
        size: attempt.responseSize,
        mimeType: headerValue(attempt.responseHeaders, 'content-type') ?? (attempt.responseSize > 0 ? 'application/octet-stream' : 'x-unknown'),
        ...(preview.length > 0 ? (previewText !== null ? { text: previewText } : { text: preview.toString('base64'), encoding: 'base64' as const }) : {}),
        ...(truncated ? { comment: `response body truncated to the first ${preview.length} of ${attempt.responseSize} bytes` } : {}),
      },
      redirectURL: headerValue(attempt.responseHeaders, 'location') ?? '',
      headersSize: -1,
      bodySize: attempt.status !== null ? attempt.responseSize : -1,
      ...(attempt.error ? { _error: attempt.error } : {}),
    };
  } else {
    // Never forwarded: the only answer was the capture server's immediate, empty 200.
    response = { status: 200, statusText: 'OK', httpVersion: 'HTTP/1.1', cookies: [], headers: [{ name: 'content-length', value: '0' }], content: { size: 0, mimeType: 'x-unknown' }, redirectURL: '', headersSize: -1, bodySize: 0 };
  }

  return {
    startedDateTime: attempt?.startedAt ?? event.receivedAt,
    time: wait,
    request,
    response,
    cache: {},
    timings: { blocked: -1, dns: -1, connect: -1, ssl: -1, send: 0, wait, receive: 0 },
    comment: attempt
      ? `mftg-hooks event ${event.id}, captured ${event.receivedAt}; response: the ${attempt.kind} to ${attempt.target}`
      : `mftg-hooks event ${event.id}, captured ${event.receivedAt}; never forwarded`,
    _mftgHooks: {
      eventId: event.id,
      eventType: event.mftg?.eventType ?? null,
      messageId: event.mftg?.messageId ?? null,
      attempts: event.attempts.map(({ kind, target, startedAt, status, error, durationMs, modified }) => ({ kind, target, startedAt, status, error, durationMs, modified })),
    },
  };
}

/** HAR 1.2 creator block. */
export function harCreator(version: string): Har['log']['creator'] {
  return { name: 'mftg-hooks', version };
}

/**
 * A HAR 1.2 log (http://www.softwareishard.com/blog/har-12-spec/), one entry per event: the request
 * as `item.headers`/`item.url` describe it, and as response the handler's answer to the event's last
 * attempt (or the capture's empty 200 when it was never forwarded). Binary request bodies are
 * base64 in `postData.text` with `_encoding: "base64"` (HAR 1.2 has no encoding field there).
 */
export function toHar(items: ExportItem[], creatorVersion = '0.1.0'): Har {
  return { log: { version: '1.2', creator: harCreator(creatorVersion), entries: items.map(harEntry) } };
}

export { harEntry };

// ---- JSON --------------------------------------------------------------------------------------

/** One archived event: everything needed to restore the exact request. */
export interface JsonExportEvent {
  id: string;
  receivedAt: string;
  method: string;
  url: string;
  path: string;
  /** As captured, in order and case, duplicates kept. */
  headers: HeaderPairs;
  remoteAddress: string | null;
  size: number;
  /** `utf8` when the bytes are valid UTF-8 (then `data` is the text itself), else `base64`. */
  body: { encoding: 'utf8' | 'base64'; data: string; sha256: string };
  mftg: MftgDetails | null;
  attempts: ForwardAttempt[];
}

export interface JsonExport {
  format: 'mftg-hooks-export';
  version: 1;
  exportedAt: string;
  events: JsonExportEvent[];
}

export function jsonExportEvent(item: Pick<ExportItem, 'event' | 'body' | 'url' | 'headers'>): JsonExportEvent {
  const { event, body } = item;
  const text = utf8Text(body);
  return {
    id: event.id,
    receivedAt: event.receivedAt,
    method: event.method,
    url: item.url,
    path: event.path,
    headers: item.headers,
    remoteAddress: event.remoteAddress,
    size: event.size,
    body: { encoding: text !== null ? 'utf8' : 'base64', data: text ?? body.toString('base64'), sha256: createHash('sha256').update(body).digest('hex') },
    mftg: mftgDetails(body),
    attempts: event.attempts,
  };
}

/** The JSON archive: `{format, version, exportedAt, events: [...]}`; bodies restore byte for byte. */
export function toJsonExport(items: Array<Pick<ExportItem, 'event' | 'body' | 'url' | 'headers'>>, exportedAt = new Date()): JsonExport {
  return { format: 'mftg-hooks-export', version: 1, exportedAt: exportedAt.toISOString(), events: items.map(jsonExportEvent) };
}

/** The exact body bytes of an archived event. */
export function bodyOf(archived: Pick<JsonExportEvent, 'body'>): Buffer {
  return archived.body.encoding === 'utf8' ? Buffer.from(archived.body.data, 'utf8') : Buffer.from(archived.body.data, 'base64');
}
