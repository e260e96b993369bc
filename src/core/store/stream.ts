import type { EventRecord, ForwardAttempt } from '../types.js';
import { FrameKind } from './frame.js';
import type { BodyLocation, StoredEvent } from './layout.js';
import { bodyAt, type Frame, type StoreScan, type StoreState } from './state.js';

interface Pending {
  event: EventRecord;
  body: Buffer | BodyLocation;
  /** Attempts with where they lie, in store order. */
  attempts: Array<{ attempt: ForwardAttempt; at: BodyLocation; bytes: Buffer | null }>;
}

/** A frame's body out of the bytes its scan kept, or null when the scan kept none. */
const slice = (scan: StoreScan, frame: Frame): Buffer | null => {
  const bytes = scan.bytes;
  return bytes ? bytes.data.subarray(frame.bodyOffset - bytes.base, frame.bodyOffset - bytes.base + frame.bodyLength) : null;
};

/**
 * Every stored event, oldest first, each with all its attempts and its body, read segment by
 * segment in one forward pass with one read per segment: memory holds two segments, not the store.
 * An event is handed out once the segment after its own has been read (attempts land there when a
 * segment rolls between a capture and its forward). Attempts farther from their event (a replay of
 * an old event) are known from the seals and read first; segments without a usable seal are read
 * once more for them. Honours `clear` markers.
 */
export async function* streamStore(state: StoreState): AsyncGenerator<StoredEvent> {
  const seqs = await state.segmentSeqs();
  const seals = await Promise.all(seqs.map((seq) => state.fullSeal(seq)));
  // Nothing before the newest `clear` is shown: the pass starts at the newest segment holding one.
  let start = 0;
  /** Far attempts by event id, in store order, and the frames they were read from (skipped later). */
  const far = new Map<string, Array<{ attempt: ForwardAttempt; at: BodyLocation }>>();
  /** Offsets of those frames, by segment. */
  const taken = new Map<number, Set<number>>();
  for (let i = 0; i < seqs.length; i++) {
    const seal = seals[i];
    if (seal && seal.clears > 0) start = i;
    if (seal && seal.far !== null && seal.far.length === 0) continue;
    const seq = seqs[i]!;
    const wanted = seal?.far ? new Set(seal.far) : null;
    const scan = await state.scan(seq);
    const own = new Set<string>();
    for (const frame of scan.frames) {
      if (frame.kind === FrameKind.Clear) start = i;
      if (frame.kind === FrameKind.Event) own.add(frame.event.id);
      if (frame.kind !== FrameKind.Attempt) continue;
      const attempt = frame.attempt;
      if (wanted ? !wanted.has(attempt.eventId) : own.has(attempt.eventId)) continue;
      const list = far.get(attempt.eventId) ?? [];
      list.push({ attempt, at: bodyAt(seq, frame) });
      far.set(attempt.eventId, list);
      let offsets = taken.get(seq);
      if (!offsets) taken.set(seq, (offsets = new Set()));
      offsets.add(frame.offset);
    }
  }

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
      body: async () => (Buffer.isBuffer(body) ? body : state.readBodyOrFail(body, `the body of event ${event.id}`)),
      lastResponseBody: async () => (!last ? Buffer.alloc(0) : (last.bytes ?? state.readBodyOrFail(last.at, `the response to event ${event.id}`))),
    };
  };

  let previous = new Map<string, Pending>();
  for (let i = start; i < seqs.length; i++) {
    const seq = seqs[i]!;
    const scan = await state.scan(seq, true);
    const takenHere = taken.get(seq);
    let current = new Map<string, Pending>();
    for (const frame of scan.frames) {
      if (frame.kind === FrameKind.Clear) {
        previous = new Map();
        current = new Map();
      } else if (frame.kind === FrameKind.Event) {
        const event = frame.event;
        current.set(event.id, { event: { ...event, attempts: [] }, body: slice(scan, frame) ?? bodyAt(seq, frame), attempts: [] });
      } else if (!takenHere?.has(frame.offset)) {
        const attempt = frame.attempt;
        (current.get(attempt.eventId) ?? previous.get(attempt.eventId))?.attempts.push({ attempt, at: bodyAt(seq, frame), bytes: slice(scan, frame) });
      }
    }
    for (const pending of previous.values()) yield handOut(pending);
    previous = current;
  }
  for (const pending of previous.values()) yield handOut(pending);
}
