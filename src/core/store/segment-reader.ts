import { open, type FileHandle } from 'node:fs/promises';
import { decodeHeader, findNextMagic, frameChecksum, FrameKind, HEADER_SIZE, trailerMatches, TRAILER_SIZE, type FrameHeader } from './frame.js';

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
}

function parseMeta(buf: Buffer, start: number, header: FrameHeader): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(buf.toString('utf8', start + HEADER_SIZE, start + HEADER_SIZE + header.metaLength));
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Scans a buffer holding frames from `base` on; `verify` checks CRCs (needs the bodies in `buf`). */
function scanBuffer(buf: Buffer, base: number, scan: SegmentScan): void {
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
    const valid =
      header !== null &&
      end <= buf.length &&
      trailerMatches(buf, end - TRAILER_SIZE, header.frameLength) &&
      frameChecksum(buf, header, pos) === header.crc;
    const meta = valid ? parseMeta(buf, pos, header) : null;
    if (!valid || !meta) {
      markBad(pos);
      const next = findNextMagic(buf, pos + 1);
      pos = next < 0 ? buf.length : next;
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

/** Walks a large segment frame by frame, reading headers, metas and trailers but not bodies. */
async function scanLarge(handle: FileHandle, from: number, size: number, scan: SegmentScan): Promise<void> {
  let pos = from;
  const head = Buffer.alloc(HEADER_SIZE);
  const tail = Buffer.alloc(TRAILER_SIZE);
  while (pos < size) {
    await handle.read(head, 0, HEADER_SIZE, pos);
    const header = decodeHeader(head);
    const end = header ? pos + header.frameLength : -1;
    let ok = header !== null && end <= size;
    if (ok && header) {
      await handle.read(tail, 0, TRAILER_SIZE, end - TRAILER_SIZE);
      ok = trailerMatches(tail, 0, header.frameLength);
    }
    if (!ok || !header) {
      // Fall back to a whole read of what is left: resynchronising needs the bytes.
      const rest = Buffer.alloc(size - pos);
      await handle.read(rest, 0, rest.length, pos);
      scanBuffer(rest, pos, scan);
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

/**
 * Reads every valid frame of a segment from `from` on. A missing file (deleted by retention or
 * `events clear` in another process) reads as empty.
 */
export async function scanSegment(path: string, from = 0): Promise<SegmentScan> {
  const scan: SegmentScan = { frames: [], skipped: [], validEnd: from, size: 0 };
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
    if (size - from <= WHOLE_READ_LIMIT) {
      const buf = Buffer.alloc(size - from);
      if (buf.length > 0) await handle.read(buf, 0, buf.length, from);
      scanBuffer(buf, from, scan);
    } else {
      await scanLarge(handle, from, size, scan);
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
