import { crc32 } from 'node:zlib';

/**
 * The on-disk format. A segment file starts with a segment header that carries a random key, then
 * holds frames back to back. One frame is written with a single append, so frames from several
 * processes never interleave.
 *
 *   segment header 16 bytes: magic "MFS2" | version u8 (2) | 3 reserved | key u32 | 4 reserved
 *
 *   frame header   24 bytes: magic "MFH2" | crc u32 | kind u8 | 3 reserved | writer u32 | metaLen u32 | bodyLen u32
 *   meta           metaLen bytes of UTF-8 JSON
 *   body           bodyLen raw bytes (request body for events, response preview for attempts)
 *   trailer        8 bytes: frameLen u32 | magic "MFT2"
 *
 * `crc` is the CRC-32 of everything from `kind` to the end of the body, started from the segment's
 * key. The key never leaves the file (which only the user can read), so the bytes of a request body
 * can never pass for a frame: a body that embeds frame-shaped bytes ("clear", a forged event) fails
 * the check even when a reader resynchronises inside it after a torn record. The trailer repeats the
 * length so a reader can tell a complete frame from a torn one (a crash or a short write).
 *
 * Format 1 (segments written before the key existed) had no segment header and frames
 *   "MFH1" | kind u8 | 3 reserved | writer u32 | metaLen u32 | bodyLen u32 | crc32(meta+body) u32 … frameLen u32 | "MFT1".
 * Those segments stay readable (see segment-reader.ts for how resynchronisation is kept safe in them).
 */
export const HEADER_SIZE = 24;
export const TRAILER_SIZE = 8;
export const FRAME_OVERHEAD = HEADER_SIZE + TRAILER_SIZE;
export const SEGMENT_HEADER_SIZE = 16;
export const SEGMENT_VERSION = 2;
const SEGMENT_MAGIC = Buffer.from('MFS2', 'latin1');
const HEADER_MAGIC = Buffer.from('MFH2', 'latin1');
const TRAILER_MAGIC = Buffer.from('MFT2', 'latin1');
const LEGACY_HEADER_MAGIC = Buffer.from('MFH1', 'latin1');
const LEGACY_TRAILER_MAGIC = Buffer.from('MFT1', 'latin1');
/** Where the checksummed bytes of a format-2 frame start (after magic and crc). */
const CRC_START = 8;

export enum FrameKind {
  Event = 1,
  Attempt = 2,
  Clear = 3,
}

export interface FrameHeader {
  /** 2, or 1 for frames written before segment keys existed. */
  format: 1 | 2;
  kind: FrameKind;
  writer: number;
  metaLength: number;
  bodyLength: number;
  crc: number;
  frameLength: number;
}

/**
 * How a segment file is laid out: format 2 with its key, or a format-1 segment (no segment header;
 * frames written into it later by this version use key 0).
 */
export interface SegmentFormat {
  version: 1 | 2;
  key: number;
  /** Where the first frame starts. */
  dataStart: number;
}

export const LEGACY_SEGMENT: SegmentFormat = { version: 1, key: 0, dataStart: 0 };

export function encodeSegmentHeader(key: number): Buffer {
  const header = Buffer.alloc(SEGMENT_HEADER_SIZE);
  SEGMENT_MAGIC.copy(header, 0);
  header[4] = SEGMENT_VERSION;
  header.writeUInt32BE(key >>> 0, 8);
  return header;
}

/**
 * The format of a segment from its first bytes (`size`: the file's size). Null when the segment
 * header names a version this code cannot read (a newer mftg-hooks wrote it).
 */
export function decodeSegmentHeader(first: Buffer, size: number): SegmentFormat | null {
  if (size < 4 || first.length < 4 || first.compare(SEGMENT_MAGIC, 0, 4, 0, 4) !== 0) {
    // A file shorter than a segment header that is not a format-1 frame start is a segment whose
    // creation never finished; format 1 never starts with "MFS2".
    return LEGACY_SEGMENT;
  }
  // A header cut short (its creation never finished) holds no frames: an empty format-2 segment.
  if (first.length < SEGMENT_HEADER_SIZE) return { version: 2, key: 0, dataStart: SEGMENT_HEADER_SIZE };
  if (first[4] !== SEGMENT_VERSION) return null;
  return { version: 2, key: first.readUInt32BE(8), dataStart: SEGMENT_HEADER_SIZE };
}

/**
 * Small frames are carved out of shared slabs: one allocation per SLAB_BYTES of frames instead of one
 * per frame (Buffer.allocUnsafe costs ~0.3 µs at 2.5 KiB, ~0.9 µs above 4 KiB; a view ~0.04 µs). A
 * frame lives only until its write, so a slab is released soon after it is full.
 */
const SLAB_BYTES = 1024 * 1024;
const SLAB_MAX_FRAME = 64 * 1024;
let slab = Buffer.alloc(0);
let slabUsed = 0;

function frameBuffer(length: number): Buffer {
  if (length > SLAB_MAX_FRAME) return Buffer.allocUnsafe(length);
  if (slabUsed + length > slab.length) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabUsed = 0;
  }
  const frame = slab.subarray(slabUsed, slabUsed + length);
  slabUsed += length;
  return frame;
}

/** A format-2 frame for a segment whose key is `key`. */
export function encodeFrame(kind: FrameKind, writer: number, meta: unknown, body: Buffer, key: number): Buffer {
  const metaText = JSON.stringify(meta);
  const metaLength = Buffer.byteLength(metaText, 'utf8');
  const frameLength = FRAME_OVERHEAD + metaLength + body.length;
  const frame = frameBuffer(frameLength);
  // Byte by byte: for a handful of bytes, copy() and fill() cost more than the stores themselves.
  frame[0] = HEADER_MAGIC[0]!;
  frame[1] = HEADER_MAGIC[1]!;
  frame[2] = HEADER_MAGIC[2]!;
  frame[3] = HEADER_MAGIC[3]!;
  frame[8] = kind;
  frame[9] = frame[10] = frame[11] = 0;
  frame.writeUInt32BE(writer >>> 0, 12);
  frame.writeUInt32BE(metaLength, 16);
  frame.writeUInt32BE(body.length, 20);
  // Meta and body are written straight into the frame, side by side: one CRC pass covers the header
  // fields, meta and body. As many bytes as characters means pure ASCII, which the latin1 writer
  // copies faster.
  frame.write(metaText, HEADER_SIZE, metaLength, metaLength === metaText.length ? 'latin1' : 'utf8');
  body.copy(frame, HEADER_SIZE + metaLength);
  frame.writeUInt32BE(crc32(frame.subarray(CRC_START, HEADER_SIZE + metaLength + body.length), key >>> 0) >>> 0, 4);
  frame.writeUInt32BE(frameLength, frameLength - TRAILER_SIZE);
  for (let i = 0; i < 4; i++) frame[frameLength - 4 + i] = TRAILER_MAGIC[i]!;
  return frame;
}

const isKind = (kind: number): kind is FrameKind => kind === FrameKind.Event || kind === FrameKind.Attempt || kind === FrameKind.Clear;

/** Reads a header (either format) at `offset` of `buf`; null when it is not a plausible frame start. */
export function decodeHeader(buf: Buffer, offset = 0): FrameHeader | null {
  if (buf.length - offset < HEADER_SIZE) return null;
  if (buf.compare(HEADER_MAGIC, 0, 4, offset, offset + 4) === 0) {
    const kind = buf[offset + 8]!;
    if (!isKind(kind)) return null;
    const metaLength = buf.readUInt32BE(offset + 16);
    const bodyLength = buf.readUInt32BE(offset + 20);
    return { format: 2, kind, writer: buf.readUInt32BE(offset + 12), metaLength, bodyLength, crc: buf.readUInt32BE(offset + 4), frameLength: FRAME_OVERHEAD + metaLength + bodyLength };
  }
  if (buf.compare(LEGACY_HEADER_MAGIC, 0, 4, offset, offset + 4) === 0) {
    const kind = buf[offset + 4]!;
    if (!isKind(kind)) return null;
    const metaLength = buf.readUInt32BE(offset + 12);
    const bodyLength = buf.readUInt32BE(offset + 16);
    return { format: 1, kind, writer: buf.readUInt32BE(offset + 8), metaLength, bodyLength, crc: buf.readUInt32BE(offset + 20), frameLength: FRAME_OVERHEAD + metaLength + bodyLength };
  }
  return null;
}

/** True when `buf` (at `offset`) holds the trailer a frame of this format and length ends with. */
export function trailerMatches(buf: Buffer, offset: number, header: Pick<FrameHeader, 'format' | 'frameLength'>): boolean {
  const magic = header.format === 2 ? TRAILER_MAGIC : LEGACY_TRAILER_MAGIC;
  return buf.length - offset >= TRAILER_SIZE && buf.readUInt32BE(offset) === header.frameLength && buf.compare(magic, 0, 4, offset + 4, offset + 8) === 0;
}

/**
 * The checksum a complete frame at `start` of `buf` should carry: keyed with `key` for format 2; for
 * format 1, CRC-32 of meta then body. (Node's crc32 of an empty buffer ignores the running value:
 * an empty body is skipped.)
 */
export function frameChecksum(buf: Buffer, header: FrameHeader, start: number, key: number): number {
  const payloadStart = start + HEADER_SIZE;
  const metaEnd = payloadStart + header.metaLength;
  if (header.format === 2) return crc32(buf.subarray(start + CRC_START, metaEnd + header.bodyLength), key >>> 0) >>> 0;
  const metaCrc = crc32(buf.subarray(payloadStart, metaEnd));
  return (header.bodyLength === 0 ? metaCrc : crc32(buf.subarray(metaEnd, metaEnd + header.bodyLength), metaCrc)) >>> 0;
}

/**
 * True when a complete, intact frame starts at `start` of `buf` and belongs in a segment of this
 * format: format-2 segments hold only format-2 frames; format-1 segments hold format-1 frames and
 * the format-2 frames (key 0) that a `replay` of this version appended to a store whose listener had
 * not been upgraded yet.
 */
export function frameIsValid(buf: Buffer, start: number, header: FrameHeader, segment: SegmentFormat): boolean {
  const end = start + header.frameLength;
  return (header.format === 2 || segment.version === 1) && end <= buf.length && trailerMatches(buf, end - TRAILER_SIZE, header) && frameChecksum(buf, header, start, segment.key) === header.crc;
}

/** Where the next format-2 frame magic starts at or after `from`, or -1. */
export function findNextMagic(buf: Buffer, from: number): number {
  return buf.indexOf(HEADER_MAGIC, from);
}
