import { open, type FileHandle } from 'node:fs/promises';
import {
  decodeHeader,
  decodeSegmentHeader,
  findNextMagic,
  frameIsValid,
  FrameKind,
  HEADER_SIZE,
  SEGMENT_HEADER_SIZE,
  trailerMatches,
  TRAILER_SIZE,
  type FrameHeader,
  type SegmentFormat,
} from './frame.js';

/** Segments up to this size are read in one go (and fully checksummed); larger ones frame by frame. */
const WHOLE_READ_LIMIT = 16 * 1024 * 1024;

/** A frame found in a segment file: its parsed meta and where its body lies. */
export interface FrameEntry {
  kind: FrameKind;
  writer: number;
  meta: Record<string, unknown>;
  /** Absolute offsets in the segment file. */
  offset: number;
  bodyOffset: number;
  bodyLength: number;
  frameLength: number;
}

export interface SegmentScan {
  frames: FrameEntry[];
  /** Byte ranges that held no valid frame (torn writes, corruption): skipped, never fatal. */
  skipped: Array<{ offset: number; length: number }>;
  /** Where the last valid frame ends. */
  validEnd: number;
  size: number;
  /** The segment's layout; null when a newer mftg-hooks wrote it (nothing is read then). */
  format: SegmentFormat | null;
  /** With `keepBytes`, the bytes read (from file offset `base`), so bodies need no second read; null for large segments. */
  bytes?: { base: number; data: Buffer } | null;
}

function parseMeta(buf: Buffer, start: number, header: FrameHeader): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(buf.toString('utf8', start + HEADER_SIZE, start + HEADER_SIZE + header.metaLength));
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Whether a frame of this format belongs in a segment of that one (see frameIsValid). */
const formatFits = (header: FrameHeader, segment: SegmentFormat): boolean => header.format === 2 || segment.version === 1;

/**
 * Scans a buffer holding frames from `base` on (`buf` holds everything up to the end of the file).
 *
 * After a damaged spot the reader must find where the next real frame starts without ever trusting
 * the bytes inside a frame it could not read (they may be a request body carrying frame-shaped bytes):
 * - format 2: it looks for the next frame magic; a candidate counts only with a checksum keyed by
 *   the segment's key, which no request body can carry;
 * - format 1 (no key): when the damaged frame's header and trailer agree on its length, it goes on
 *   right after it (the damage is inside it); otherwise nothing after the damaged spot is trusted
 *   and the rest of the segment is skipped. A torn frame (a crash or a short write) is at the end of
 *   a segment in practice: the writer starts a new segment after one.
 */
function scanBuffer(buf: Buffer, base: number, segment: SegmentFormat, scan: SegmentScan): void {
  let pos = 0;
  let badStart = -1;
  const markBad = (at: number): void => {
    if (badStart < 0) badStart = at;
  };
  const closeBad = (at: number): void => {
    if (badStart >= 0) scan.skipped.push({ offset: base + badStart, length: at - badStart });
    badStart = -1;
  };
  while (pos < buf.length) {
    const header = decodeHeader(buf, pos);
    const end = header ? pos + header.frameLength : -1;
    const valid = header !== null && frameIsValid(buf, pos, header, segment);
    const meta = valid ? parseMeta(buf, pos, header) : null;
    if (!valid || !meta) {
      markBad(pos);
      if (segment.version === 2) {
        const next = findNextMagic(buf, pos + 1);
        pos = next < 0 ? buf.length : next;
      } else {
        // Header and trailer agree on where the damaged frame ends: the damage is inside it.
        const extentKnown = header !== null && formatFits(header, segment) && end <= buf.length && trailerMatches(buf, end - TRAILER_SIZE, header);
        pos = extentKnown ? end : buf.length;
      }
      continue;
    }
    closeBad(pos);
    scan.frames.push({
      kind: header.kind,
      writer: header.writer,
      meta,
      offset: base + pos,
      bodyOffset: base + pos + HEADER_SIZE + header.metaLength,
      bodyLength: header.bodyLength,
      frameLength: header.frameLength,
    });
    pos = end;
    scan.validEnd = base + pos;
  }
  closeBad(buf.length);
}

/**
 * Walks a large segment frame by frame, reading headers, metas and trailers but not bodies. It
 * steps from one frame's end to the next frame's start, so it never looks inside a body.
 */
async function scanLarge(handle: FileHandle, from: number, size: number, segment: SegmentFormat, scan: SegmentScan): Promise<void> {
  let pos = from;
  const head = Buffer.alloc(HEADER_SIZE);
  const tail = Buffer.alloc(TRAILER_SIZE);
  while (pos < size) {
    await handle.read(head, 0, HEADER_SIZE, pos);
    const header = decodeHeader(head);
    const end = header ? pos + header.frameLength : -1;
    let ok = header !== null && formatFits(header, segment) && end <= size;
    if (ok && header) {
      await handle.read(tail, 0, TRAILER_SIZE, end - TRAILER_SIZE);
      ok = trailerMatches(tail, 0, header);
    }
    if (!ok || !header) {
      // Fall back to a whole read of what is left: resynchronising needs the bytes.
      const rest = Buffer.alloc(size - pos);
      await handle.read(rest, 0, rest.length, pos);
      scanBuffer(rest, pos, segment, scan);
      return;
    }
    const metaBuf = Buffer.alloc(HEADER_SIZE + header.metaLength);
    await handle.read(metaBuf, HEADER_SIZE, header.metaLength, pos + HEADER_SIZE);
    const meta = parseMeta(metaBuf, 0, header);
    if (meta) {
      scan.frames.push({
        kind: header.kind,
        writer: header.writer,
        meta,
        offset: pos,
        bodyOffset: pos + HEADER_SIZE + header.metaLength,
        bodyLength: header.bodyLength,
        frameLength: header.frameLength,
      });
    } else {
      scan.skipped.push({ offset: pos, length: header.frameLength });
    }
    pos = end;
    scan.validEnd = pos;
  }
}

/** The layout of an open segment, from its first bytes. */
export async function readSegmentFormat(handle: FileHandle, size: number): Promise<SegmentFormat | null> {
  const first = Buffer.alloc(Math.min(size, SEGMENT_HEADER_SIZE));
  if (first.length > 0) await handle.read(first, 0, first.length, 0);
  return decodeSegmentHeader(first, size);
}

/**
 * Reads every valid frame of a segment from `from` on. A missing file (deleted by retention or
 * `events clear` in another process) reads as empty. Rejects with EISDIR and the like when the path
 * is not a regular file (the store lists only regular files).
 */
export async function scanSegment(path: string, from = 0, keepBytes = false): Promise<SegmentScan> {
  const scan: SegmentScan = { frames: [], skipped: [], validEnd: from, size: 0, format: null, ...(keepBytes ? { bytes: null } : {}) };
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return scan;
    throw error;
  }
  try {
    const { size } = await handle.stat();
    scan.size = size;
    const format = await readSegmentFormat(handle, size);
    scan.format = format;
    if (!format) {
      scan.validEnd = size;
      return scan;
    }
    const start = Math.max(from, format.dataStart);
    scan.validEnd = Math.max(scan.validEnd, Math.min(start, size));
    if (size - start <= WHOLE_READ_LIMIT) {
      const buf = Buffer.alloc(Math.max(0, size - start));
      if (buf.length > 0) await handle.read(buf, 0, buf.length, start);
      scanBuffer(buf, start, format, scan);
      if (keepBytes) scan.bytes = { base: start, data: buf };
    } else {
      await scanLarge(handle, start, size, format, scan);
    }
  } finally {
    await handle.close();
  }
  return scan;
}

export async function readRange(path: string, offset: number, length: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buf, 0, length, offset);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
