import { randomBytes } from 'node:crypto';
import { open, readdir, readFile, rm, stat, type FileHandle } from 'node:fs/promises';
import { closeSync, constants, copyFileSync, fstatSync, linkSync, openSync, renameSync, unlinkSync, writeFileSync, writeSync, writevSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { MftgHooksError, isErrnoException, storeError } from '../errors.js';
import { isPending, isUndelivered } from '../delivery-state.js';
import { type CapturedEvent, type EventRecord, type ForwardAttempt } from '../types.js';
import { decodeHeader, encodeFrame, encodeSegmentHeader, frameIsValid, FrameKind, HEADER_SIZE, SEGMENT_HEADER_SIZE, type FrameHeader, type SegmentFormat } from './frame.js';
import { readRange, readSegmentFormat, scanSegment, type FrameEntry, type SegmentScan } from './segment-reader.js';
import { decodeRecord, type StoredRecord } from './records.js';
import { ensureStoreDir, takeStoreDirWarnings } from './store-dir.js';

/** Default number of newest events kept; older segments are deleted. */
export const DEFAULT_KEEP_EVENTS = 10_000;
/** A segment is sealed after this many events… */
export const SEGMENT_MAX_EVENTS = 1_000;
/** …or this many bytes, whichever comes first. */
export const SEGMENT_MAX_BYTES = 64 * 1024 * 1024;
/** The attempt frame keeps at most this much of a handler's response body. */
export const RESPONSE_PREVIEW_BYTES = 64 * 1024;
/** How often a listener looks for frames written by other processes (replays, clears). */
export const FOLLOW_INTERVAL_MS = 200;
/** A following listener reads what was appended in chunks of this size. */
const FOLLOW_CHUNK_BYTES = 256 * 1024;

const SEGMENTS_DIR = 'events';
const SEGMENT_SUFFIX = '.seg';
const SEAL_SUFFIX = '.sealed.json';
const FILE_MODE = 0o600;
/** Names of segments taken by something else (a directory…) are skipped, up to this many in a row. */
const MAX_TAKEN_NAMES = 100;
/** Errors of file systems without hard links; segments are then created with an exclusive copy. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK', 'EXDEV']);

export interface StoreOptions {
  /** Newest events to keep (default DEFAULT_KEEP_EVENTS). */
  keep?: number;
}

export interface ListFilter {
  limit: number;
  eventType?: string;
  /** Only events not delivered that were meant to be: pending or failed (see delivery-state.ts). */
  failed?: boolean;
  /** Only pending events (the next listener with a target re-delivers them). */
  pending?: boolean;
}

/** Something another process wrote, seen by a following listener. */
export type ForeignRecord = { kind: 'event'; event: CapturedEvent } | { kind: 'attempt'; attempt: ForwardAttempt } | { kind: 'clear' };

/**
 * When a follower looks (see EventStore.follow): given one look (it resolves once done), starts
 * looking and returns what stops it. Tests look on demand; a number of milliseconds polls on a timer.
 */
export type FollowSchedule = (look: () => Promise<void>) => () => void;

/**
 * What a sealed segment holds, written beside it (`00000001.sealed.json`) when it is rolled, so
 * readers can skip it without reading it: retention counts events from `events`; a lookup by id skips
 * a segment whose id ranges cannot hold the id; an export knows which attempts lie far from their event.
 * The fields after `lastId` came with seal version 2; a seal without them, or one whose segment has
 * grown past `bytes` since (another process appended to it), only counts events.
 */
interface SealInfo {
  events: number;
  firstId: string | null;
  lastId: string | null;
  v?: 2;
  /** The segment's size the seal describes. */
  bytes?: number;
  /** The lowest and highest event id in the segment. */
  minId?: string | null;
  maxId?: string | null;
  /** The lowest and highest event id its attempts are for, or null without attempts. */
  attempts?: [string, string] | null;
  /**
   * Event ids of its attempts whose event is neither in this segment nor (when the writer knew it) in
   * the one before; null when there were more than MAX_FAR_IDS (readers then look at every attempt).
   */
  far?: string[] | null;
  /** `clear` markers in it. */
  clears?: number;
}

/** A frame of a segment, its meta decoded and checked (see records.ts), and where it lies. */
type Frame = Omit<FrameEntry, 'kind' | 'meta'> & StoredRecord;

/** A segment's scan with its frames' records checked: damaged ones are left out, with a warning. */
interface StoreScan extends Omit<SegmentScan, 'frames'> {
  frames: Frame[];
}

/** A seal lists at most this many far attempts' event ids (see SealInfo.far). */
const MAX_FAR_IDS = 1_000;

/** A seal whose id ranges and attempt lists describe its segment as it is now. */
type FullSeal = Required<SealInfo>;

/** What the writer tracks about the segment it appends to, to seal it (see SealInfo). */
class SegmentSummary {
  events = 0;
  firstId: string | null = null;
  lastId: string | null = null;
  minId: string | null = null;
  maxId: string | null = null;
  attemptMin: string | null = null;
  attemptMax: string | null = null;
  far: string[] | null = [];
  clears = 0;
  readonly ids = new Set<string>();

  /** `previous`: the event ids of the segment before, when known (else every foreign attempt is far). */
  constructor(private readonly previous: ReadonlySet<string> | null) {}

  addEvent(id: string): void {
    this.events++;
    this.firstId ??= id;
    this.lastId = id;
    if (this.minId === null || id < this.minId) this.minId = id;
    if (this.maxId === null || id > this.maxId) this.maxId = id;
    this.ids.add(id);
  }

  addAttempt(eventId: string): void {
    if (this.attemptMin === null || eventId < this.attemptMin) this.attemptMin = eventId;
    if (this.attemptMax === null || eventId > this.attemptMax) this.attemptMax = eventId;
    if (this.far === null || this.ids.has(eventId) || this.previous?.has(eventId)) return;
    if (this.far.length >= MAX_FAR_IDS) this.far = null;
    else if (!this.far.includes(eventId)) this.far.push(eventId);
  }

  addFrame(frame: StoredRecord): void {
    if (frame.kind === FrameKind.Event) this.addEvent(frame.event.id);
    else if (frame.kind === FrameKind.Attempt) this.addAttempt(frame.attempt.eventId);
    else this.clears++;
  }

  seal(bytes: number): FullSeal {
    const attempts: [string, string] | null = this.attemptMin !== null && this.attemptMax !== null ? [this.attemptMin, this.attemptMax] : null;
    return { events: this.events, firstId: this.firstId, lastId: this.lastId, v: 2, bytes, minId: this.minId, maxId: this.maxId, attempts, far: this.far, clears: this.clears };
  }
}

/** True when some id in [min, max] may start with `prefix` (ids sort as strings). */
const rangeMayHold = (min: string | null, max: string | null, prefix: string): boolean => min !== null && max !== null && max >= prefix && min.slice(0, prefix.length) <= prefix;

/** A stored event with lazy readers for its body and its last attempt's response preview. */
export interface StoredEvent {
  event: EventRecord;
  body: () => Promise<Buffer>;
  lastResponseBody: () => Promise<Buffer>;
}

interface BodyLocation {
  seq: number;
  offset: number;
  length: number;
}

interface Located {
  event: EventRecord;
  body: BodyLocation;
  responses: Map<string, BodyLocation>;
}

/** A frame to append. It is encoded when written, with the key of the segment it goes into. */
interface FrameRequest {
  kind: FrameKind;
  meta: unknown;
  body: Buffer;
  /** The event's id (events only), or the id of the attempt's event (attempts): counted into the segment's summary once written. */
  eventId: string | null;
}

interface WriteRequest extends FrameRequest {
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** The segment this process appends events to (only the listener owns one). */
interface OwnedSegment {
  seq: number;
  /** Always a descriptor of this segment's file: it is closed only once the next one is open. */
  fd: number;
  key: number;
  bytes: number;
  /** What it holds so far (its seal). */
  summary: SegmentSummary;
  /** Part of a frame was written (a short write): nothing may follow it, the next batch starts a new segment. */
  torn: boolean;
}

const errorCode = (error: unknown): string => (isErrnoException(error) ? (error.code ?? error.message) : error instanceof Error ? error.message : String(error));

/**
 * Creates `path` holding `header`, atomically: the file appears with its header or not at all (a
 * temporary file is written, then hard-linked into place, which fails if the name is taken). Returns
 * a descriptor open for appending, or null when something else already has that name.
 */
function createExclusive(path: string, header: Buffer, tag: string): number | null {
  const temp = `${path}.${tag}.tmp`;
  let fd = openSync(temp, 'ax', FILE_MODE);
  let keep = false;
  try {
    const written = writeSync(fd, header);
    if (written !== header.length) throw new Error(`short write: ${written} of ${header.length} bytes`);
    try {
      linkSync(temp, path);
    } catch (error) {
      if (isErrnoException(error) && error.code === 'EEXIST') return null;
      if (!isErrnoException(error) || !NO_HARD_LINKS.has(error.code ?? '')) throw error;
      try {
        copyFileSync(temp, path, constants.COPYFILE_EXCL);
      } catch (copyError) {
        if (isErrnoException(copyError) && copyError.code === 'EEXIST') return null;
        throw copyError;
      }
      closeSync(fd);
      fd = openSync(path, 'a', FILE_MODE);
    }
    keep = true;
    return fd;
  } finally {
    if (!keep) closeSync(fd);
    try {
      unlinkSync(temp);
    } catch {
      // already gone
    }
  }
}

const segmentName = (seq: number): string => String(seq).padStart(8, '0') + SEGMENT_SUFFIX;
const sealName = (seq: number): string => String(seq).padStart(8, '0') + SEAL_SUFFIX;

/**
 * The single source of truth: captured events, their attempts and `clear` markers in append-only
 * segment files, shared safely by several processes. Exactly one process (the listener) appends
 * events and rolls segments; any process appends attempts to the newest segment. Readers never scan
 * more than they need: the newest events are at the end of the newest segments.
 */
export class EventStore {
  readonly dir: string;
  readonly segmentsDir: string;
  readonly keep: number;
  /** Written into every frame so a follower can skip what this process wrote itself. */
  readonly writerId: number = randomBytes(4).readUInt32BE(0);
  /**
   * Problems found while reading (torn records…) or in the background (retention…): never fatal,
   * shown as warnings. They wait here until a listener is set with onWarning.
   */
  readonly warnings: string[] = [];
  private warningListener: ((message: string) => void) | null = null;

  private owned: OwnedSegment | null = null;
  /** Why the owned segment could not be followed by a new one (disk full…), while that lasts. */
  private rollFailure: unknown = null;
  /** Warnings given once per store (a foreign file in the segments directory, seen on every poll). */
  private readonly warnedOnce = new Set<string>();
  private queue: WriteRequest[] = [];
  private drainScheduled = false;
  private closed = false;
  /** The running retention pass, if any (passes run one after another). */
  private retention: Promise<void> = Promise.resolve();
  /** Seals never change once written: retention reads each one once, not on every roll. */
  private readonly seals = new Map<number, SealInfo>();
  /** Sizes of the segments this process wrote and rolled; see ownBytes. */
  private readonly rolledBytes = new Map<number, number>();

  private constructor(dir: string, options: StoreOptions) {
    this.dir = dir;
    this.segmentsDir = join(dir, SEGMENTS_DIR);
    this.keep = Math.max(1, options.keep ?? DEFAULT_KEEP_EVENTS);
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

  // ---- segments -------------------------------------------------------------------------------

  /**
   * The segments' numbers, oldest first (regular files only), and the highest number any name in
   * the directory uses (a new segment must go above it). Anything else named like a segment (a
   * directory `00000003.seg`…) is skipped with a warning, never fatal.
   */
  private async listSegments(): Promise<{ seqs: number[]; highest: number }> {
    let entries: Dirent[];
    try {
      entries = await readdir(this.segmentsDir, { withFileTypes: true });
    } catch (error) {
      if (isErrnoException(error) && error.code === 'ENOENT') return { seqs: [], highest: 0 };
      throw storeError('E_STORE_UNREADABLE', this.dir, error);
    }
    const seqs: number[] = [];
    let highest = 0;
    for (const entry of entries) {
      if (!entry.name.endsWith(SEGMENT_SUFFIX)) continue;
      const seq = Number.parseInt(entry.name, 10);
      if (!Number.isSafeInteger(seq)) continue;
      highest = Math.max(highest, seq);
      let regular = entry.isFile();
      if (!regular && entry.isSymbolicLink())
        regular = await stat(join(this.segmentsDir, entry.name)).then(
          (info) => info.isFile(),
          () => false,
        );
      if (regular) seqs.push(seq);
      else this.warnOnce(`ignored ${SEGMENTS_DIR}/${entry.name}: not a regular file`);
    }
    return { seqs: seqs.sort((a, b) => a - b), highest };
  }

  private async segmentSeqs(): Promise<number[]> {
    return (await this.listSegments()).seqs;
  }

  /**
   * Every valid frame of one segment. What cannot be read (a file replaced meanwhile, a newer
   * format, torn or corrupt records) is reported as a warning and skipped.
   */
  private async scan(seq: number, keepBytes = false): Promise<StoreScan> {
    let scan: SegmentScan;
    try {
      scan = await scanSegment(this.segmentPath(seq), 0, keepBytes);
    } catch (error) {
      this.warnOnce(`could not read segment ${segmentName(seq)} (${errorCode(error)}): skipped`);
      return { frames: [], skipped: [], validEnd: 0, size: 0, format: null };
    }
    if (scan.size > 0 && scan.format === null) this.warnOnce(`segment ${segmentName(seq)} was written by a newer version of mftg-hooks: skipped`);
    this.noteSkipped(seq, scan.skipped);
    const frames: Frame[] = [];
    for (const { kind, meta, ...at } of scan.frames) {
      const record = decodeRecord(kind, meta);
      if (typeof record === 'string') this.warn(`skipped a damaged record at offset ${at.offset} of segment ${segmentName(seq)} (${record})`);
      else frames.push({ ...at, ...record });
    }
    return { ...scan, frames };
  }

  private segmentPath(seq: number): string {
    return join(this.segmentsDir, segmentName(seq));
  }

  private async readSeal(seq: number): Promise<SealInfo | null> {
    const known = this.seals.get(seq);
    if (known) return known;
    try {
      const seal = JSON.parse(await readFile(join(this.segmentsDir, sealName(seq)), 'utf8')) as SealInfo;
      this.seals.set(seq, seal);
      return seal;
    } catch {
      return null;
    }
  }

  private warn(message: string): void {
    if (this.warningListener) this.warningListener(message);
    else this.warnings.push(message);
  }

  private warnOnce(message: string): void {
    if (this.warnedOnce.has(message)) return;
    this.warnedOnce.add(message);
    this.warn(message);
  }

  /** Delivers the warnings found so far, then each new one as it comes (a running listener's). */
  onWarning(listener: (message: string) => void): void {
    this.warningListener = listener;
    for (const message of this.warnings.splice(0)) listener(message);
  }

  private noteSkipped(seq: number, skipped: Array<{ offset: number; length: number }>): void {
    for (const gap of skipped) {
      this.warn(`skipped ${gap.length} unreadable bytes at offset ${gap.offset} of segment ${segmentName(seq)} (a torn or corrupt record)`);
    }
  }

  /**
   * Makes this process the event writer: continues the newest segment, or starts a new one when it
   * is sealed, too full, of the older format, or ends in a torn record (so torn bytes are never
   * followed by new frames).
   */
  async openForWriting(): Promise<void> {
    if (this.owned) return;
    const { seqs, highest } = await this.listSegments();
    const newest = seqs[seqs.length - 1];
    if (newest !== undefined) {
      const sealed = await this.readSeal(newest);
      const scan = await this.scan(newest);
      // The segment before is not read: every attempt for an event outside this one counts as far.
      const summary = new SegmentSummary(null);
      for (const frame of scan.frames) summary.addFrame(frame);
      const torn = scan.validEnd < scan.size;
      const continuable =
        newest === highest && scan.format?.version === 2 && scan.size >= SEGMENT_HEADER_SIZE && !sealed && !torn && summary.events < SEGMENT_MAX_EVENTS && scan.size < SEGMENT_MAX_BYTES;
      if (continuable) {
        try {
          const fd = openSync(this.segmentPath(newest), 'a', FILE_MODE);
          this.owned = { seq: newest, fd, key: scan.format!.key, bytes: fstatSync(fd).size, summary, torn: false };
          return;
        } catch (error) {
          throw storeError('E_STORE_UNWRITABLE', this.dir, error);
        }
      }
      if (!sealed && scan.format) this.trySeal(newest, summary.seal(scan.size));
    }
    try {
      this.owned = this.createSegment(highest + 1)!;
    } catch (error) {
      throw storeError('E_STORE_UNWRITABLE', this.dir, error);
    }
  }

  /**
   * A new segment at `first` or the next free number above it (among `names` numbers), with a fresh
   * key, open for appending. Throws when it cannot be created (no space, no inodes): nothing changes
   * then. With `names` 1, null when that number is taken.
   */
  private createSegment(first: number, names = MAX_TAKEN_NAMES, previous: ReadonlySet<string> | null = null): OwnedSegment | null {
    const key = randomBytes(4).readUInt32BE(0);
    const header = encodeSegmentHeader(key);
    for (let seq = first; seq < first + names; seq++) {
      const fd = createExclusive(this.segmentPath(seq), header, `${this.writerId.toString(16)}`);
      if (fd === null) continue;
      return { seq, fd, key, bytes: SEGMENT_HEADER_SIZE, summary: new SegmentSummary(previous), torn: false };
    }
    if (names === 1) return null;
    throw new Error(`the segment names ${segmentName(first)} to ${segmentName(first + MAX_TAKEN_NAMES - 1)} are all taken`);
  }

  private writeSeal(seq: number, info: SealInfo): void {
    const path = join(this.segmentsDir, sealName(seq));
    const temp = `${path}.${this.writerId}.tmp`;
    try {
      writeFileSync(temp, JSON.stringify(info), { mode: FILE_MODE });
      renameSync(temp, path);
    } catch (error) {
      rm(temp, { force: true }).catch(() => undefined);
      throw error;
    }
    this.seals.set(seq, info);
  }

  /**
   * Another process (a replay) may have appended to the segment before it was rolled: the seal
   * written from memory then does not describe it, and it is written again from what the file holds.
   */
  private async completeSeal(seq: number, seal: FullSeal): Promise<void> {
    const size = await stat(this.segmentPath(seq)).then(
      (info) => info.size,
      () => null,
    );
    if (size === null || size === seal.bytes) return;
    const scan = await this.scan(seq);
    const summary = new SegmentSummary(null);
    for (const frame of scan.frames) summary.addFrame(frame);
    this.trySeal(seq, summary.seal(scan.size));
  }

  /** The seal of a segment when it describes the segment as it is now (see SealInfo), else null. */
  private async fullSeal(seq: number): Promise<FullSeal | null> {
    const seal = await this.readSeal(seq);
    if (seal?.v !== 2 || typeof seal.bytes !== 'number') return null;
    const size = await stat(this.segmentPath(seq)).then(
      (info) => info.size,
      () => null,
    );
    return size === seal.bytes ? (seal as FullSeal) : null;
  }

  /** A seal only saves readers work (retention counts from it): failing to write one is a warning. */
  private trySeal(seq: number, info: SealInfo): void {
    try {
      this.writeSeal(seq, info);
    } catch (error) {
      this.warn(`could not seal segment ${segmentName(seq)} (${errorCode(error)})`);
    }
  }

  /**
   * Starts the next segment, then seals the owned one. Synchronous, like the writes around it: it
   * runs between two batches and takes tens of microseconds, where the promise-based calls took
   * several times that in CPU alone. Retention (deleting old segments) then runs in the background.
   *
   * The owned segment's descriptor is closed only once the next one is open: when the new segment
   * cannot be created (disk full, no inodes), everything stays as it was, and no write ever goes to
   * a closed descriptor number, which the kernel hands to the next accepted connection.
   */
  private roll(): void {
    const owned = this.owned!;
    const next = this.createSegment(owned.seq + 1, MAX_TAKEN_NAMES, owned.summary.ids)!;
    this.owned = next;
    this.rolledBytes.set(owned.seq, owned.bytes);
    try {
      closeSync(owned.fd);
    } catch {
      // the descriptor is ours and open: nothing to do if closing reports an error
    }
    const seal = owned.summary.seal(owned.bytes);
    this.trySeal(owned.seq, seal);
    this.retention = this.retention
      .then(() => this.completeSeal(owned.seq, seal))
      .then(() => this.enforceRetention())
      .catch((error: unknown) => {
        this.warn(`deleting old segments failed: ${String(error)}`);
      });
  }

  /** True when the owned segment must not take more frames: full, or ending in a torn one. */
  private mustRoll(owned: OwnedSegment): boolean {
    return owned.torn || owned.summary.events >= SEGMENT_MAX_EVENTS || owned.bytes >= SEGMENT_MAX_BYTES;
  }

  /** Rolls; false (with one warning per outage) when no new segment can be created yet. */
  private tryRoll(): boolean {
    try {
      this.roll();
    } catch (error) {
      if (this.rollFailure === null) {
        this.warn(`cannot start a new segment (${errorCode(error)}): deliveries are answered 503 until the store can write again`);
      }
      this.rollFailure = error;
      return false;
    }
    if (this.rollFailure !== null) {
      this.rollFailure = null;
      this.warn('the store can write again: deliveries are accepted');
    }
    return true;
  }

  /** Deletes whole sealed segments once the newer ones hold at least `keep` events. */
  private async enforceRetention(): Promise<void> {
    const seqs = await this.segmentSeqs();
    let kept = this.owned?.summary.events ?? 0;
    for (let i = seqs.length - 1; i >= 0; i--) {
      const seq = seqs[i]!;
      if (seq === this.owned?.seq) continue;
      if (kept >= this.keep) {
        await this.deleteSegment(seq);
        continue;
      }
      const seal = await this.readSeal(seq);
      kept += seal?.events ?? SEGMENT_MAX_EVENTS;
    }
  }

  private async deleteSegment(seq: number): Promise<void> {
    this.seals.delete(seq);
    this.rolledBytes.delete(seq);
    await rm(this.segmentPath(seq), { force: true });
    await rm(join(this.segmentsDir, sealName(seq)), { force: true });
  }

  // ---- writing --------------------------------------------------------------------------------

  /** Appends a frame; resolves once the bytes are in the file (they survive the process being killed). */
  private append(kind: FrameKind, meta: unknown, body: Buffer, eventId: string | null): Promise<void> {
    if (this.closed) return Promise.reject(new MftgHooksError('E_STORE_UNWRITABLE', 'the event store is closed'));
    if (!this.owned) return this.appendToNewest({ kind, meta, body, eventId });
    return new Promise((resolve, reject) => {
      this.queue.push({ kind, meta, body, eventId, resolve, reject });
      if (!this.drainScheduled) {
        this.drainScheduled = true;
        setImmediate(() => this.drain());
      }
    });
  }

  /**
   * Group commit: every frame queued during one turn of the event loop (all the requests that
   * completed in it) goes out in one writev, so a burst of captures costs one system call per turn,
   * not one per event. The write is synchronous: appending a few KiB to the page cache takes
   * microseconds, less than handing the batch to the libuv thread pool and back (`npm run bench`,
   * scenario capture).
   *
   * A frame is acknowledged only once all its bytes are in the segment file: a failed or short write
   * (disk full) rejects the frames it did not write whole, and those are answered 503, never a false
   * 200. A frame cut in the middle ends the segment: the next batch starts a new one.
   */
  private drain(): void {
    const batch = this.queue;
    this.queue = [];
    this.drainScheduled = false;
    if (this.mustRoll(this.owned!) && !this.tryRoll()) {
      const failure = storeError('E_STORE_UNWRITABLE', this.dir, this.rollFailure);
      for (const request of batch) request.reject(failure);
      return;
    }
    const owned = this.owned!;
    const frames: Buffer[] = [];
    const requests: WriteRequest[] = [];
    for (const request of batch) {
      try {
        frames.push(encodeFrame(request.kind, this.writerId, request.meta, request.body, owned.key));
        requests.push(request);
      } catch (error) {
        request.reject(error);
      }
    }
    let done = 0;
    let failure: unknown = null;
    while (done < frames.length) {
      let written: number;
      try {
        written = writevSync(owned.fd, done === 0 ? frames : frames.slice(done));
      } catch (error) {
        failure = error;
        break;
      }
      owned.bytes += written;
      if (written === 0) {
        failure = new Error('nothing was written');
        break;
      }
      // writev writes at most IOV_MAX buffers per call: whole frames are stored, go on with the rest.
      while (done < frames.length && written >= frames[done]!.length) {
        written -= frames[done]!.length;
        const request = requests[done++]!;
        if (request.kind === FrameKind.Event) owned.summary.addEvent(request.eventId!);
        else if (request.kind === FrameKind.Attempt) owned.summary.addAttempt(request.eventId!);
        else owned.summary.clears++;
        request.resolve();
      }
      if (written > 0) {
        // Part of a frame was written: the disk is full. Nothing may follow these bytes.
        owned.torn = true;
        failure = new Error(`short write: ${written} of ${frames[done]!.length} bytes of a frame`);
        break;
      }
    }
    if (done < requests.length) {
      const error = storeError('E_STORE_UNWRITABLE', this.dir, failure);
      for (let i = done; i < requests.length; i++) requests[i]!.reject(error);
    }
    if (this.mustRoll(owned)) this.tryRoll();
  }

  /**
   * Non-owners (replay, clear) append to the newest segment with one write, keyed like that segment.
   * An empty store gets its first segment, created like the listener creates its own.
   */
  private async appendToNewest(request: FrameRequest): Promise<void> {
    try {
      for (let tries = 0; ; tries++) {
        const { seqs, highest } = await this.listSegments();
        const seq = seqs[seqs.length - 1];
        if (seq === undefined) {
          // Only this number: when a listener starting at the same moment took it, append to that one.
          const created = this.createSegment(highest + 1, 1);
          if (!created) {
            if (tries < 3) continue;
            throw new Error(`${segmentName(highest + 1)} is taken by something that is not a segment`);
          }
          try {
            this.writeWhole(created.fd, encodeFrame(request.kind, this.writerId, request.meta, request.body, created.key));
          } finally {
            closeSync(created.fd);
          }
          return;
        }
        let handle: FileHandle;
        try {
          // No O_CREAT: a segment deleted meanwhile (retention, clear) is not brought back empty.
          handle = await open(this.segmentPath(seq), constants.O_RDWR | constants.O_APPEND);
        } catch (error) {
          if (isErrnoException(error) && error.code === 'ENOENT' && tries < 3) continue;
          throw error;
        }
        try {
          const format = await readSegmentFormat(handle, (await handle.stat()).size);
          if (!format) throw new Error(`segment ${segmentName(seq)} was written by a newer version of mftg-hooks`);
          const frame = encodeFrame(request.kind, this.writerId, request.meta, request.body, format.key);
          const { bytesWritten } = await handle.write(frame);
          if (bytesWritten !== frame.length) throw new Error(`short write: ${bytesWritten} of ${frame.length} bytes`);
        } finally {
          await handle.close();
        }
        return;
      }
    } catch (error) {
      throw storeError('E_STORE_UNWRITABLE', this.dir, error);
    }
  }

  private writeWhole(fd: number, frame: Buffer): void {
    const written = writeSync(fd, frame);
    if (written !== frame.length) throw new Error(`short write: ${written} of ${frame.length} bytes`);
  }

  /** Stores a captured event and its exact body bytes. Only the listener (after openForWriting) calls this. */
  appendEvent(event: CapturedEvent, body: Buffer): Promise<void> {
    return this.append(FrameKind.Event, event, body, event.id);
  }

  /** Stores an attempt with (at most RESPONSE_PREVIEW_BYTES of) the handler's response body. */
  async appendAttempt(attempt: ForwardAttempt, responseBody: Buffer): Promise<void> {
    await this.append(FrameKind.Attempt, attempt, responseBody.subarray(0, RESPONSE_PREVIEW_BYTES), attempt.eventId);
  }

  /**
   * Forgets every event: a `clear` marker hides everything before it from readers at once (even in
   * the segment a running listener writes to), then the older segments are deleted.
   */
  async clear(): Promise<void> {
    await this.append(FrameKind.Clear, { clearedAt: new Date().toISOString() }, Buffer.alloc(0), null);
    const seqs = await this.segmentSeqs();
    const newest = seqs[seqs.length - 1];
    for (const seq of seqs) if (seq !== newest && seq !== this.owned?.seq) await this.deleteSegment(seq);
  }

  // ---- reading --------------------------------------------------------------------------------

  /**
   * Visits frames from newest to oldest, segment by segment, until `visit` returns false or a
   * `clear` marker is reached.
   */
  private async walkBackward(visit: (frame: Exclude<Frame, { kind: FrameKind.Clear }>, seq: number) => boolean, skip?: (seq: number) => boolean): Promise<void> {
    const seqs = await this.segmentSeqs();
    for (let i = seqs.length - 1; i >= 0; i--) {
      const seq = seqs[i]!;
      if (skip?.(seq)) continue;
      const scan = await this.scan(seq);
      for (let j = scan.frames.length - 1; j >= 0; j--) {
        const frame = scan.frames[j]!;
        if (frame.kind === FrameKind.Clear) return;
        if (!visit(frame, seq)) return;
      }
    }
  }

  /** The newest `limit` events matching the filter, oldest first, each with all its attempts. */
  async list(filter: ListFilter): Promise<EventRecord[]> {
    const attemptsByEvent = new Map<string, ForwardAttempt[]>();
    const found: EventRecord[] = [];
    if (filter.limit <= 0) return found;
    await this.walkBackward((frame) => {
      if (frame.kind === FrameKind.Attempt) {
        const attempt = frame.attempt;
        const list = attemptsByEvent.get(attempt.eventId);
        if (list) list.unshift(attempt);
        else attemptsByEvent.set(attempt.eventId, [attempt]);
        return true;
      }
      const event = frame.event;
      const attempts = attemptsByEvent.get(event.id) ?? [];
      attemptsByEvent.delete(event.id);
      if (filter.eventType !== undefined && event.mftg?.eventType !== filter.eventType) return true;
      if (filter.failed && !isUndelivered({ ...event, attempts })) return true;
      if (filter.pending && !isPending({ ...event, attempts })) return true;
      found.push({ ...event, attempts });
      return found.length < filter.limit;
    });
    return found.reverse();
  }

  /**
   * Stored events with an id after `afterId` (from the oldest when null), oldest first, at most
   * `limit`, each with all its attempts: a reader pages through the whole store in bounded steps (an
   * output catching up after a stall). Sealed segments are read only when their id ranges say they
   * may hold a later event (so the pass starts at the right segment) or, once the page is full, an
   * attempt for one of its events. Honours `clear` markers.
   */
  async eventsAfter(afterId: string | null, limit: number): Promise<EventRecord[]> {
    if (limit <= 0) return [];
    const seqs = await this.segmentSeqs();
    const seals = await Promise.all(seqs.map((seq) => this.fullSeal(seq)));
    let page = new Map<string, EventRecord>();
    /** The lowest and highest id on the page (ids sort in arrival order). */
    let low: string | null = null;
    let high: string | null = null;
    for (let i = 0; i < seqs.length; i++) {
      const seal = seals[i];
      if (seal && seal.clears === 0) {
        const mayHoldEvent = page.size < limit && seal.maxId !== null && (afterId === null || seal.maxId > afterId);
        const mayHoldAttempt = low !== null && high !== null && seal.attempts !== null && seal.attempts[1] >= low && seal.attempts[0] <= high;
        if (!mayHoldEvent && !mayHoldAttempt) continue;
      }
      for (const frame of (await this.scan(seqs[i]!)).frames) {
        if (frame.kind === FrameKind.Clear) {
          page = new Map();
          low = high = null;
        } else if (frame.kind === FrameKind.Event) {
          const event = frame.event;
          if (page.size >= limit || (afterId !== null && event.id <= afterId)) continue;
          page.set(event.id, { ...event, attempts: [] });
          if (low === null || event.id < low) low = event.id;
          if (high === null || event.id > high) high = event.id;
        } else {
          const attempt = frame.attempt;
          page.get(attempt.eventId)?.attempts.push(attempt);
        }
      }
    }
    return [...page.values()];
  }

  /** Finds one event by id or unique prefix, with its attempts and where its body and theirs lie. */
  private async locate(idOrPrefix: string): Promise<Located> {
    const prefix = idOrPrefix.toLowerCase();
    const attemptsByEvent = new Map<string, Array<{ attempt: ForwardAttempt; at: BodyLocation }>>();
    const matches: Located[] = [];
    // Sealed segments whose ids and attempts cannot match the prefix, and without a `clear`, are not read.
    const seqs = await this.segmentSeqs();
    const seals = new Map(await Promise.all(seqs.map(async (seq) => [seq, await this.fullSeal(seq)] as const)));
    const skip = (seq: number): boolean => {
      const seal = seals.get(seq);
      return !!seal && seal.clears === 0 && !rangeMayHold(seal.minId, seal.maxId, prefix) && !(seal.attempts && rangeMayHold(seal.attempts[0], seal.attempts[1], prefix));
    };
    await this.walkBackward((frame, seq) => {
      const at: BodyLocation = { seq, offset: frame.bodyOffset, length: frame.bodyLength };
      if (frame.kind === FrameKind.Attempt) {
        const attempt = frame.attempt;
        if (attempt.eventId.startsWith(prefix)) {
          const list = attemptsByEvent.get(attempt.eventId) ?? [];
          list.unshift({ attempt, at });
          attemptsByEvent.set(attempt.eventId, list);
        }
        return true;
      }
      const event = frame.event;
      if (!event.id.startsWith(prefix)) return true;
      const attempts = attemptsByEvent.get(event.id) ?? [];
      matches.push({ event: { ...event, attempts: attempts.map((a) => a.attempt) }, body: at, responses: new Map(attempts.map((a) => [a.attempt.id, a.at])) });
      // A whole id cannot match twice; a prefix must be proven unique by scanning on.
      return event.id !== prefix && matches.length < 2;
    }, skip);
    if (matches.length === 0) {
      throw new MftgHooksError('E_EVENT_NOT_FOUND', `no event with id ${idOrPrefix}`, 'run `mftg-hooks events list` to see the stored ids');
    }
    if (matches.length > 1) {
      throw new MftgHooksError('E_AMBIGUOUS_ID', `the id prefix ${idOrPrefix} matches several events`, 'type more characters of the id');
    }
    return matches[0]!;
  }

  private async readBody(at: BodyLocation): Promise<Buffer> {
    return at.length === 0 ? Buffer.alloc(0) : readRange(this.segmentPath(at.seq), at.offset, at.length);
  }

  /** One event by id or unique prefix, with all its attempts. */
  async get(idOrPrefix: string): Promise<EventRecord> {
    return (await this.locate(idOrPrefix)).event;
  }

  /** One event and its exact body bytes. */
  async getWithBody(idOrPrefix: string): Promise<{ event: EventRecord; body: Buffer }> {
    const found = await this.locate(idOrPrefix);
    return { event: found.event, body: await this.readBodyOrFail(found.body, `the body of event ${found.event.id}`) };
  }

  /** The stored response previews of every attempt of an event, by attempt id. */
  async responseBodies(idOrPrefix: string): Promise<Map<string, Buffer>> {
    const found = await this.locate(idOrPrefix);
    const bodies = new Map<string, Buffer>();
    for (const [attemptId, at] of found.responses) bodies.set(attemptId, await this.readBody(at));
    return bodies;
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
  async readAll(): Promise<StoredEvent[]> {
    let events = new Map<string, Located>();
    for (const seq of await this.segmentSeqs()) {
      const scan = await this.scan(seq);
      for (const frame of scan.frames) {
        const at: BodyLocation = { seq, offset: frame.bodyOffset, length: frame.bodyLength };
        if (frame.kind === FrameKind.Clear) {
          events = new Map();
        } else if (frame.kind === FrameKind.Event) {
          const event = frame.event;
          events.set(event.id, { event: { ...event, attempts: [] }, body: at, responses: new Map() });
        } else {
          const attempt = frame.attempt;
          const owner = events.get(attempt.eventId);
          if (!owner) continue;
          owner.event.attempts.push(attempt);
          owner.responses.set(attempt.id, at);
        }
      }
    }
    return [...events.values()].map(({ event, body, responses }) => ({
      event,
      body: () => this.readBodyOrFail(body, `the body of event ${event.id}`),
      lastResponseBody: async () => {
        const last = event.attempts[event.attempts.length - 1];
        const at = last ? responses.get(last.id) : undefined;
        return at ? this.readBodyOrFail(at, `the response to event ${event.id}`) : Buffer.alloc(0);
      },
    }));
  }

  /**
   * Every stored event, oldest first, each with all its attempts and its body, read segment by
   * segment in one forward pass with one read per segment: memory holds two segments, not the store.
   * An event is handed out once the segment after its own has been read (attempts land there when a
   * segment rolls between a capture and its forward). Attempts farther from their event (a replay of
   * an old event) are known from the seals and read first; segments without a usable seal are read
   * once more for them. Honours `clear` markers.
   */
  async *stream(): AsyncGenerator<StoredEvent> {
    const seqs = await this.segmentSeqs();
    const seals = await Promise.all(seqs.map((seq) => this.fullSeal(seq)));
    // Nothing before the newest `clear` is shown: the pass starts at the newest segment holding one.
    let start = 0;
    /** Far attempts by event id, in store order, and the frames they were read from (skipped later). */
    const far = new Map<string, Array<{ attempt: ForwardAttempt; at: BodyLocation }>>();
    const taken = new Set<string>();
    for (let i = 0; i < seqs.length; i++) {
      const seal = seals[i];
      if (seal && seal.clears > 0) start = i;
      if (seal && seal.far !== null && seal.far.length === 0) continue;
      const seq = seqs[i]!;
      const wanted = seal?.far ? new Set(seal.far) : null;
      const scan = await this.scan(seq);
      const own = new Set<string>();
      for (const frame of scan.frames) {
        if (frame.kind === FrameKind.Clear) start = i;
        if (frame.kind === FrameKind.Event) own.add(frame.event.id);
        if (frame.kind !== FrameKind.Attempt) continue;
        const attempt = frame.attempt;
        if (wanted ? !wanted.has(attempt.eventId) : own.has(attempt.eventId)) continue;
        const list = far.get(attempt.eventId) ?? [];
        list.push({ attempt, at: { seq, offset: frame.bodyOffset, length: frame.bodyLength } });
        far.set(attempt.eventId, list);
        taken.add(`${seq}:${frame.offset}`);
      }
    }

    interface Pending {
      event: EventRecord;
      body: Buffer | BodyLocation;
      /** Attempts with where they lie, in store order. */
      attempts: Array<{ attempt: ForwardAttempt; at: BodyLocation; bytes: Buffer | null }>;
    }
    const slice = (scan: StoreScan, frame: Frame): Buffer | null => {
      const bytes = scan.bytes;
      return bytes ? bytes.data.subarray(frame.bodyOffset - bytes.base, frame.bodyOffset - bytes.base + frame.bodyLength) : null;
    };
    const handOut = (pending: Pending): StoredEvent => {
      const { event, body } = pending;
      const farOnes = far.get(event.id);
      let attempts = pending.attempts;
      if (farOnes) {
        attempts = [...attempts, ...farOnes.map((entry) => ({ ...entry, bytes: null }))];
        attempts.sort((a, b) => a.at.seq - b.at.seq || a.at.offset - b.at.offset);
      }
      event.attempts = attempts.map((entry) => entry.attempt);
      const last = attempts[attempts.length - 1];
      return {
        event,
        body: async () => (Buffer.isBuffer(body) ? body : this.readBodyOrFail(body, `the body of event ${event.id}`)),
        lastResponseBody: async () => (!last ? Buffer.alloc(0) : (last.bytes ?? this.readBodyOrFail(last.at, `the response to event ${event.id}`))),
      };
    };

    let previous = new Map<string, Pending>();
    for (let i = start; i < seqs.length; i++) {
      const seq = seqs[i]!;
      const scan = await this.scan(seq, true);
      let current = new Map<string, Pending>();
      for (const frame of scan.frames) {
        const at: BodyLocation = { seq, offset: frame.bodyOffset, length: frame.bodyLength };
        if (frame.kind === FrameKind.Clear) {
          previous = new Map();
          current = new Map();
        } else if (frame.kind === FrameKind.Event) {
          const event = frame.event;
          current.set(event.id, { event: { ...event, attempts: [] }, body: slice(scan, frame) ?? at, attempts: [] });
        } else if (!taken.has(`${seq}:${frame.offset}`)) {
          const attempt = frame.attempt;
          (current.get(attempt.eventId) ?? previous.get(attempt.eventId))?.attempts.push({ attempt, at, bytes: slice(scan, frame) });
        }
      }
      for (const pending of previous.values()) yield handOut(pending);
      previous = current;
    }
    for (const pending of previous.values()) yield handOut(pending);
  }

  private async readBodyOrFail(at: BodyLocation, what: string): Promise<Buffer> {
    const bytes = await this.readBody(at).catch(() => Buffer.alloc(0));
    if (bytes.length !== at.length) {
      throw new MftgHooksError('E_STORE_UNREADABLE', `${what} is no longer in the store`, 'it was removed by retention or `events clear` meanwhile');
    }
    return bytes;
  }

  // ---- following other processes ----------------------------------------------------------------

  /**
   * Calls `onRecord` for every frame another process appends from now on (replays and clears from a
   * second terminal). Polls with a stat and reads what was appended in chunks of FOLLOW_CHUNK_BYTES:
   * frames this process wrote itself are skipped by their header, in memory, so a burst of captures
   * costs one read per chunk, not one per frame. It looks every `every` milliseconds, or when a
   * FollowSchedule says.
   */
  async follow(onRecord: (record: ForeignRecord) => void, every: number | FollowSchedule = FOLLOW_INTERVAL_MS): Promise<() => void> {
    // Start at the current end: what others write from now on is reported, nothing before.
    const startSeqs = await this.segmentSeqs();
    const startSeq = startSeqs[startSeqs.length - 1];
    let position: { seq: number; offset: number } | null =
      startSeq === undefined
        ? null
        : {
            seq: startSeq,
            offset: await stat(this.segmentPath(startSeq)).then(
              (s) => s.size,
              () => 0,
            ),
          };
    /** The segment the follower moved past last (see poll). */
    let previous: { seq: number; offset: number } | null = null;
    let busy = false;
    let chunk: Buffer | null = null;

    /** Segment layouts, read once per segment (a segment's header never changes). */
    const formats = new Map<number, SegmentFormat | null>();

    const report = (kind: FrameKind, metaText: string, at: { seq: number; offset: number }): void => {
      let meta: unknown;
      try {
        meta = JSON.parse(metaText) as unknown;
      } catch {
        return;
      }
      const record = decodeRecord(kind, meta);
      if (typeof record === 'string') this.warn(`skipped a damaged record at offset ${at.offset} of segment ${segmentName(at.seq)} (${record})`);
      else if (record.kind === FrameKind.Event) onRecord({ kind: 'event', event: record.event });
      else if (record.kind === FrameKind.Attempt) onRecord({ kind: 'attempt', attempt: record.attempt });
      else onRecord({ kind: 'clear' });
    };

    /** Reports one foreign frame (checked whole against the segment's key first); false when it is damaged. */
    const reportForeign = async (handle: FileHandle, buf: Buffer, inBuf: number, available: number, header: FrameHeader, at: number, format: SegmentFormat, seq: number): Promise<boolean> => {
      let frame = buf;
      let start = inBuf;
      if (inBuf + header.frameLength > available) {
        frame = Buffer.alloc(header.frameLength);
        const { bytesRead } = await handle.read(frame, 0, frame.length, at);
        if (bytesRead < frame.length) return false;
        start = 0;
      } else if (available < buf.length) {
        frame = buf.subarray(0, available);
      }
      if (!frameIsValid(frame, start, header, format)) return false;
      report(header.kind, frame.toString('utf8', start + HEADER_SIZE, start + HEADER_SIZE + header.metaLength), { seq, offset: at });
      return true;
    };

    /** Reports the foreign frames of one segment from `at.offset` to `size`, moving `at` past them. */
    const readAppended = async (handle: FileHandle, at: { seq: number; offset: number }, size: number): Promise<void> => {
      let format = formats.get(at.seq);
      if (format === undefined) {
        format = await readSegmentFormat(handle, size);
        // A header still being copied into place (file systems without hard links) is read again.
        if (size >= SEGMENT_HEADER_SIZE || format === null) formats.set(at.seq, format);
      }
      if (!format) {
        at.offset = size;
        return;
      }
      if (at.offset < format.dataStart) at.offset = format.dataStart;
      chunk ??= Buffer.allocUnsafe(FOLLOW_CHUNK_BYTES);
      while (at.offset + HEADER_SIZE <= size) {
        const chunkStart = at.offset;
        const { bytesRead } = await handle.read(chunk, 0, Math.min(chunk.length, size - chunkStart), chunkStart);
        if (bytesRead < HEADER_SIZE) return; // the file shrank meanwhile: look again next time
        while (at.offset - chunkStart + HEADER_SIZE <= bytesRead) {
          const inChunk = at.offset - chunkStart;
          const header = decodeHeader(chunk, inChunk);
          if (!header) {
            // Torn bytes: move to the next segment's start rather than guessing.
            at.offset = size;
            return;
          }
          if (at.offset + header.frameLength > size) return; // still being written
          if (header.writer !== this.writerId && !(await reportForeign(handle, chunk, inChunk, bytesRead, header, at.offset, format, at.seq))) {
            at.offset = size;
            return;
          }
          at.offset += header.frameLength;
        }
      }
    };

    /** Reports what was appended to one segment since `at.offset`; false when the segment is gone. */
    const catchUp = async (at: { seq: number; offset: number }): Promise<boolean> => {
      const path = this.segmentPath(at.seq);
      let size: number;
      try {
        size = (await stat(path)).size;
      } catch {
        return false;
      }
      // Nothing but this process's own frames since the segment was opened: nothing to read.
      if (size === this.ownBytes(at.seq)) at.offset = size;
      if (size <= at.offset) return true;
      const handle = await open(path, 'r').catch(() => null);
      if (!handle) return false;
      try {
        await readAppended(handle, at, size);
      } finally {
        await handle.close();
      }
      return true;
    };

    const poll = async (): Promise<void> => {
      // A replay that picked the newest segment just before this process started the next one
      // appends there after the follower has moved on: the segment left last is watched too.
      if (previous && !(await catchUp(previous))) previous = null;
      // Usual case: following the segment this process appends to, which holds only its own frames.
      // Only this process starts newer segments, so there is no need to list the directory.
      const owned = this.owned;
      if (position && owned?.seq === position.seq && fstatSync(owned.fd).size === owned.bytes) {
        position.offset = owned.bytes;
        return;
      }
      const seqs = await this.segmentSeqs();
      // The store was empty when following began: everything in it since is new, from the oldest
      // segment on (a burst can fill more than one before the first poll).
      if (seqs.length === 0) return;
      position ??= { seq: seqs[0]!, offset: 0 };
      while (position) {
        await catchUp(position);
        const next = seqs.find((seq) => seq > position!.seq);
        if (next === undefined) break;
        previous = position;
        position = { seq: next, offset: 0 };
      }
    };

    /** One look, unless one is running; resolves when it is done. */
    const look = async (): Promise<void> => {
      if (busy) return;
      busy = true;
      await poll()
        .catch((error: unknown) => this.warn(`following the store failed: ${String(error)}`))
        .finally(() => (busy = false));
    };
    if (typeof every !== 'number') return every(look);
    const timer = setInterval(() => void look(), every);
    timer.unref();
    return () => clearInterval(timer);
  }

  /**
   * The size a segment has when only this process appended to it since opening it (its size then
   * plus our writes), or null for segments this process never wrote events to. A follower that finds
   * a segment at exactly this size has nothing foreign to read in it.
   */
  private ownBytes(seq: number): number | null {
    if (this.owned?.seq === seq) return this.owned.bytes;
    return this.rolledBytes.get(seq) ?? null;
  }

  /** Waits for queued writes, then releases the segment. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.drainScheduled || this.queue.length > 0) await new Promise((resolve) => setImmediate(resolve));
    this.closed = true;
    await this.retention;
    const owned = this.owned;
    this.owned = null;
    if (owned) closeSync(owned.fd);
  }
}
