import { forwardableHeaders, joinTarget } from './http-send.js';
import type { CapturedEvent, EventRecord, HeaderPairs } from './types.js';

/**
 * What every export of a captured request needs, whatever its format: the URL it is shown as sent
 * to, the headers a forward delivers, token masking. The formats themselves (curl, HAR, JSON) are in
 * src/output/export/.
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

export function headerValue(headers: HeaderPairs, name: string): string | null {
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

/** Text when the bytes are valid UTF-8 (and so survive a round trip), else null. */
export function utf8Text(body: Buffer): string | null {
  const text = body.toString('utf8');
  return Buffer.from(text, 'utf8').equals(body) ? text : null;
}
