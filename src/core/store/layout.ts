import { isErrnoException } from '../errors.js';
import type { CapturedEvent, EventRecord, ForwardAttempt } from '../types.js';

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

export const SEGMENTS_DIR = 'events';
export const SEGMENT_SUFFIX = '.seg';
const SEAL_SUFFIX = '.sealed.json';
export const FILE_MODE = 0o600;

export const segmentName = (seq: number): string => String(seq).padStart(8, '0') + SEGMENT_SUFFIX;
export const sealName = (seq: number): string => String(seq).padStart(8, '0') + SEAL_SUFFIX;

export const errorCode = (error: unknown): string => (isErrnoException(error) ? (error.code ?? error.message) : error instanceof Error ? error.message : String(error));

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

/** A stored event with lazy readers for its body and its last attempt's response preview. */
export interface StoredEvent {
  event: EventRecord;
  body: () => Promise<Buffer>;
  lastResponseBody: () => Promise<Buffer>;
}

/** Where a frame's body lies. */
export interface BodyLocation {
  seq: number;
  offset: number;
  length: number;
}
