/** Header pairs in the order and case they arrived (or were sent), duplicates kept. */
export type HeaderPairs = Array<[name: string, value: string]>;

/**
 * What MFTG fields say about an event, as stored with it and shown in lists; every field is null
 * when absent. Attachment keys are not part of it: they can fill most of a document,
 * and copying them into every stored record cost a tenth of the capture path's time. Detail views
 * read them from the body (MftgDetails).
 */
export interface MftgSummary {
  eventType: string | null;
  /** `messageIdentifier`, falling back to the legacy `messageAS2ID`. */
  messageId: string | null;
  /** `partnerIdentifier` / `partnerAS2ID`. */
  partner: string | null;
  partnerName: string | null;
  /** `stationIdentifier` / `stationAS2ID`. */
  station: string | null;
  stationName: string | null;
  subject: string | null;
  failureReason: string | null;
  failures: number | null;
}

/** The summary plus the attachment keys (S3 keys of the files), read from the body when shown. */
export interface MftgDetails extends MftgSummary {
  attachments: string[];
}

/**
 * Where an event came from: `webhook` (a request to the capture URL), `trigger` (a
 * sample made by `trigger` or a face's Trigger), `reconcile` (recovered through the MFTG API).
 */
export type EventSource = 'webhook' | 'trigger' | 'reconcile';

/** One stored event. Made only by `newCapturedEvent` (events.ts), stored only through ingest (ingest.ts). */
export interface CapturedEvent {
  /** Unique, sortable by arrival; any unique prefix identifies it. */
  id: string;
  /** ISO-8601 arrival time. */
  receivedAt: string;
  method: string;
  /** The path below the token (always starts with `/`), query string included. */
  path: string;
  headers: HeaderPairs;
  remoteAddress: string | null;
  /** Body size in bytes; the body itself is kept by the store. */
  size: number;
  /** Parsed MFTG fields, or null when the body is not an MFTG JSON document. */
  mftg: MftgSummary | null;
  /**
   * True when a forward target covered the event as it was stored: it is then pending until an
   * attempt delivers it or the forwarder gives up (see delivery-state.ts). Absent for events captured
   * without a target (capture and show only) and for events stored by earlier versions.
   */
  forward?: true;
  /** Where it came from; absent on events stored by earlier versions, which read as `webhook` (`sourceOf`). */
  source?: EventSource;
}

/** The event's source; events stored before sources existed were all webhooks. */
export function sourceOf(event: Pick<CapturedEvent, 'source'>): EventSource {
  return event.source ?? 'webhook';
}

/**
 * Where an event stands with the handler: `pending` (not delivered yet, and the forwarder will try
 * again: in flight, a retry scheduled, the handler down, or left over from an earlier run),
 * `delivered` (an attempt got a 2xx), `failed` (the forwarder gave up: a 4xx, a redirect, retries
 * used up, a host that does not resolve).
 */
export type DeliveryState = 'pending' | 'delivered' | 'failed';

export type AttemptKind = 'forward' | 'retry' | 'replay';

/** One try at delivering an event to a target. Created only by the delivery module (delivery/attempts.ts). */
export interface ForwardAttempt {
  id: string;
  eventId: string;
  kind: AttemptKind;
  target: string;
  /** ISO-8601 start time. */
  startedAt: string;
  /** HTTP status, or null when no response came (see `error`). */
  status: number | null;
  /** `ECONNREFUSED`, `TIMEOUT`, … or null when a response came. */
  error: string | null;
  durationMs: number;
  responseHeaders: HeaderPairs;
  /** Full size of the response body; the store keeps at most RESPONSE_PREVIEW_BYTES of it. */
  responseSize: number;
  /** True when the request differed from the captured one (replay with --set/--header/--edit). */
  modified: boolean;
  /**
   * The event's delivery state after this attempt, as the forwarder decided it (`pending`: it tries
   * again). Absent on replays (a failed replay leaves the state as it was) and on attempts stored by
   * earlier versions (a failure there counts as final).
   */
  delivery?: DeliveryState;
}

/** An event with every attempt recorded so far, oldest first. */
export interface EventRecord extends CapturedEvent {
  attempts: ForwardAttempt[];
}

export function isSuccess(attempt: Pick<ForwardAttempt, 'status'>): boolean {
  return attempt.status !== null && attempt.status >= 200 && attempt.status < 300;
}

export function lastAttempt(event: EventRecord): ForwardAttempt | undefined {
  return event.attempts[event.attempts.length - 1];
}

/**
 * The compile-time check of an exhaustive switch: a `default:` that calls this stops compiling when a
 * new kind is added and a switch forgets it (a new session element can not be ignored silently).
 */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}
