import type { AttemptKind, CapturedEvent, DeliveryState, EventSource, ForwardAttempt } from '../types.js';
import { FrameKind } from './frame.js';

/** A stored frame's meta, checked: what every reader of the store works with. */
export type StoredRecord = { kind: FrameKind.Event; event: CapturedEvent } | { kind: FrameKind.Attempt; attempt: ForwardAttempt } | { kind: FrameKind.Clear };

const SOURCES: ReadonlySet<string> = new Set<EventSource>(['webhook', 'trigger', 'reconcile']);
const KINDS: ReadonlySet<string> = new Set<AttemptKind>(['forward', 'retry', 'replay']);
const STATES: ReadonlySet<string> = new Set<DeliveryState>(['pending', 'delivered', 'failed']);

type Check = (value: unknown) => boolean;
const isString: Check = (value) => typeof value === 'string';
const isStringOrNull: Check = (value) => value === null || typeof value === 'string';
const isNumber: Check = (value) => typeof value === 'number' && Number.isFinite(value);
const isNumberOrNull: Check = (value) => value === null || isNumber(value);
const isObjectOrNull: Check = (value) => value === null || (typeof value === 'object' && !Array.isArray(value));
const isHeaderPairs: Check = (value) => Array.isArray(value) && value.every((pair) => Array.isArray(pair) && pair.length === 2 && typeof pair[0] === 'string' && typeof pair[1] === 'string');
const isOneOf =
  (values: ReadonlySet<string>): Check =>
  (value) =>
    typeof value === 'string' && values.has(value);

/**
 * A field: how it is checked, and what a record without it reads as (none: the record needs it).
 * Optional fields of the types (`source`, `forward`, `delivery`) stay absent when missing: their
 * defaults (`webhook`, not covered by a target, final) are what absence means to their readers.
 */
interface Field {
  check: Check;
  missing?: unknown;
  optional?: true;
}

const EVENT_FIELDS: Record<string, Field> = {
  id: { check: isString },
  receivedAt: { check: isString, missing: '' },
  method: { check: isString, missing: 'POST' },
  path: { check: isString, missing: '/' },
  headers: { check: isHeaderPairs, missing: [] },
  remoteAddress: { check: isStringOrNull, missing: null },
  size: { check: isNumber, missing: 0 },
  mftg: { check: isObjectOrNull, missing: null },
  forward: { check: (value) => value === true, optional: true },
  source: { check: isOneOf(SOURCES), optional: true },
};

const ATTEMPT_FIELDS: Record<string, Field> = {
  id: { check: isString },
  eventId: { check: isString },
  kind: { check: isOneOf(KINDS), missing: 'forward' },
  target: { check: isString, missing: '' },
  startedAt: { check: isString, missing: '' },
  status: { check: isNumberOrNull, missing: null },
  error: { check: isStringOrNull, missing: null },
  durationMs: { check: isNumber, missing: 0 },
  responseHeaders: { check: isHeaderPairs, missing: [] },
  responseSize: { check: isNumber, missing: 0 },
  modified: { check: (value) => typeof value === 'boolean', missing: false },
  delivery: { check: isOneOf(STATES), optional: true },
};

/** The meta with its fields checked and missing ones filled in (other fields are kept), or what is wrong. */
function decodeFields<T>(meta: Record<string, unknown>, fields: Record<string, Field>): T | string {
  const out: Record<string, unknown> = { ...meta };
  for (const [name, field] of Object.entries(fields)) {
    const value = meta[name];
    if (value === undefined) {
      if (field.optional) continue;
      if (!('missing' in field)) return `no ${name}`;
      out[name] = field.missing;
    } else if (!field.check(value)) {
      return `a malformed ${name}`;
    }
  }
  return out as T;
}

/**
 * The one decoder of stored records: a frame's kind and its parsed JSON meta, checked against the
 * shape its kind needs. Returns the record, or what is wrong with it (the frame is then skipped,
 * with a warning, like a torn one).
 */
export function decodeRecord(kind: FrameKind, meta: unknown): StoredRecord | string {
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) return 'its metadata is not an object';
  const fields = meta as Record<string, unknown>;
  if (kind === FrameKind.Clear) return { kind };
  if (kind === FrameKind.Event) {
    const event = decodeFields<CapturedEvent>(fields, EVENT_FIELDS);
    return typeof event === 'string' ? event : { kind, event };
  }
  const attempt = decodeFields<ForwardAttempt>(fields, ATTEMPT_FIELDS);
  return typeof attempt === 'string' ? attempt : { kind, attempt };
}
