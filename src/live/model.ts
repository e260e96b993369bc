import type { PendingDelivery, Targets } from '../core/session-view.js';
import { reconcileNotice } from '../core/reconcile/summary-text.js';
import type { SessionElement, SessionStats, TunnelState } from '../core/session-view.js';
import type { CapturedEvent, EventRecord, EventSource, ForwardAttempt, MftgSummary } from '../core/types.js';
import type { FaceView } from './face.js';
import { assertNever, sourceOf } from '../core/types.js';

/** Event summaries kept in memory for the list; older ones stay in the store (`events list`). */
export const MAX_ROWS = 5_000;
/** Updates are published at most this often, so a burst costs one render per batch, not one per event. */
export const BATCH_MS = 50;
/**
 * The longest wait between two snapshots. A render runs on the event loop that acknowledges
 * deliveries: under load (a burst, a busy machine) snapshots come less often, so that drawing never
 * takes more than about a fifth of the loop and an ack never queues behind a train of renders.
 */
export const MAX_BATCH_MS = 1_000;
/** Wait at least this many times the last publish (and the render it caused) took. */
export const RENDER_COST_FACTOR = 4;
/** Notices (replay results, warnings, rejections) kept for the status line. */
export const MAX_NOTICES = 20;

/** What the view-model reads of a session: the view port, or the part of it a face passes on. */
export type LiveSource = Pick<FaceView, 'subscribe' | 'snapshot' | 'listEvents'>;

/** One line of the event list: what a row shows, without headers or body. */
export interface EventRow {
  id: string;
  receivedAt: string;
  method: string;
  path: string;
  size: number;
  contentType: string | null;
  /** webhook, trigger or reconcile. */
  source: EventSource;
  mftg: MftgSummary | null;
  /** Written by another process. */
  foreign: boolean;
  attempts: number;
  last: ForwardAttempt | null;
  pending: PendingDelivery | null;
  /** Lower-case text the filter searches. */
  search: string;
}

export type NoticeTone = 'info' | 'ok' | 'fail' | 'warn';

export interface Notice {
  seq: number;
  at: number;
  tone: NoticeTone;
  text: string;
}

/** An immutable picture of everything the UI shows; a new object after every batch. */
export interface LiveSnapshot {
  version: number;
  /** Oldest first, sorted by id (= arrival). At most MAX_ROWS. */
  rows: readonly EventRow[];
  /** The history is still being read from the store. */
  loading: boolean;
  ready: boolean;
  localUrl: string | null;
  tunnel: TunnelState;
  publicCaptureUrl: string | null;
  targets: Targets;
  stats: Omit<SessionStats, 'rejectedByReason'> & { rejectedByReason: SessionStats['rejectedByReason'] };
  notices: readonly Notice[];
  /** Bumped when the store was cleared (from this or another terminal). */
  clears: number;
  /** The store's directory. */
  store: string;
}

function contentTypeOf(event: CapturedEvent): string | null {
  const found = event.headers.find(([name]) => name.toLowerCase() === 'content-type');
  return found ? found[1] : null;
}

function searchTextOf(event: CapturedEvent): string {
  const m = event.mftg;
  const parts = [event.id, sourceOf(event), event.method, event.path];
  if (m) parts.push(m.eventType ?? '', m.messageId ?? '', m.partner ?? '', m.partnerName ?? '', m.station ?? '', m.stationName ?? '', m.subject ?? '', m.failureReason ?? '');
  return parts.join('\u0000').toLowerCase();
}

export function rowOf(event: CapturedEvent, attempts: readonly ForwardAttempt[] = [], foreign = false): EventRow {
  return {
    id: event.id,
    receivedAt: event.receivedAt,
    method: event.method,
    path: event.path,
    size: event.size,
    contentType: contentTypeOf(event),
    source: sourceOf(event),
    mftg: event.mftg,
    foreign,
    attempts: attempts.length,
    last: attempts[attempts.length - 1] ?? null,
    pending: null,
    search: searchTextOf(event),
  };
}

/** Index of the first row whose id is >= id (rows are sorted by id). */
export function lowerBound(rows: readonly { id: string }[], id: string): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (rows[mid]!.id < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The UI's external store (read with useSyncExternalStore). It listens to the session, keeps the
 * newest MAX_ROWS event summaries, and publishes a new snapshot at most every BATCH_MS: a burst of
 * hundreds of events per second costs a few renders per second, and no event is dropped.
 */
export class LiveModel {
  private readonly source: LiveSource;
  private readonly maxRows: number;
  private readonly batchMs: number;
  private rows: EventRow[] = [];
  private readonly indexById = new Map<string, EventRow>();
  private notices: Notice[] = [];
  private noticeSeq = 0;
  private loading = false;
  private loaded = false;
  /** Attempts and pending states that arrived for events the history load has not delivered yet. */
  private stashedAttempts: ForwardAttempt[] = [];
  private stashedPending = new Map<string, PendingDelivery | null>();
  private ready: boolean;
  private localUrl: string | null;
  private tunnel: TunnelState;
  private publicCaptureUrl: string | null;
  private clears = 0;
  private version = 0;
  private snapshot: LiveSnapshot;
  private readonly listeners = new Set<() => void>();
  private timer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  private lastFlush = 0;
  /** The wait before the next snapshot: BATCH_MS when idle, longer under load (see MAX_BATCH_MS). */
  private wait: number;
  private readonly now: () => number;
  /** While true (the terminal has not taken the last frame yet), no new snapshot is published. */
  private readonly holdWhile: () => boolean;
  private dirty = false;
  private readonly unsubscribe: () => void;
  private disposed = false;

  constructor(source: LiveSource, options: { maxRows?: number; batchMs?: number; now?: () => number; holdWhile?: () => boolean } = {}) {
    this.source = source;
    this.maxRows = options.maxRows ?? MAX_ROWS;
    this.batchMs = options.batchMs ?? BATCH_MS;
    this.wait = this.batchMs;
    this.now = options.now ?? (() => performance.now());
    this.holdWhile = options.holdWhile ?? (() => false);
    const initial = source.snapshot();
    this.localUrl = initial.localUrl;
    this.ready = initial.ready && this.localUrl !== null;
    this.tunnel = initial.tunnel;
    this.publicCaptureUrl = initial.publicCaptureUrl;
    this.unsubscribe = source.subscribe((element) => this.apply(element));
    this.snapshot = this.build();
    if (this.ready) this.loadHistory();
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): LiveSnapshot => this.snapshot;

  /** Adds a line to the status area (replay and copy results come through here too). */
  notify(text: string, tone: NoticeTone = 'info'): void {
    this.notices.push({ seq: ++this.noticeSeq, at: Date.now(), tone, text });
    if (this.notices.length > MAX_NOTICES) this.notices.splice(0, this.notices.length - MAX_NOTICES);
    this.changed();
  }

  dispose(): void {
    this.disposed = true;
    this.unsubscribe();
    if (this.timer) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
    }
    this.timer = null;
    this.listeners.clear();
  }

  private apply(element: SessionElement): void {
    switch (element.type) {
      case 'ready':
        this.ready = true;
        this.localUrl = element.localUrl;
        this.loadHistory();
        break;
      case 'tunnel':
        this.tunnel = element.tunnel;
        this.publicCaptureUrl = element.publicCaptureUrl;
        break;
      case 'event':
        this.addEvent(element.event, element.foreign);
        break;
      case 'attempt':
        this.addAttempt(element.attempt);
        break;
      case 'pending':
        this.setPending(element.eventId, element.pending);
        break;
      case 'rejected':
        this.notify(`rejected ${element.reason}: ${element.path}${element.detail ? ` (${element.detail})` : ''}`, 'warn');
        return;
      case 'warning':
        this.notify(element.message, 'warn');
        return;
      case 'reconcile': {
        const notice = reconcileNotice(element.summary, (iso) => new Date(iso).toLocaleString());
        this.notify(notice.text, notice.tone);
        return;
      }
      case 'cleared':
        this.rows = [];
        this.indexById.clear();
        this.stashedAttempts = [];
        this.stashedPending.clear();
        this.clears++;
        this.notify('the store was cleared (events clear)', 'info');
        return;
      case 'delivery':
        // Its counters are read with the next snapshot.
        break;
      default:
        assertNever(element);
    }
    this.changed();
  }

  private addEvent(event: CapturedEvent, foreign: boolean): void {
    if (this.indexById.has(event.id)) return;
    const row = rowOf(event, [], foreign);
    const last = this.rows[this.rows.length - 1];
    if (!last || last.id < row.id) this.rows.push(row);
    else this.rows.splice(lowerBound(this.rows, row.id), 0, row);
    this.indexById.set(row.id, row);
  }

  private replaceRow(next: EventRow): void {
    this.indexById.set(next.id, next);
    const at = lowerBound(this.rows, next.id);
    if (this.rows[at]?.id === next.id) this.rows[at] = next;
  }

  private addAttempt(attempt: ForwardAttempt): void {
    const row = this.indexById.get(attempt.eventId);
    if (!row) {
      if (this.loading) this.stashedAttempts.push(attempt);
      return;
    }
    if (row.last?.id === attempt.id) return;
    this.replaceRow({ ...row, attempts: row.attempts + 1, last: attempt });
  }

  private setPending(eventId: string, pending: PendingDelivery | null): void {
    const row = this.indexById.get(eventId);
    if (!row) {
      if (this.loading) this.stashedPending.set(eventId, pending);
      return;
    }
    this.replaceRow({ ...row, pending });
  }

  private loadHistory(): void {
    if (this.loading || this.loaded) return;
    this.loading = true;
    this.changed();
    let records: Promise<EventRecord[]>;
    try {
      records = this.source.listEvents({ limit: this.maxRows });
    } catch (error) {
      records = Promise.reject(error);
    }
    records
      .then((history) => {
        if (this.disposed) return;
        const seen = new Set(this.rows.map((row) => row.id));
        const older = history.filter((record) => !seen.has(record.id)).map((record) => rowOf(record, record.attempts));
        for (const row of older) this.indexById.set(row.id, row);
        this.rows = older.concat(this.rows).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
        const known = new Map(history.map((record) => [record.id, new Set(record.attempts.map((a) => a.id))]));
        for (const attempt of this.stashedAttempts) {
          if (!known.get(attempt.eventId)?.has(attempt.id)) this.addAttempt(attempt);
        }
        for (const [eventId, pending] of this.stashedPending) this.setPending(eventId, pending);
      })
      .catch((error: unknown) => {
        if (!this.disposed) this.notify(`could not read the stored events: ${(error as Error).message}`, 'warn');
      })
      .finally(() => {
        this.loading = false;
        this.loaded = true;
        this.stashedAttempts = [];
        this.stashedPending.clear();
        this.changed();
      });
  }

  /** Marks the snapshot stale; publishes at once after a quiet period, else at the end of the batch. */
  private changed(): void {
    if (this.disposed) return;
    this.dirty = true;
    if (this.timer) return;
    const wait = this.lastFlush + this.wait - this.now();
    if (wait <= 0) this.timer = setImmediate(this.flush);
    else this.timer = setTimeout(this.flush, wait);
  }

  private readonly flush = (): void => {
    this.timer = null;
    if (!this.dirty || this.disposed) return;
    if (this.holdWhile()) {
      this.timer = setTimeout(this.flush, this.batchMs);
      return;
    }
    this.dirty = false;
    this.lastFlush = this.now();
    if (this.rows.length > this.maxRows) {
      for (const row of this.rows.splice(0, this.rows.length - this.maxRows)) this.indexById.delete(row.id);
    }
    this.snapshot = this.build();
    const started = this.now();
    for (const listener of this.listeners) listener();
    // Measured up to the next turn: the render and whatever it left for the rest of this one.
    setImmediate(() => this.pace(this.now() - started));
  };

  /** The wait before the next snapshot, from what the last one cost to publish and draw. */
  get batchWaitMs(): number {
    return this.wait;
  }

  private pace(renderMs: number): void {
    // Back to BATCH_MS as soon as drawing is cheap again: the wait follows the latest cost.
    this.wait = Math.min(MAX_BATCH_MS, Math.max(this.batchMs, renderMs * RENDER_COST_FACTOR));
  }

  private build(): LiveSnapshot {
    const session = this.source.snapshot();
    const { stats } = session;
    return {
      version: ++this.version,
      rows: this.rows.slice(),
      loading: this.loading,
      ready: this.ready,
      localUrl: this.localUrl,
      tunnel: this.tunnel,
      publicCaptureUrl: this.publicCaptureUrl,
      targets: session.targets,
      store: session.store,
      stats: { ...stats, rejectedByReason: { ...stats.rejectedByReason }, attempts: { ...stats.attempts } },
      notices: this.notices.slice(),
      clears: this.clears,
    };
  }
}
