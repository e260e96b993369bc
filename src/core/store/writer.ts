import { randomBytes } from 'node:crypto';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { closeSync, constants, fstatSync, openSync, writevSync } from 'node:fs';
import { MftgHooksError, isErrnoException, storeError } from '../errors.js';
import { encodeFrame, encodeSegmentHeader, FrameKind, SEGMENT_HEADER_SIZE } from './frame.js';
import { errorCode, FILE_MODE, SEGMENT_MAX_BYTES, SEGMENT_MAX_EVENTS, segmentName } from './layout.js';
import type { Retention } from './retention.js';
import { SegmentSummary, summarize, type FullSeal } from './seal.js';
import { createExclusive, writeWhole } from './segment-files.js';
import { readSegmentFormat } from './segment-reader.js';
import type { StoreState } from './state.js';

/** Names of segments taken by something else (a directory…) are skipped, up to this many in a row. */
const MAX_TAKEN_NAMES = 100;

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
export interface OwnedSegment {
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

/**
 * Appends frames. The listener owns the newest segment: its frames go out by group commit, and it
 * rolls (seals the full segment, starts the next, schedules retention). Other processes append one
 * frame at a time to whatever segment is newest.
 */
export class SegmentWriter {
  private ownedSegment: OwnedSegment | null = null;
  /** Why the owned segment could not be followed by a new one (disk full…), while that lasts. */
  private rollFailure: unknown = null;
  private queue: WriteRequest[] = [];
  private drainScheduled = false;
  /** A frame was written alone in this turn of the event loop (reset by the next turn). */
  private wroteThisTurn = false;
  private closed = false;

  constructor(
    private readonly state: StoreState,
    private readonly retention: Retention,
  ) {}

  /** The segment this process appends events to, if it is the writer. */
  get owned(): Readonly<OwnedSegment> | null {
    return this.ownedSegment;
  }

  /**
   * The size a segment has when only this process appended to it since opening it (its size then
   * plus our writes), or null for segments this process never wrote events to. A follower that finds
   * a segment at exactly this size has nothing foreign to read in it.
   */
  ownBytes(seq: number): number | null {
    if (this.ownedSegment?.seq === seq) return this.ownedSegment.bytes;
    return this.state.rolledBytes.get(seq) ?? null;
  }

  /** See EventStore.openForWriting. */
  async openForWriting(): Promise<void> {
    if (this.ownedSegment) return;
    const { seqs, highest } = await this.state.listSegments();
    const newest = seqs[seqs.length - 1];
    if (newest !== undefined) {
      const sealed = await this.state.readSeal(newest);
      const scan = await this.state.scan(newest);
      // The segment before is not read: every attempt for an event outside this one counts as far.
      const summary = summarize(scan.frames);
      const torn = scan.validEnd < scan.size;
      const continuable =
        newest === highest && scan.format?.version === 2 && scan.size >= SEGMENT_HEADER_SIZE && !sealed && !torn && summary.events < SEGMENT_MAX_EVENTS && scan.size < SEGMENT_MAX_BYTES;
      if (continuable) {
        try {
          const fd = openSync(this.state.segmentPath(newest), 'a', FILE_MODE);
          this.ownedSegment = { seq: newest, fd, key: scan.format!.key, bytes: fstatSync(fd).size, summary, torn: false };
          return;
        } catch (error) {
          throw storeError('E_STORE_UNWRITABLE', this.state.dir, error);
        }
      }
      if (!sealed && scan.format) this.state.trySeal(newest, summary.seal(scan.size));
    }
    try {
      this.ownedSegment = this.createSegment(highest + 1)!;
    } catch (error) {
      throw storeError('E_STORE_UNWRITABLE', this.state.dir, error);
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
      const fd = createExclusive(this.state.segmentPath(seq), header, `${this.state.writerId.toString(16)}`);
      if (fd === null) continue;
      return { seq, fd, key, bytes: SEGMENT_HEADER_SIZE, summary: new SegmentSummary(previous), torn: false };
    }
    if (names === 1) return null;
    throw new Error(`the segment names ${segmentName(first)} to ${segmentName(first + MAX_TAKEN_NAMES - 1)} are all taken`);
  }

  /**
   * Another process (a replay) may have appended to the segment before it was rolled: the seal
   * written from memory then does not describe it, and it is written again from what the file holds.
   */
  private async completeSeal(seq: number, seal: FullSeal): Promise<void> {
    const size = await stat(this.state.segmentPath(seq)).then(
      (info) => info.size,
      () => null,
    );
    if (size === null || size === seal.bytes) return;
    const scan = await this.state.scan(seq);
    this.state.trySeal(seq, summarize(scan.frames).seal(scan.size));
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
    const owned = this.ownedSegment!;
    const next = this.createSegment(owned.seq + 1, MAX_TAKEN_NAMES, owned.summary.ids)!;
    this.ownedSegment = next;
    this.state.rolledBytes.set(owned.seq, owned.bytes);
    try {
      closeSync(owned.fd);
    } catch {
      // the descriptor is ours and open: nothing to do if closing reports an error
    }
    const seal = owned.summary.seal(owned.bytes);
    this.state.trySeal(owned.seq, seal);
    this.retention.schedule(() => this.completeSeal(owned.seq, seal));
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
        this.state.warn(`cannot start a new segment (${errorCode(error)}): deliveries are answered 503 until the store can write again`);
      }
      this.rollFailure = error;
      return false;
    }
    if (this.rollFailure !== null) {
      this.rollFailure = null;
      this.state.warn('the store can write again: deliveries are accepted');
    }
    return true;
  }

  /** Appends a frame; resolves once the bytes are in the file (they survive the process being killed). */
  append(kind: FrameKind, meta: unknown, body: Buffer, eventId: string | null): Promise<void> {
    if (this.closed) return Promise.reject(new MftgHooksError('E_STORE_UNWRITABLE', 'the event store is closed'));
    if (!this.ownedSegment) return this.appendToNewest({ kind, meta, body, eventId });
    return new Promise((resolve, reject) => {
      this.queue.push({ kind, meta, body, eventId, resolve, reject });
      if (this.drainScheduled) return;
      if (!this.wroteThisTurn) {
        // The first frame of a turn goes out at once: a lone delivery (one request in flight) is
        // acknowledged without waiting for the end of the turn. Frames that follow in the same turn
        // (a burst) are gathered as before, one writev at the end of the turn.
        this.wroteThisTurn = true;
        setImmediate(() => (this.wroteThisTurn = false));
        this.drain();
        return;
      }
      this.drainScheduled = true;
      setImmediate(() => this.drain());
    });
  }

  /**
   * Group commit: the first frame of a turn is written at once; every frame queued after it during
   * the same turn of the event loop (all the requests that completed in it) goes out in one writev
   * at its end, so a burst of captures costs two system calls per turn, not one per event. The write is synchronous: appending a few KiB to the page cache takes
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
    if (this.mustRoll(this.ownedSegment!) && !this.tryRoll()) {
      const failure = storeError('E_STORE_UNWRITABLE', this.state.dir, this.rollFailure);
      for (const request of batch) request.reject(failure);
      return;
    }
    const owned = this.ownedSegment!;
    const frames: Buffer[] = [];
    const requests: WriteRequest[] = [];
    for (const request of batch) {
      try {
        frames.push(encodeFrame(request.kind, this.state.writerId, request.meta, request.body, owned.key));
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
      const error = storeError('E_STORE_UNWRITABLE', this.state.dir, failure);
      for (let i = done; i < requests.length; i++) requests[i]!.reject(error);
    }
    if (this.mustRoll(owned)) this.tryRoll();
  }

  /**
   * Non-owners (replay, clear) append to the newest segment with one write, keyed like that segment.
   * An empty store gets its first segment, created like the listener creates its own.
   */
  private async appendToNewest(request: FrameRequest): Promise<void> {
    const writerId = this.state.writerId;
    try {
      for (let tries = 0; ; tries++) {
        const { seqs, highest } = await this.state.listSegments();
        const seq = seqs[seqs.length - 1];
        if (seq === undefined) {
          // Only this number: when a listener starting at the same moment took it, append to that one.
          const created = this.createSegment(highest + 1, 1);
          if (!created) {
            if (tries < 3) continue;
            throw new Error(`${segmentName(highest + 1)} is taken by something that is not a segment`);
          }
          try {
            writeWhole(created.fd, encodeFrame(request.kind, writerId, request.meta, request.body, created.key));
          } finally {
            closeSync(created.fd);
          }
          return;
        }
        let handle: FileHandle;
        try {
          // No O_CREAT: a segment deleted meanwhile (retention, clear) is not brought back empty.
          handle = await open(this.state.segmentPath(seq), constants.O_RDWR | constants.O_APPEND);
        } catch (error) {
          if (isErrnoException(error) && error.code === 'ENOENT' && tries < 3) continue;
          throw error;
        }
        try {
          const format = await readSegmentFormat(handle, (await handle.stat()).size);
          if (!format) throw new Error(`segment ${segmentName(seq)} was written by a newer version of mftg-hooks`);
          const frame = encodeFrame(request.kind, writerId, request.meta, request.body, format.key);
          const { bytesWritten } = await handle.write(frame);
          if (bytesWritten !== frame.length) throw new Error(`short write: ${bytesWritten} of ${frame.length} bytes`);
        } finally {
          await handle.close();
        }
        return;
      }
    } catch (error) {
      throw storeError('E_STORE_UNWRITABLE', this.state.dir, error);
    }
  }

  /** Waits for queued writes; appends are refused from then on. */
  async stop(): Promise<void> {
    while (this.drainScheduled || this.queue.length > 0) await new Promise((resolve) => setImmediate(resolve));
    this.closed = true;
  }

  /** Closes the owned segment's descriptor (after stop). */
  release(): void {
    const owned = this.ownedSegment;
    this.ownedSegment = null;
    if (owned) closeSync(owned.fd);
  }
}
