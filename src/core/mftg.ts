import type { MftgDetails, MftgSummary } from './types.js';

/** The event types MFTG sends (field `eventType`). */
export const MFTG_EVENT_TYPES = ['MESSAGE.RECEIVED.SUCCESS', 'MESSAGE.SEND.SUCCESS', 'MESSAGE.SEND.FAILED'] as const;
export type MftgEventType = (typeof MFTG_EVENT_TYPES)[number];

/** The short names of the event types (what `trigger` and `events list --type` accept besides the full names). */
export const EVENT_TYPE_ALIASES: Readonly<Record<MftgEventType, string>> = {
  'MESSAGE.RECEIVED.SUCCESS': 'received',
  'MESSAGE.SEND.SUCCESS': 'sent',
  'MESSAGE.SEND.FAILED': 'failed',
};

/** What a typed event type name means: one type, several (an ambiguous part), or none. */
export type EventTypeMatch = { type: MftgEventType } | { ambiguous: MftgEventType[] } | null;

/**
 * The words `trigger` and `events list --type` accept, in any case: the full name
 * (`MESSAGE.SEND.FAILED`), the short name (`failed`), or any part of either that only one type has
 * (`fail`, `RECEIVED`, `send.s`).
 */
export function resolveEventType(name: string): EventTypeMatch {
  const wanted = name.trim().toUpperCase();
  if (wanted === '') return null;
  const exact = MFTG_EVENT_TYPES.find((type) => type === wanted || EVENT_TYPE_ALIASES[type].toUpperCase() === wanted);
  if (exact) return { type: exact };
  const partial = MFTG_EVENT_TYPES.filter((type) => type.includes(wanted) || EVENT_TYPE_ALIASES[type].toUpperCase().includes(wanted));
  if (partial.length === 1) return { type: partial[0]! };
  return partial.length > 1 ? { ambiguous: partial } : null;
}

/**
 * Field names renamed in MFTG 3.1.1: MFTG sends both during the deprecation period, then only the
 * new one. Readers take the new name first and fall back to the legacy one.
 */
export const RENAMED_FIELDS = {
  messageIdentifier: 'messageAS2ID',
  partnerIdentifier: 'partnerAS2ID',
  stationIdentifier: 'stationAS2ID',
} as const;

/** The partner and station to show: the AS2 identifiers, else the names (some payloads carry only `partnerName` / `stationName`). */
export function partyNames(m: Pick<MftgSummary, 'partner' | 'partnerName' | 'station' | 'stationName'>): { partner: string | null; station: string | null } {
  return { partner: m.partner ?? m.partnerName ?? null, station: m.station ?? m.stationName ?? null };
}

/** Bodies larger than this are not parsed for a summary (they are still stored and forwarded):
 * parsing blocks the event loop, about 3 ms per MiB. */
export const SUMMARY_PARSE_LIMIT_BYTES = 16 * 1024 * 1024;

function text(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

function pick(doc: Record<string, unknown>, modern: keyof typeof RENAMED_FIELDS): string | null {
  return text(doc[modern]) ?? text(doc[RENAMED_FIELDS[modern]]);
}

/** Parses a body as JSON when it looks like an object; null for anything else. */
export function parseJsonObject(body: Buffer): Record<string, unknown> | null {
  if (body.length === 0 || body.length > SUMMARY_PARSE_LIMIT_BYTES) return null;
  let start = 0;
  while (start < body.length && (body[start] === 0x20 || body[start] === 0x0a || body[start] === 0x0d || body[start] === 0x09 || body[start] === 0xef || body[start] === 0xbb || body[start] === 0xbf))
    start++;
  if (body[start] !== 0x7b /* { */) return null;
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function summaryOf(doc: Record<string, unknown>): MftgSummary | null {
  const summary: MftgSummary = {
    eventType: text(doc.eventType),
    messageId: pick(doc, 'messageIdentifier'),
    partner: pick(doc, 'partnerIdentifier'),
    partnerName: text(doc.partnerName),
    station: pick(doc, 'stationIdentifier'),
    stationName: text(doc.stationName),
    subject: text(doc.messageSubject) ?? text(doc.subject),
    failureReason: text(doc.failureReason),
    failures: typeof doc.failures === 'number' ? doc.failures : null,
  };
  return summary.eventType === null && summary.messageId === null ? null : summary;
}

/**
 * What the UI and `events list` show of an MFTG delivery (stored with the event). Returns null when
 * the body is not a JSON object with at least an `eventType` or a message id: such requests are
 * shown by method and path.
 */
export function summarize(body: Buffer): MftgSummary | null {
  const doc = parseJsonObject(body);
  return doc ? summaryOf(doc) : null;
}

/**
 * The summary plus the attachment keys, for detail views (`events show`, the UI's details, export).
 * Pass the parsed body when the caller has it already (to pretty-print it too).
 */
export function mftgDetails(body: Buffer, doc: Record<string, unknown> | null = parseJsonObject(body)): MftgDetails | null {
  const summary = doc ? summaryOf(doc) : null;
  if (!doc || !summary) return null;
  const attachments = Array.isArray(doc.attachments) ? doc.attachments.filter((a): a is string => typeof a === 'string') : [];
  return { ...summary, attachments };
}
