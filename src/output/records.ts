import type { RejectReason } from '../core/session-view.js';
import { mftgDetails } from '../core/mftg.js';
import { reconcileRecord } from '../core/reconcile/summary-text.js';
import type { DeliveryPhase, SessionElement, TunnelStateName } from '../core/session-view.js';
import { assertNever, sourceOf, type AttemptKind, type CapturedEvent, type EventRecord, type EventSource, type ForwardAttempt, type HeaderPairs, type MftgDetails } from '../core/types.js';

// The --json records. Object types rather than interfaces: a record is also a plain
// Record<string, unknown> where one is expected (the web API's JSON answers).

/** `ready`: the first record, once the capture server accepts requests. */
export type ReadyRecord = {
  type: 'ready';
  localUrl: string;
  store: string;
  forwardTo: string | null;
  routes: Record<string, string>;
  /** The web inspector's URL, or null with `--no-inspect`. */
  inspectUrl: string | null;
};

/** `tunnel`: on every state change; `publicUrl` includes the token path. */
export type TunnelRecord = {
  type: 'tunnel';
  state: TunnelStateName;
  publicUrl: string | null;
  reason: string | null;
  attempt: number;
  nextRetryAt: string | null;
  urlChanged: { previous: string; current: string } | null;
};

/** `event`: one captured request (also what `events list --json` prints). */
export type EventJsonRecord = {
  type: 'event';
  id: string;
  receivedAt: string;
  method: string;
  path: string;
  size: number;
  eventType: string | null;
  messageId: string | null;
  partner: string | null;
  station: string | null;
  subject: string | null;
  source: EventSource;
  /** Made by another process (only in the listener's records). */
  foreign?: boolean;
};

/** `attempt`: one forward, retry or replay and what the handler answered. */
export type AttemptRecord = {
  type: 'attempt';
  eventId: string;
  id: string;
  kind: AttemptKind;
  target: string;
  status: number | null;
  error: string | null;
  durationMs: number;
  startedAt: string;
  modified: boolean;
};

/** `events show --json`: the event with its headers, MFTG summary and every attempt in full. */
export type EventDetailRecord = EventJsonRecord & {
  remoteAddress: string | null;
  headers: HeaderPairs;
  mftg: MftgDetails | null;
  attempts: Array<AttemptRecord & { responseHeaders: HeaderPairs; responseSize: number }>;
};

export type RejectedRecord = {
  type: 'rejected';
  reason: RejectReason;
  path: string;
  detail: string | null;
};

export type WarningRecord = {
  type: 'warning';
  message: string;
};

/** The store was cleared (from this or another terminal). */
export type ClearedRecord = {
  type: 'cleared';
};

/** The listener's delivery milestones (see DeliveryPhase). */
export type DeliveryRecord = {
  type: 'delivery';
  phase: DeliveryPhase['phase'];
  inFlight: number;
  pending: number;
  deadlineAt: string | null;
};

/** `reconcile`: a catch-up through the MFTG API (from `listen`, and the last line of `reconcile --json`). */
export type ReconcileJsonRecord = Record<string, unknown> & { type: 'reconcile' };

/** Every record a listener writes with `--json` (and the web inspector's stream sends). */
export type JsonRecord = ReadyRecord | TunnelRecord | EventJsonRecord | AttemptRecord | RejectedRecord | WarningRecord | ClearedRecord | DeliveryRecord | ReconcileJsonRecord;

/**
 * The `event` record (of `--json`, and of `events list/show --json`). The listener's
 * records add `foreign` (made by another process); it is set here, not spread in afterwards, because
 * this runs once per captured request.
 */
export function eventRecord(event: CapturedEvent, foreign?: boolean): EventJsonRecord {
  const m = event.mftg;
  const record: EventJsonRecord = {
    type: 'event',
    id: event.id,
    receivedAt: event.receivedAt,
    method: event.method,
    path: event.path,
    size: event.size,
    eventType: m?.eventType ?? null,
    messageId: m?.messageId ?? null,
    // The AS2 ids, else the names (payloads that carry only partnerName / stationName).
    partner: m?.partner ?? m?.partnerName ?? null,
    station: m?.station ?? m?.stationName ?? null,
    subject: m?.subject ?? null,
    source: sourceOf(event),
  };
  if (foreign !== undefined) record.foreign = foreign;
  return record;
}

/** The `attempt` record. */
export function attemptRecord(attempt: ForwardAttempt): AttemptRecord {
  return {
    type: 'attempt',
    eventId: attempt.eventId,
    id: attempt.id,
    kind: attempt.kind,
    target: attempt.target,
    status: attempt.status,
    error: attempt.error,
    durationMs: attempt.durationMs,
    startedAt: attempt.startedAt,
    modified: attempt.modified,
  };
}

/** `events show --json`: the event record plus headers, MFTG summary and every attempt in full. */
export function eventDetailRecord(event: EventRecord, body: Buffer): EventDetailRecord {
  return {
    ...eventRecord(event),
    remoteAddress: event.remoteAddress,
    headers: event.headers,
    mftg: mftgDetails(body),
    attempts: event.attempts.map((attempt) => ({ ...attemptRecord(attempt), responseHeaders: attempt.responseHeaders, responseSize: attempt.responseSize })),
  };
}

/** The `--json` record for a session element, or null for elements that have none. */
export function sessionRecord(element: SessionElement): JsonRecord | null {
  switch (element.type) {
    case 'ready':
      return { type: 'ready', localUrl: element.localUrl, store: element.store, forwardTo: element.forwardTo, routes: element.routes, inspectUrl: element.inspectUrl ?? null };
    case 'tunnel': {
      const t = element.tunnel;
      return {
        type: 'tunnel',
        state: t.state,
        publicUrl: element.publicCaptureUrl,
        reason: t.reason,
        attempt: t.attempt,
        nextRetryAt: t.nextRetryAt === null ? null : new Date(t.nextRetryAt).toISOString(),
        urlChanged: t.urlChanged,
      };
    }
    case 'event':
      return eventRecord(element.event, element.foreign);
    case 'attempt':
      return attemptRecord(element.attempt);
    case 'rejected':
      return { type: 'rejected', reason: element.reason, path: element.path, detail: element.detail };
    case 'warning':
      return { type: 'warning', message: element.message };
    case 'cleared':
      return { type: 'cleared' };
    case 'pending':
      return null;
    case 'delivery':
      return {
        type: 'delivery',
        phase: element.phase,
        inFlight: element.inFlight,
        pending: element.pending,
        deadlineAt: element.deadlineAt === null ? null : new Date(element.deadlineAt).toISOString(),
      };
    case 'reconcile':
      return { ...reconcileRecord(element.summary), reason: element.reason, type: 'reconcile' };
    default:
      return assertNever(element, 'session element');
  }
}
