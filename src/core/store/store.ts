import type { CapturedEvent, EventRecord, ForwardAttempt } from '../types.js';
import { FrameKind } from './frame.js';
import { followStore } from './follower.js';
import {
  DEFAULT_KEEP_EVENTS,
  FOLLOW_INTERVAL_MS,
  RESPONSE_PREVIEW_BYTES,
  SEGMENTS_DIR,
  type FollowSchedule,
  type ForeignRecord,
  type ListFilter,
  type StoredEvent,
  type StoreOptions,
} from './layout.js';
import { StoreQueries } from './queries.js';
import { Retention } from './retention.js';
import { StoreState } from './state.js';
import { ensureStoreDir, takeStoreDirWarnings } from './store-dir.js';
import { streamStore } from './stream.js';
import { SegmentWriter } from './writer.js';

export { DEFAULT_KEEP_EVENTS, FOLLOW_INTERVAL_MS, RESPONSE_PREVIEW_BYTES, SEGMENT_MAX_BYTES, SEGMENT_MAX_EVENTS } from './layout.js';
export type { FollowSchedule, ForeignRecord, ListFilter, StoredEvent, StoreOptions } from './layout.js';

/**
 * The single source of truth: captured events, their attempts and `clear` markers in append-only
 * segment files, shared safely by several processes. Exactly one process (the listener) appends
 * events and rolls segments; any process appends attempts to the newest segment. Readers never scan
 * more than they need: the newest events are at the end of the newest segments.
 *
 * A façade over its parts, which share one StoreState: the writer (group commit, rolls, seals),
 * retention, the queries, the full-store stream and the follower of other processes' writes.
 */
export class EventStore {
  readonly dir: string;
  readonly segmentsDir: string;
  readonly keep: number;
  /** Written into every frame so a follower can skip what this process wrote itself. */
  readonly writerId: number;
  /**
   * Problems found while reading (torn records…) or in the background (retention…): never fatal,
   * shown as warnings. They wait here until a listener is set with onWarning.
   */
  readonly warnings: string[];

  private readonly state: StoreState;
  private readonly retention: Retention;
  private readonly writer: SegmentWriter;
  private readonly queries: StoreQueries;
  private closed = false;

  private constructor(dir: string, options: StoreOptions) {
    this.state = new StoreState(dir);
    this.dir = dir;
    this.segmentsDir = this.state.segmentsDir;
    this.writerId = this.state.writerId;
    this.warnings = this.state.warnings;
    this.keep = Math.max(1, options.keep ?? DEFAULT_KEEP_EVENTS);
    this.retention = new Retention(this.state, this.keep, () => {
      const owned = this.writer.owned;
      return owned ? { seq: owned.seq, events: owned.summary.events } : null;
    });
    this.writer = new SegmentWriter(this.state, this.retention);
    this.queries = new StoreQueries(this.state);
  }

  /**
   * Opens (creating it, private to the user) the store in `dir`. A directory that other users can
   * read is made private, with a warning.
   */
  static async open(dir: string, options: StoreOptions = {}): Promise<EventStore> {
    const store = new EventStore(dir, options);
    ensureStoreDir(dir, SEGMENTS_DIR);
    store.warnings.push(...takeStoreDirWarnings(dir));
    return store;
  }

  /** Delivers the warnings found so far, then each new one as it comes (a running listener's). */
  onWarning(listener: (message: string) => void): void {
    this.state.onWarning(listener);
  }

  // ---- writing --------------------------------------------------------------------------------

  /**
   * Makes this process the event writer: continues the newest segment, or starts a new one when it
   * is sealed, too full, of the older format, or ends in a torn record (so torn bytes are never
   * followed by new frames).
   */
  openForWriting(): Promise<void> {
    return this.writer.openForWriting();
  }

  /** Stores a captured event and its exact body bytes. Only the listener (after openForWriting) calls this. */
  appendEvent(event: CapturedEvent, body: Buffer): Promise<void> {
    return this.writer.append(FrameKind.Event, event, body, event.id);
  }

  /** Stores an attempt with (at most RESPONSE_PREVIEW_BYTES of) the handler's response body. */
  async appendAttempt(attempt: ForwardAttempt, responseBody: Buffer): Promise<void> {
    await this.writer.append(FrameKind.Attempt, attempt, responseBody.subarray(0, RESPONSE_PREVIEW_BYTES), attempt.eventId);
  }

  /**
   * Forgets every event: a `clear` marker hides everything before it from readers at once (even in
   * the segment a running listener writes to), then the older segments are deleted.
   */
  async clear(): Promise<void> {
    await this.writer.append(FrameKind.Clear, { clearedAt: new Date().toISOString() }, Buffer.alloc(0), null);
    const seqs = await this.state.segmentSeqs();
    const newest = seqs[seqs.length - 1];
    for (const seq of seqs) if (seq !== newest && seq !== this.writer.owned?.seq) await this.state.deleteSegment(seq);
  }

  // ---- reading --------------------------------------------------------------------------------

  /** The newest `limit` events matching the filter, oldest first, each with all its attempts. */
  list(filter: ListFilter): Promise<EventRecord[]> {
    return this.queries.list(filter);
  }

  /**
   * Stored events with an id after `afterId` (from the oldest when null), oldest first, at most
   * `limit`, each with all its attempts: a reader pages through the whole store in bounded steps (an
   * output catching up after a stall). Sealed segments are read only when their id ranges say they
   * may hold a later event (so the pass starts at the right segment) or, once the page is full, an
   * attempt for one of its events. Honours `clear` markers.
   */
  eventsAfter(afterId: string | null, limit: number): Promise<EventRecord[]> {
    return this.queries.eventsAfter(afterId, limit);
  }

  /** One event by id or unique prefix, with all its attempts. */
  get(idOrPrefix: string): Promise<EventRecord> {
    return this.queries.get(idOrPrefix);
  }

  /** One event and its exact body bytes. */
  getWithBody(idOrPrefix: string): Promise<{ event: EventRecord; body: Buffer }> {
    return this.queries.getWithBody(idOrPrefix);
  }

  /** The stored response previews of every attempt of an event, by attempt id. */
  responseBodies(idOrPrefix: string): Promise<Map<string, Buffer>> {
    return this.queries.responseBodies(idOrPrefix);
  }

  /** The stored preview of one attempt's response body (empty when unknown). */
  async attemptBody(eventIdOrPrefix: string, attemptId: string): Promise<Buffer> {
    return (await this.responseBodies(eventIdOrPrefix)).get(attemptId) ?? Buffer.alloc(0);
  }

  /**
   * Every stored event, oldest first, with all its attempts, in one forward pass over the segments
   * (`getWithBody` per event would rescan the newest segments each time: quadratic for
   * `export --all`). Only metadata is held; bodies are read when asked for. Honours `clear` markers.
   */
  readAll(): Promise<StoredEvent[]> {
    return this.queries.readAll();
  }

  /** Every stored event, oldest first, with its attempts and body, in one forward pass (see streamStore). */
  stream(): AsyncGenerator<StoredEvent> {
    return streamStore(this.state);
  }

  // ---- following other processes ----------------------------------------------------------------

  /** Calls `onRecord` for every frame another process appends from now on (see followStore). */
  follow(onRecord: (record: ForeignRecord) => void, every: number | FollowSchedule = FOLLOW_INTERVAL_MS): Promise<() => void> {
    return followStore(this.state, this.writer, onRecord, every);
  }

  /** Waits for queued writes, then releases the segment. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.writer.stop();
    this.closed = true;
    await this.retention.settled();
    this.writer.release();
  }
}
