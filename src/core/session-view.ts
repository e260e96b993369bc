import type { PendingDelivery, Targets } from './delivery/targets.js';
import type { RejectReason } from './capture-server.js';
import type { ReconcileSummary } from './reconcile/reconciler.js';
import type { ReconcileReason } from './reconcile/scheduler.js';
import type { MftgHooksError } from './errors.js';
import type { AttachmentListing, AttachmentsProgress, OpenedAttachment, SavedAttachments } from './reconcile/attachments.js';
import type { ListFilter } from './store/store.js';
import type { TunnelState } from './tunnel.js';
import type { CapturedEvent, EventRecord, ForwardAttempt, HeaderPairs } from './types.js';

/**
 * The port every face uses: the terminal UI, the plain and `--json` printers, and the web inspector
 * reach a listener (or, for `mftg-hooks inspect`, a store alone) only through this. It never prints
 * and knows nothing of how a face draws.
 */
/** Types every face needs, from the one port. */
export type { RejectReason } from './capture-server.js';
export type { PendingDelivery, Targets } from './delivery/targets.js';
export type { TunnelState, TunnelStateName } from './tunnel.js';
export type { AttachmentListing, AttachmentsProgress, SavedAttachments, SavedFile, SavedState } from './reconcile/attachments.js';

export interface SessionView {
  /** Every element from now on, in order. Returns the unsubscribe function. */
  subscribe(listener: (element: SessionElement) => void): () => void;
  /** What a face shows in its header; a new object on every call. */
  snapshot(): SessionSnapshot;
  /** Stored events, newest `limit` of them, oldest first (the store is the source of truth). */
  listEvents(filter: ListFilter): Promise<EventRecord[]>;
  /**
   * Stored events with an id after `afterId` (from the oldest when null), oldest first, at most
   * `limit`, each with every attempt: a face that fell behind pages forward through the store with
   * it (see lagging-output.ts). The listener's and `inspect`'s views have it; without it a face reads
   * back at most the newest events.
   */
  eventsAfter?(afterId: string | null, limit: number): Promise<EventRecord[]>;
  /** One event (any unique id prefix) with every attempt, oldest first. */
  getEvent(idOrPrefix: string): Promise<EventRecord>;
  /** The captured body bytes, exactly as received. */
  getBody(idOrPrefix: string): Promise<Buffer>;
  /** The stored preview of one attempt's response body (at most RESPONSE_PREVIEW_BYTES). */
  getResponseBody(eventIdOrPrefix: string, attemptId: string): Promise<Buffer>;
  /**
   * Sends a stored event again and records the attempt (kind `replay`; `modified` when `edits`
   * changed the body or the headers). Without `edits.target`, the event goes where the listener
   * forwards it (its route, else `--forward-to`).
   */
  replay(idOrPrefix: string, edits?: ReplayEdits): Promise<ForwardAttempt>;
  /** Stores and forwards a realistic sample event (source `trigger`); resolves with its id. */
  trigger(request: TriggerRequest): Promise<string>;
  /** Skips the tunnel's backoff wait; no-op without a tunnel. */
  retryTunnel(): void;
  /**
   * The files of an MFTG event's message, through the MFTG API: E_MFTG_NO_CREDENTIALS
   * without credentials in the environment. Absent on a view that cannot reach the API.
   * `progress.asking` is called once the event is known to be an MFTG delivery and credentials are
   * set, before MFTG is asked.
   */
  listAttachments?(idOrPrefix: string, progress?: Pick<AttachmentsProgress, 'asking'>): Promise<AttachmentListing>;
  /** One of those files (`index` in the list) as a stream; the pre-signed URL stays in the view. */
  openAttachment?(idOrPrefix: string, index: number): Promise<OpenedAttachment>;
  /**
   * Saves every file of the event's message into `dir` (absolute; created if missing) as `events
   * attachments --save` does: byte for byte, never outside `dir`, never over an existing file.
   * `progress` hears when MFTG is asked, then each file as it is done. Absent on a view that
   * cannot reach the API or does not write files (the web inspector's downloads go to the browser).
   */
  saveAttachments?(idOrPrefix: string, dir: string, progress?: AttachmentsProgress): Promise<SavedAttachments>;
  /** Null when files can be asked for; else why not (E_MFTG_NO_CREDENTIALS, with the hint). */
  attachmentsUnavailable?(): MftgHooksError | null;
}

export interface ReplayEdits {
  /** Replaces the stored body. */
  body?: Buffer;
  /** Replaces the stored headers (order and case kept; hop-by-hop ones are dropped when sent). */
  headers?: HeaderPairs;
  /** A handler base URL (the captured sub-path and query are appended); routes are ignored. */
  target?: string;
}

export interface TriggerRequest {
  /** `MESSAGE.RECEIVED.SUCCESS`, … or anything `trigger` accepts (`received`, `failed`, …). */
  eventType: string;
  /** Field names: both (what MFTG sends today), only the legacy ones, or only the new ones. */
  variant?: 'both' | 'legacy' | 'modern';
}

export interface SessionSnapshot {
  /** `listen` (a capture server runs) or `inspect` (a store alone: nothing is captured). */
  mode: 'listen' | 'inspect';
  ready: boolean;
  store: string;
  /** `http://127.0.0.1:PORT/TOKEN`, or null in `inspect` mode and before ready. */
  localUrl: string | null;
  /** The public capture URL with the token path, or null. */
  publicCaptureUrl: string | null;
  tunnel: TunnelState;
  targets: Targets;
  stats: SessionStats;
  /** The web inspector's URL while it runs. */
  inspectUrl: string | null;
}

/** Everything a listener reports. Front ends (live UI, plain lines, --json) consume only these. */
export type SessionElement =
  | { type: 'ready'; localUrl: string; store: string; forwardTo: string | null; routes: Record<string, string>; inspectUrl?: string | null }
  | { type: 'tunnel'; tunnel: TunnelState; publicCaptureUrl: string | null }
  | { type: 'event'; event: CapturedEvent; foreign: boolean }
  | { type: 'attempt'; attempt: ForwardAttempt; foreign: boolean }
  | { type: 'pending'; eventId: string; pending: PendingDelivery | null }
  | { type: 'rejected'; reason: RejectReason; path: string; detail: string | null }
  | { type: 'warning'; message: string }
  | { type: 'cleared' }
  /** A reconcile run (catching up through the MFTG API) started (`running`) or ended (`done`, `failed`). */
  | { type: 'reconcile'; summary: ReconcileSummary; reason: ReconcileReason }
  | DeliveryPhase;

/**
 * The listener's delivery milestones: `redelivering` (at start: `pending` events left by an earlier
 * run go out first, in arrival order), `finishing` (shutting down: `inFlight` attempts are still on
 * the wire and get until `deadlineAt`), `stopped` (the last element: `pending` events were not
 * delivered and are re-delivered at the next start with a target).
 */
export interface DeliveryPhase {
  type: 'delivery';
  phase: 'redelivering' | 'finishing' | 'stopped';
  inFlight: number;
  pending: number;
  deadlineAt: number | null;
  /** The counters at that moment (a copy). */
  stats: SessionStats;
}

/**
 * What a listener counts. `captured`, `delivered`, `failed`, `waiting` and `rejected` count events;
 * `attempts` counts handler attempts (forwards, retries and replays, from any terminal) apart.
 */
export interface SessionStats {
  /** Events this listener stored. */
  captured: number;
  /** Events delivered (an attempt got a 2xx) since they became this listener's: a replay of a delivered event is not counted again. */
  delivered: number;
  /** Events whose delivery failed for good (not retryable, or retries used up); a later successful replay moves one to `delivered`. */
  failed: number;
  /** Events not delivered yet that will be (pending): in flight, a retry scheduled, the handler down, or left over from an earlier run. */
  waiting: number;
  rejected: number;
  rejectedByReason: Partial<Record<RejectReason, number>>;
  /** Handler attempts by outcome. */
  attempts: { ok: number; failed: number };
}
