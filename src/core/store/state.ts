import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { renameSync, writeFileSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { MftgHooksError, isErrnoException, storeError } from '../errors.js';
import { errorCode, FILE_MODE, sealName, SEGMENT_SUFFIX, segmentName, SEGMENTS_DIR, type BodyLocation } from './layout.js';
import { decodeRecord, type StoredRecord } from './records.js';
import type { FullSeal, SealInfo } from './seal.js';
import { readRange, scanSegment, type FrameEntry, type SegmentScan } from './segment-reader.js';

/** A frame of a segment, its meta decoded and checked (see records.ts), and where it lies. */
export type Frame = Omit<FrameEntry, 'kind' | 'meta'> & StoredRecord;

/** A segment's scan with its frames' records checked: damaged ones are left out, with a warning. */
export interface StoreScan extends Omit<SegmentScan, 'frames'> {
  frames: Frame[];
}

/** Where a frame's body lies in segment `seq`. */
export const bodyAt = (seq: number, frame: Frame): BodyLocation => ({ seq, offset: frame.bodyOffset, length: frame.bodyLength });

/**
 * What the store's parts (writer, retention, queries, follower) share about one store directory:
 * where the segments are, what is known of their seals, and the warnings found on the way.
 */
export class StoreState {
  readonly segmentsDir: string;
  /** Written into every frame so a follower can skip what this process wrote itself. */
  readonly writerId: number = randomBytes(4).readUInt32BE(0);
  /** See EventStore.warnings. */
  readonly warnings: string[] = [];
  private warningListener: ((message: string) => void) | null = null;
  /** Warnings given once per store (a foreign file in the segments directory, seen on every poll). */
  private readonly warnedOnce = new Set<string>();
  /** Seals never change once written: retention reads each one once, not on every roll. */
  readonly seals = new Map<number, SealInfo>();
  /** Sizes of the segments this process wrote and rolled; see SegmentWriter.ownBytes. */
  readonly rolledBytes = new Map<number, number>();

  constructor(readonly dir: string) {
    this.segmentsDir = join(dir, SEGMENTS_DIR);
  }

  warn(message: string): void {
    if (this.warningListener) this.warningListener(message);
    else this.warnings.push(message);
  }

  warnOnce(message: string): void {
    if (this.warnedOnce.has(message)) return;
    this.warnedOnce.add(message);
    this.warn(message);
  }

  onWarning(listener: (message: string) => void): void {
    this.warningListener = listener;
    for (const message of this.warnings.splice(0)) listener(message);
  }

  segmentPath(seq: number): string {
    return join(this.segmentsDir, segmentName(seq));
  }

  /**
   * The segments' numbers, oldest first (regular files only), and the highest number any name in
   * the directory uses (a new segment must go above it). Anything else named like a segment (a
   * directory `00000003.seg`…) is skipped with a warning, never fatal.
   */
  async listSegments(): Promise<{ seqs: number[]; highest: number }> {
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

  async segmentSeqs(): Promise<number[]> {
    return (await this.listSegments()).seqs;
  }

  /**
   * Every valid frame of one segment. What cannot be read (a file replaced meanwhile, a newer
   * format, torn or corrupt records) is reported as a warning and skipped.
   */
  async scan(seq: number, keepBytes = false): Promise<StoreScan> {
    let scan: SegmentScan;
    try {
      scan = await scanSegment(this.segmentPath(seq), 0, keepBytes);
    } catch (error) {
      this.warnOnce(`could not read segment ${segmentName(seq)} (${errorCode(error)}): skipped`);
      return { frames: [], skipped: [], validEnd: 0, size: 0, format: null };
    }
    if (scan.size > 0 && scan.format === null) this.warnOnce(`segment ${segmentName(seq)} was written by a newer version of mftg-hooks: skipped`);
    for (const gap of scan.skipped) {
      this.warn(`skipped ${gap.length} unreadable bytes at offset ${gap.offset} of segment ${segmentName(seq)} (a torn or corrupt record)`);
    }
    const frames: Frame[] = [];
    for (const entry of scan.frames) {
      const record = decodeRecord(entry.kind, entry.meta);
      if (typeof record === 'string') {
        this.warnDamaged(seq, entry.offset, record);
        continue;
      }
      // Built field by field: an export scans every frame of the store, and spreads cost more.
      const at = { writer: entry.writer, offset: entry.offset, bodyOffset: entry.bodyOffset, bodyLength: entry.bodyLength, frameLength: entry.frameLength };
      frames.push(Object.assign(at, record));
    }
    return { ...scan, frames };
  }

  warnDamaged(seq: number, offset: number, why: string): void {
    this.warn(`skipped a damaged record at offset ${offset} of segment ${segmentName(seq)} (${why})`);
  }

  async readSeal(seq: number): Promise<SealInfo | null> {
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

  /** The seal of a segment when it describes the segment as it is now (see SealInfo), else null. */
  async fullSeal(seq: number): Promise<FullSeal | null> {
    const seal = await this.readSeal(seq);
    if (seal?.v !== 2 || typeof seal.bytes !== 'number') return null;
    const size = await stat(this.segmentPath(seq)).then(
      (info) => info.size,
      () => null,
    );
    return size === seal.bytes ? (seal as FullSeal) : null;
  }

  /** A seal only saves readers work (retention counts from it): failing to write one is a warning. */
  trySeal(seq: number, info: SealInfo): void {
    const path = join(this.segmentsDir, sealName(seq));
    const temp = `${path}.${this.writerId}.tmp`;
    try {
      writeFileSync(temp, JSON.stringify(info), { mode: FILE_MODE });
      renameSync(temp, path);
    } catch (error) {
      rm(temp, { force: true }).catch(() => undefined);
      this.warn(`could not seal segment ${segmentName(seq)} (${errorCode(error)})`);
      return;
    }
    this.seals.set(seq, info);
  }

  /** Deletes a segment and its seal, and forgets what was known of them. */
  async deleteSegment(seq: number): Promise<void> {
    this.seals.delete(seq);
    this.rolledBytes.delete(seq);
    await rm(this.segmentPath(seq), { force: true });
    await rm(join(this.segmentsDir, sealName(seq)), { force: true });
  }

  async readBody(at: BodyLocation): Promise<Buffer> {
    return at.length === 0 ? Buffer.alloc(0) : readRange(this.segmentPath(at.seq), at.offset, at.length);
  }

  async readBodyOrFail(at: BodyLocation, what: string): Promise<Buffer> {
    const bytes = await this.readBody(at).catch(() => Buffer.alloc(0));
    if (bytes.length !== at.length) {
      throw new MftgHooksError('E_STORE_UNREADABLE', `${what} is no longer in the store`, 'it was removed by retention or `events clear` meanwhile');
    }
    return bytes;
  }
}
