import { open, stat, type FileHandle } from 'node:fs/promises';
import { fstatSync } from 'node:fs';
import { decodeHeader, frameIsValid, FrameKind, HEADER_SIZE, SEGMENT_HEADER_SIZE, type FrameHeader, type SegmentFormat } from './frame.js';
import type { FollowSchedule, ForeignRecord } from './layout.js';
import { decodeRecord } from './records.js';
import { readSegmentFormat } from './segment-reader.js';
import type { StoreState } from './state.js';
import type { SegmentWriter } from './writer.js';

/** A following listener reads what was appended in chunks of this size. */
const FOLLOW_CHUNK_BYTES = 256 * 1024;

/**
 * Calls `onRecord` for every frame another process appends from now on (replays and clears from a
 * second terminal). Polls with a stat and reads what was appended in chunks of FOLLOW_CHUNK_BYTES:
 * frames this process wrote itself are skipped by their header, in memory, so a burst of captures
 * costs one read per chunk, not one per frame. It looks every `every` milliseconds, or when a
 * FollowSchedule says.
 */
export async function followStore(state: StoreState, writer: SegmentWriter, onRecord: (record: ForeignRecord) => void, every: number | FollowSchedule): Promise<() => void> {
  // Start at the current end: what others write from now on is reported, nothing before.
  const startSeqs = await state.segmentSeqs();
  const startSeq = startSeqs[startSeqs.length - 1];
  let position: { seq: number; offset: number } | null =
    startSeq === undefined
      ? null
      : {
          seq: startSeq,
          offset: await stat(state.segmentPath(startSeq)).then(
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
    if (typeof record === 'string') state.warnDamaged(at.seq, at.offset, record);
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
        if (header.writer !== state.writerId && !(await reportForeign(handle, chunk, inChunk, bytesRead, header, at.offset, format, at.seq))) {
          at.offset = size;
          return;
        }
        at.offset += header.frameLength;
      }
    }
  };

  /** Reports what was appended to one segment since `at.offset`; false when the segment is gone. */
  const catchUp = async (at: { seq: number; offset: number }): Promise<boolean> => {
    const path = state.segmentPath(at.seq);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch {
      return false;
    }
    // Nothing but this process's own frames since the segment was opened: nothing to read.
    if (size === writer.ownBytes(at.seq)) at.offset = size;
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
    const owned = writer.owned;
    if (position && owned?.seq === position.seq && fstatSync(owned.fd).size === owned.bytes) {
      position.offset = owned.bytes;
      return;
    }
    const seqs = await state.segmentSeqs();
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
      .catch((error: unknown) => state.warn(`following the store failed: ${String(error)}`))
      .finally(() => (busy = false));
  };
  if (typeof every !== 'number') return every(look);
  const timer = setInterval(() => void look(), every);
  timer.unref();
  return () => clearInterval(timer);
}
