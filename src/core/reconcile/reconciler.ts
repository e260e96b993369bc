import { MftgHooksError } from '../errors.js';
import type { ListOptions, MessageListing } from '../mftg-api/client.js';
import { toWebhookPayload } from '../mftg-api/to-webhook.js';
import { MESSAGE_TYPES, type As2Message, type MessageType } from '../mftg-api/types.js';

/**
 * Nothing missed: finds through MFTG's API the messages whose webhook never
 * reached the store, turns each into the payload MFTG would have sent and ingests it with source
 * `reconcile`. It only looks (the API client sends `markAsRead=false` and `fetchAll=true`) and
 * never changes anything in MFTG.
 */

/** Messages younger than this are left for their own webhook, which may still be on its way. */
export const RECONCILE_GRACE_MS = 2 * 60_000;
/** The default window reaches back to the oldest stored event, but never further than this. */
export const RECONCILE_MAX_DEFAULT_WINDOW_MS = 24 * 60 * 60_000;
/** `--types` when not given. */
export const DEFAULT_RECONCILE_TYPES: readonly MessageType[] = ['received', 'failed'];

/** The header every recovered payload carries (and the handler sees). */
export const RECONCILE_SOURCE_HEADER = 'x-mftg-hooks-source';
/** What a recovered payload is sent with besides its body. */
export const RECONCILE_HEADERS: ReadonlyArray<[string, string]> = [
  ['content-type', 'application/json'],
  ['user-agent', 'mftg-hooks-reconcile'],
  [RECONCILE_SOURCE_HEADER, 'reconcile'],
];

/** What is already in the store, as the reconciler needs it. */
export interface CapturedMessages {
  /** Message ids (either field name, angle brackets kept) of every stored event. */
  ids: Set<string>;
  /** The newest stored real webhook payload per station AS2 id (for names and tenant fields). */
  newestByStation: Map<string, Record<string, unknown>>;
  /** ISO-8601 arrival of the oldest stored event, or null for an empty store. */
  oldestReceivedAt: string | null;
  /** Partner AS2 id → partner name, from stored deliveries (optional). */
  partnerNames?: Map<string, string>;
}

/** Where recovered payloads go: through a running listener, or straight into the store. */
export interface ReconcileSink {
  /** What the store holds (see CapturedMessages). */
  capturedMessages(): Promise<CapturedMessages>;
  /** Ingests one recovered payload (headers include `x-mftg-hooks-source: reconcile`); resolves with the event id once stored. */
  ingest(body: Buffer, headers: Array<[string, string]>): Promise<string>;
}

/** The part of MftgApiClient the reconciler uses (tests may wrap it). */
export interface ReconcileApi {
  listMessages(type: MessageType, options?: ListOptions): MessageListing;
  getMessage(type: MessageType, id: string): Promise<As2Message>;
}

export interface ReconcileOptions {
  /** Epoch ms: the oldest message looked at. Default the oldest stored event, at most 24 h back. */
  since?: number | null;
  /** Station AS2 ids (the API's `stationAS2Id` filter); default every station. */
  stations?: string[];
  /** Default DEFAULT_RECONCILE_TYPES. */
  types?: readonly MessageType[];
  /** List what would be recovered; ingest nothing. */
  dryRun?: boolean;
}

/** One message found missing from the store. */
export interface RecoveredMessage {
  type: MessageType;
  messageId: string;
  /** The new event's id; null in a dry run. */
  eventId: string | null;
  station: string | null;
  /** The message's MFTG timestamp (epoch ms), when it has one. */
  timestamp: number | null;
}

export interface ReconcileTypeSummary {
  /** Messages MFTG has in the window (of the stations asked for). */
  inMftg: number;
  alreadyCaptured: number;
  /** Younger than RECONCILE_GRACE_MS: left for their webhook. */
  leftForWebhook: number;
  recovered: RecoveredMessage[];
  /** True once every page of the window was read. */
  complete: boolean;
}

export interface ReconcileSummary {
  state: 'running' | 'done' | 'failed';
  /** ISO-8601 start of the window. */
  since: string;
  dryRun: boolean;
  types: MessageType[];
  stations: string[];
  byType: Record<MessageType, ReconcileTypeSummary>;
  /** Why it failed (never a credential), or null. */
  error: string | null;
  /** The stable code of the failure (E_MFTG_AUTH …), or null. */
  errorCode: string | null;
  /** What to do about the failure, or null. */
  hint: string | null;
}

export type ReconcileProgress =
  | { phase: 'listing'; type: MessageType; station: string | null; pages: number; messages: number; summary: ReconcileSummary }
  | { phase: 'recovering'; done: number; total: number; summary: ReconcileSummary };

export interface ReconcilerOptions {
  api: ReconcileApi;
  sink: ReconcileSink;
  /** Called as pages are read and messages recovered (a running summary included). */
  onProgress?: (progress: ReconcileProgress) => void;
  /** Called once the window is known, before the first request (the summary says `running`). */
  onStart?: (summary: ReconcileSummary) => void;
  /** Default Date.now. */
  now?: () => number;
}

function emptyTypeSummary(): ReconcileTypeSummary {
  return { inMftg: 0, alreadyCaptured: 0, leftForWebhook: 0, recovered: [], complete: false };
}

function timestampOf(message: As2Message): number | null {
  const value: unknown = message.timestamp;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) return Date.parse(value);
  return null;
}

function stationOf(message: As2Message, type: MessageType): string | null {
  const station = type === 'received' ? (message.receiverAS2Id ?? message.transportHeaders?.['AS2-To']) : (message.senderAS2Id ?? message.transportHeaders?.['AS2-From']);
  return typeof station === 'string' && station !== '' ? station : null;
}

interface Candidate {
  type: MessageType;
  message: As2Message;
  timestamp: number | null;
  station: string | null;
}

/**
 * One reconciliation at a time per instance: `run` lists, compares and ingests. `listen` keeps one
 * and calls `run` at start, after each tunnel outage and on its interval.
 */
export class Reconciler {
  readonly #api: ReconcileApi;
  readonly #sink: ReconcileSink;
  readonly #onProgress: ((progress: ReconcileProgress) => void) | undefined;
  readonly #onStart: ((summary: ReconcileSummary) => void) | undefined;
  readonly #now: () => number;

  constructor(options: ReconcilerOptions) {
    this.#api = options.api;
    this.#sink = options.sink;
    this.#onProgress = options.onProgress;
    this.#onStart = options.onStart;
    this.#now = options.now ?? Date.now;
  }

  /** Never throws for an API, store or ingest failure: the summary says `failed` with the reason. */
  async run(options: ReconcileOptions = {}): Promise<ReconcileSummary> {
    const now = this.#now();
    const types = MESSAGE_TYPES.filter((type) => (options.types ?? DEFAULT_RECONCILE_TYPES).includes(type));
    const stations = [...new Set(options.stations ?? [])];
    let captured: CapturedMessages | null = null;
    let unreadable: unknown = null;
    try {
      captured = await this.#sink.capturedMessages();
    } catch (error) {
      unreadable = error;
    }
    const since = options.since ?? defaultSince(captured?.oldestReceivedAt ?? null, now);
    const summary: ReconcileSummary = {
      state: 'running',
      since: new Date(since).toISOString(),
      dryRun: options.dryRun === true,
      types,
      stations,
      byType: { received: emptyTypeSummary(), sent: emptyTypeSummary(), failed: emptyTypeSummary() },
      error: null,
      errorCode: null,
      hint: null,
    };
    if (captured === null) {
      failSummary(summary, unreadable);
      return summary;
    }
    this.#onStart?.(summary);
    const candidates: Candidate[] = [];
    try {
      for (const type of types) await this.#check(type, stations, since, now, captured, summary, candidates);
    } catch (error) {
      failSummary(summary, error);
    }
    // Whatever was found before a failure is still recovered: oldest first, like arrival order.
    candidates.sort((a, b) => (a.timestamp ?? now) - (b.timestamp ?? now));
    let done = 0;
    for (const candidate of candidates) {
      const messageId = candidate.message.as2MessageId;
      if (captured.ids.has(messageId)) continue;
      let eventId: string | null = null;
      if (!summary.dryRun) {
        const template = candidate.station === null ? null : (captured.newestByStation.get(candidate.station) ?? null);
        const payload = toWebhookPayload(candidate.message, candidate.type, { template, ...(captured.partnerNames ? { partnerNames: captured.partnerNames } : {}) });
        try {
          eventId = await this.#sink.ingest(
            Buffer.from(JSON.stringify(payload), 'utf8'),
            RECONCILE_HEADERS.map(([name, value]) => [name, value]),
          );
        } catch (error) {
          failSummary(summary, error);
          break;
        }
      }
      captured.ids.add(messageId);
      summary.byType[candidate.type].recovered.push({ type: candidate.type, messageId, eventId, station: candidate.station, timestamp: candidate.timestamp });
      done++;
      this.#onProgress?.({ phase: 'recovering', done, total: candidates.length, summary });
    }
    if (summary.state === 'running') summary.state = 'done';
    return summary;
  }

  async #check(type: MessageType, stations: string[], since: number, now: number, captured: CapturedMessages, summary: ReconcileSummary, candidates: Candidate[]): Promise<void> {
    const counts = summary.byType[type];
    // The same message under two --station filters (or listed twice) counts once.
    const seen = new Set<string>();
    for (const station of stations.length > 0 ? stations : [null]) {
      const listing = this.#api.listMessages(type, { since, ...(station !== null ? { station } : {}) });
      let pages = 0;
      for await (const page of listing) {
        pages++;
        const fresh = page.ids.filter((id) => !seen.has(id));
        for (const id of fresh) seen.add(id);
        counts.inMftg += fresh.length;
        const missing = fresh.filter((id) => !captured.ids.has(id));
        counts.alreadyCaptured += fresh.length - missing.length;
        // The client holds at most 4 requests on the wire; asking for a whole page at once keeps them busy.
        const messages = await Promise.all(missing.map(async (id) => page.retrieved.get(id) ?? (await this.#api.getMessage(type, id))));
        for (const message of messages) {
          const timestamp = timestampOf(message);
          if (timestamp !== null && timestamp > now - RECONCILE_GRACE_MS) {
            counts.leftForWebhook++;
            continue;
          }
          candidates.push({ type, message, timestamp, station: stationOf(message, type) });
        }
        this.#onProgress?.({ phase: 'listing', type, station, pages, messages: counts.inMftg, summary });
      }
      if (listing.end === 'page-limit') {
        throw new MftgHooksError('E_MFTG_API', `stopped after ${pages} pages of ${type} messages before reaching ${summary.since}`, 'pass a later --since (or --station) to check a smaller window');
      }
    }
    counts.complete = true;
  }
}

/** The oldest stored event's time, but at most RECONCILE_MAX_DEFAULT_WINDOW_MS back (and that for an empty store). */
export function defaultSince(oldestReceivedAt: string | null, now: number): number {
  const floor = now - RECONCILE_MAX_DEFAULT_WINDOW_MS;
  const oldest = oldestReceivedAt === null ? Number.NaN : Date.parse(oldestReceivedAt);
  return Number.isNaN(oldest) ? floor : Math.max(floor, oldest);
}

/** Marks a summary failed with the error's message, code and hint (the first failure wins). */
export function failSummary(summary: ReconcileSummary, error: unknown): void {
  if (summary.state === 'failed') return;
  summary.state = 'failed';
  if (error instanceof MftgHooksError) {
    summary.error = error.message;
    summary.errorCode = error.code;
    summary.hint = error.hint ?? null;
  } else {
    summary.error = error instanceof Error ? error.message : String(error);
    summary.errorCode = 'E_RECONCILE';
  }
}

/** Every message recovered, oldest first. */
export function recoveredMessages(summary: ReconcileSummary): RecoveredMessage[] {
  return MESSAGE_TYPES.flatMap((type) => summary.byType[type].recovered).sort((a, b) => (a.timestamp ?? 0) - (b.timestamp ?? 0));
}
