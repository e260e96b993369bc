import { mftgDetails } from '../core/mftg.js';
import { reconcileRecord } from '../core/reconcile/reconciler.js';
import type { SessionElement } from '../core/session.js';
import { assertNever, sourceOf, type CapturedEvent, type EventRecord, type ForwardAttempt } from '../core/types.js';

/**
 * The `event` record of PRODUCT.md section 4 (and of `events list/show --json`). The listener's
 * records add `foreign` (made by another process); it is set here, not spread in afterwards, because
 * this runs once per captured request.
 */
export function eventRecord(event: CapturedEvent, foreign?: boolean): Record<string, unknown> {
  const m = event.mftg;
  const record: Record<string, unknown> = {
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
export function attemptRecord(attempt: ForwardAttempt): Record<string, unknown> {
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
export function eventDetailRecord(event: EventRecord, body: Buffer): Record<string, unknown> {
  return {
    ...eventRecord(event),
    remoteAddress: event.remoteAddress,
    headers: event.headers,
    mftg: mftgDetails(body),
    attempts: event.attempts.map((attempt) => ({ ...attemptRecord(attempt), responseHeaders: attempt.responseHeaders, responseSize: attempt.responseSize })),
  };
}

/** The `--json` record for a session element, or null for elements that have none. */
export function sessionRecord(element: SessionElement): Record<string, unknown> | null {
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
    case 'reconcile':
      return { ...reconcileRecord(element.summary), reason: element.reason };
    case 'delivery':
      return { type: 'delivery', phase: element.phase, inFlight: element.inFlight, pending: element.pending, deadlineAt: element.deadlineAt === null ? null : new Date(element.deadlineAt).toISOString() };
    default:
      return assertNever(element, 'session element');
  }
}
