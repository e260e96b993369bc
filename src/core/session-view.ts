import type { Targets } from './forwarder.js';
import type { SessionElement, SessionStats } from './session.js';
import type { ListFilter } from './store/store.js';
import type { TunnelState } from './tunnel.js';
import type { EventRecord, ForwardAttempt, HeaderPairs } from './types.js';

/**
 * The port every face uses: the terminal UI, the plain and `--json` printers, and the web inspector
 * reach a listener (or, for `mftg-hooks inspect`, a store alone) only through this. It never prints
 * and knows nothing of how a face draws.
 */
export interface SessionView {
  /** Every element from now on, in order. Returns the unsubscribe function. */
  subscribe(listener: (element: SessionElement) => void): () => void;
  /** What a face shows in its header; a new object on every call. */
  snapshot(): SessionSnapshot;
  /** Stored events, newest `limit` of them, oldest first (the store is the source of truth). */
  listEvents(filter: ListFilter): Promise<EventRecord[]>;
  /**
   * Stored events with an id after `afterId` (from the oldest when null), oldest first, at most
   * `limit`, each with every attempt: a face that fell behind pages forward through the store with
   * it (see lagging-output.ts). The listener's and `inspect`'s views have it; without it a face reads
   * back at most the newest events.
   */
  eventsAfter?(afterId: string | null, limit: number): Promise<EventRecord[]>;
  /** One event (any unique id prefix) with every attempt, oldest first. */
  getEvent(idOrPrefix: string): Promise<EventRecord>;
  /** The captured body bytes, exactly as received. */
  getBody(idOrPrefix: string): Promise<Buffer>;
  /** The stored preview of one attempt's response body (at most RESPONSE_PREVIEW_BYTES). */
  getResponseBody(eventIdOrPrefix: string, attemptId: string): Promise<Buffer>;
  /**
   * Sends a stored event again and records the attempt (kind `replay`; `modified` when `edits`
   * changed the body or the headers). Without `edits.target`, the event goes where the listener
   * forwards it (its route, else `--forward-to`).
   */
  replay(idOrPrefix: string, edits?: ReplayEdits): Promise<ForwardAttempt>;
  /** Stores and forwards a realistic sample event (source `trigger`); resolves with its id. */
  trigger(request: TriggerRequest): Promise<string>;
  /** Skips the tunnel's backoff wait; no-op without a tunnel. */
  retryTunnel(): void;
}

export interface ReplayEdits {
  /** Replaces the stored body. */
  body?: Buffer;
  /** Replaces the stored headers (order and case kept; hop-by-hop ones are dropped when sent). */
  headers?: HeaderPairs;
  /** A handler base URL (the captured sub-path and query are appended); routes are ignored. */
  target?: string;
}

export interface TriggerRequest {
  /** `MESSAGE.RECEIVED.SUCCESS`, … or anything `trigger` accepts (`received`, `failed`, …). */
  eventType: string;
  /** Field names: both (what MFTG sends today), only the legacy ones, or only the new ones. */
  variant?: 'both' | 'legacy' | 'modern';
}

export interface SessionSnapshot {
  /** `listen` (a capture server runs) or `inspect` (a store alone: nothing is captured). */
  mode: 'listen' | 'inspect';
  ready: boolean;
  store: string;
  /** `http://127.0.0.1:PORT/TOKEN`, or null in `inspect` mode and before ready. */
  localUrl: string | null;
  /** The public capture URL with the token path, or null. */
  publicCaptureUrl: string | null;
  tunnel: TunnelState;
  targets: Targets;
  stats: SessionStats;
  /** The web inspector's URL while it runs. */
  inspectUrl: string | null;
}
