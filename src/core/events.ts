import { randomBytes, timingSafeEqual } from 'node:crypto';
import { newId } from './ids.js';
import { summarize } from './mftg.js';
import type { CapturedEvent, EventSource, HeaderPairs } from './types.js';

/**
 * The header that says an event is not a webhook: `trigger` or `reconcile`. Honoured only together
 * with SOURCE_SECRET_HEADER carrying the running listener's secret (a stranger who knows the capture
 * URL cannot make a delivery look like a sample). Both are removed before the event is stored.
 */
export const SOURCE_HEADER = 'x-mftg-hooks-source';
/** Carries the listener's per-run secret (`listener.json`, readable only by the user). */
export const SOURCE_SECRET_HEADER = 'x-mftg-hooks-source-secret';
/** On an answer to a marked request: the id of the event it became (so `trigger` need not search). */
export const EVENT_ID_HEADER = 'x-mftg-hooks-event-id';

/** A listener's source secret: 192 bits, URL-safe. */
export function newSourceSecret(): string {
  return randomBytes(24).toString('base64url');
}

export interface NewEventInput {
  source: EventSource;
  method: string;
  /** The path below the token (starts with `/`), query string included. */
  path: string;
  headers: HeaderPairs;
  remoteAddress: string | null;
  body: Buffer;
  /** Arrival time (epoch ms); default now. */
  receivedAtMs?: number;
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

/** The one event factory: every source (capture server, trigger, reconcile) makes its events here. */
export function newCapturedEvent(input: NewEventInput): CapturedEvent {
  const receivedAt = input.receivedAtMs ?? Date.now();
  return {
    id: newId(receivedAt),
    receivedAt: isoTimestamp(receivedAt),
    method: input.method,
    path: input.path,
    headers: input.headers,
    remoteAddress: input.remoteAddress,
    size: input.body.length,
    mftg: summarize(input.body),
    source: input.source,
  };
}

function sameSecret(given: string, secret: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The source a request to the capture URL stands for. `webhook` unless it carries a valid source
 * header together with the listener's `secret`; then the secret is dropped from what is stored and
 * forwarded, and the source header is kept once. A request without the right secret is a webhook and is kept exactly as it came
 * (its headers included: they are the sender's).
 */
export function readSourceMark(headers: HeaderPairs, secret: string | null): { source: EventSource; headers: HeaderPairs; marked: boolean } {
  if (secret === null) return { source: 'webhook', headers, marked: false };
  let claimed: string | null = null;
  let given: string | null = null;
  for (const [name, value] of headers) {
    // Cheap first test: the capture path runs this on every request.
    if (name.length < 18 || (name.charCodeAt(0) | 0x20) !== 0x78) continue;
    const lower = name.toLowerCase();
    if (lower === SOURCE_HEADER) claimed = value.trim().toLowerCase();
    else if (lower === SOURCE_SECRET_HEADER) given = value.trim();
  }
  if (given === null || claimed === null || !sameSecret(given, secret)) return { source: 'webhook', headers, marked: false };
  if (claimed !== 'trigger' && claimed !== 'reconcile' && claimed !== 'webhook') return { source: 'webhook', headers, marked: false };
  // The secret never leaves the capture server; the source header stays (once), so the handler can
  // tell a sample or a recovered delivery from a live one.
  let sourceKept = false;
  const kept = headers.filter(([name]) => {
    const lower = name.toLowerCase();
    if (lower === SOURCE_SECRET_HEADER) return false;
    if (lower !== SOURCE_HEADER) return true;
    if (sourceKept) return false;
    sourceKept = true;
    return true;
  });
  return { source: claimed, headers: kept, marked: true };
}
