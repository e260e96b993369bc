import { FrameKind } from './frame.js';
import type { StoredRecord } from './records.js';

/**
 * What a sealed segment holds, written beside it (`00000001.sealed.json`) when it is rolled, so
 * readers can skip it without reading it: retention counts events from `events`; a lookup by id skips
 * a segment whose id ranges cannot hold the id; an export knows which attempts lie far from their event.
 * The fields after `lastId` came with seal version 2; a seal without them, or one whose segment has
 * grown past `bytes` since (another process appended to it), only counts events.
 */
export interface SealInfo {
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

/** A seal lists at most this many far attempts' event ids (see SealInfo.far). */
const MAX_FAR_IDS = 1_000;

/** A seal whose id ranges and attempt lists describe its segment as it is now. */
export type FullSeal = Required<SealInfo>;

/** What the writer tracks about the segment it appends to, to seal it (see SealInfo). */
export class SegmentSummary {
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

/** What `frames` hold, summarised as their segment's seal (the segment before unknown). */
export function summarize(frames: Iterable<StoredRecord>): SegmentSummary {
  const summary = new SegmentSummary(null);
  for (const frame of frames) summary.addFrame(frame);
  return summary;
}

/** True when some id in [min, max] may start with `prefix` (ids sort as strings). */
export const rangeMayHold = (min: string | null, max: string | null, prefix: string): boolean => min !== null && max !== null && max >= prefix && min.slice(0, prefix.length) <= prefix;
