import { MftgHooksError } from '../errors.js';
import { newCapturedEvent } from '../events.js';
import { DEFAULT_TIMEOUT_MS } from '../http-send.js';
import { postThroughListener, type Ingest } from '../ingest.js';
import { parseJsonObject } from '../mftg.js';
import type { EventStore } from '../store/store.js';
import type { CapturedEvent, HeaderPairs } from '../types.js';
import { RECONCILE_SOURCE_HEADER, type CapturedMessages, type ReconcileSink } from './reconciler.js';

/**
 * The two ways a recovered payload enters the store: an ingest path (the listener's own, or with no
 * listener running a store-backed one), or through a running listener from another process. Both
 * read the store only through what their caller hands them.
 */

/** What reconcile reads of the store: every stored event, oldest first, bodies read on demand. */
export type CapturedReads = Pick<EventStore, 'readAll'>;

function header(headers: HeaderPairs, name: string): string | undefined {
  return headers.find(([key]) => key.toLowerCase() === name)?.[1];
}

/** A delivery that came from MFTG itself, not a sample (`trigger`) or an earlier reconcile. */
function isRealDelivery(event: CapturedEvent): boolean {
  const source = (event as CapturedEvent & { source?: unknown }).source;
  if (source !== undefined && source !== 'webhook') return false;
  if (header(event.headers, RECONCILE_SOURCE_HEADER) !== undefined) return false;
  return header(event.headers, 'user-agent') !== 'mftg-hooks-trigger';
}

/** Reads what the reconciler compares against: one pass over the metadata, bodies only for templates. */
export async function readCapturedMessages(store: CapturedReads): Promise<CapturedMessages> {
  const all = await store.readAll();
  const ids = new Set<string>();
  const partnerNames = new Map<string, string>();
  for (const { event } of all) {
    const m = event.mftg;
    if (!m) continue;
    if (m.messageId) ids.add(m.messageId);
    if (m.partner && m.partnerName && !partnerNames.has(m.partner) && isRealDelivery(event)) partnerNames.set(m.partner, m.partnerName);
  }
  const newestByStation = new Map<string, Record<string, unknown>>();
  for (let i = all.length - 1; i >= 0; i--) {
    const { event, body } = all[i]!;
    const m = event.mftg;
    if (!m?.station || newestByStation.has(m.station) || !isRealDelivery(event)) continue;
    const doc = parseJsonObject(await body());
    if (!doc) continue;
    newestByStation.set(m.station, doc);
    // A message id under the other field name (MFTG sends both; the summary keeps one).
    for (const field of ['messageIdentifier', 'messageAS2ID']) if (typeof doc[field] === 'string') ids.add(doc[field] as string);
    if (m.partner && m.partnerName) partnerNames.set(m.partner, m.partnerName);
  }
  return { ids, newestByStation, oldestReceivedAt: await oldestTime(all), partnerNames };
}

function isReconciled(event: CapturedEvent): boolean {
  return (event as CapturedEvent & { source?: unknown }).source === 'reconcile' || header(event.headers, RECONCILE_SOURCE_HEADER) === 'reconcile';
}

/**
 * The oldest stored event's time. A recovered event counts at its message's MFTG time, not at the
 * moment it was recovered: otherwise the first run would narrow the next run's default window to
 * nothing.
 */
async function oldestTime(all: Awaited<ReturnType<EventStore['readAll']>>): Promise<string | null> {
  let oldest = all[0] ? Date.parse(all[0].event.receivedAt) : Number.NaN;
  for (const { event, body } of all) {
    if (!isReconciled(event)) continue;
    const doc = parseJsonObject(await body());
    const at = doc ? [doc.receivedAt, doc.sentAt, doc.lastAttemptTime].find((value): value is number => typeof value === 'number' && Number.isFinite(value)) : undefined;
    if (at !== undefined && !(at >= oldest)) oldest = at;
  }
  return Number.isNaN(oldest) ? null : new Date(oldest).toISOString();
}

/**
 * Each recovered payload is made by the one event factory with source `reconcile` and handed to an
 * ingest path (store first, then show, then forward), like a delivery to the capture URL: inside
 * `listen` the listener's own, without a request to itself; with no listener running, a
 * store-backed one (standalone-ingest.ts) that this process composes.
 */
export class IngestSink implements ReconcileSink {
  readonly #reads: CapturedReads;
  readonly #ingest: Pick<Ingest, 'ingest'>;

  constructor(reads: CapturedReads, ingest: Pick<Ingest, 'ingest'>) {
    this.#reads = reads;
    this.#ingest = ingest;
  }

  capturedMessages(): Promise<CapturedMessages> {
    return readCapturedMessages(this.#reads);
  }

  async ingest(body: Buffer, headers: Array<[string, string]>): Promise<string> {
    const event = newCapturedEvent({ source: 'reconcile', method: 'POST', path: '/', headers, remoteAddress: null, body });
    await this.#ingest.ingest(event, body);
    return event.id;
  }
}

/**
 * Through a running listener: the event is posted to its capture URL with the listener's source
 * mark, so the listener stores it with source `reconcile`, shows it and forwards it like any delivery.
 */
export class ListenerSink implements ReconcileSink {
  readonly #reads: CapturedReads;
  readonly #storeDir: string;

  constructor(reads: CapturedReads, storeDir: string) {
    this.#reads = reads;
    this.#storeDir = storeDir;
  }

  capturedMessages(): Promise<CapturedMessages> {
    return readCapturedMessages(this.#reads);
  }

  async ingest(body: Buffer, headers: Array<[string, string]>): Promise<string> {
    const result = await postThroughListener(this.#storeDir, { source: 'reconcile', body, headers, timeoutMs: DEFAULT_TIMEOUT_MS });
    if (result.status === null || result.status < 200 || result.status >= 300 || result.eventId === null) {
      throw new MftgHooksError(
        'E_NO_LISTENER',
        `the running listener did not accept a recovered event (${result.status ?? result.error})`,
        'check that `mftg-hooks listen` is still running, then run `mftg-hooks reconcile` again',
      );
    }
    return result.eventId;
  }
}
