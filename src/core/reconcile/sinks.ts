import { MftgHooksError } from '../errors.js';
import { Attempts } from '../delivery/attempts.js';
import { targetFor, type Targets } from '../delivery/forwarder.js';
import { retryRule } from '../delivery/retry-rule.js';
import { newCapturedEvent } from '../events.js';
import { createDispatcher, DEFAULT_TIMEOUT_MS, joinTarget } from '../http-send.js';
import { postThroughListener } from '../ingest.js';
import { parseJsonObject } from '../mftg.js';
import { readSettings } from '../store/state-files.js';
import { EventStore } from '../store/store.js';
import { isSuccess, type CapturedEvent, type ForwardAttempt, type HeaderPairs } from '../types.js';
import { RECONCILE_SOURCE_HEADER, type CapturedMessages, type ReconcileSink } from './reconciler.js';

/**
 * The three ways a recovered payload enters the store: inside the listener (its own ingest path),
 * through a running listener from another process, or straight into the store when none runs.
 */

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
export async function readCapturedMessages(store: EventStore): Promise<CapturedMessages> {
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
 * Inside `listen`: each recovered payload is made by the one event factory with source `reconcile`
 * and handed to the listener's own ingest path (store first, then show, then forward), like a
 * delivery to the capture URL, without a request to itself.
 */
export class IngestSink implements ReconcileSink {
  readonly #store: EventStore;
  readonly #ingest: (event: CapturedEvent, body: Buffer) => Promise<void>;

  constructor(store: EventStore, ingest: (event: CapturedEvent, body: Buffer) => Promise<void>) {
    this.#store = store;
    this.#ingest = ingest;
  }

  capturedMessages(): Promise<CapturedMessages> {
    return readCapturedMessages(this.#store);
  }

  async ingest(body: Buffer, headers: Array<[string, string]>): Promise<string> {
    const event = newCapturedEvent({ source: 'reconcile', method: 'POST', path: '/', headers, remoteAddress: null, body });
    await this.#ingest(event, body);
    return event.id;
  }
}

/**
 * Through a running listener: the event is posted to its capture URL with the listener's source
 * mark, so the listener stores it with source `reconcile`, shows it and forwards it like any delivery.
 */
export class ListenerSink implements ReconcileSink {
  readonly #store: EventStore;
  readonly #storeDir: string;

  private constructor(store: EventStore, storeDir: string) {
    this.#store = store;
    this.#storeDir = storeDir;
  }

  static async open(storeDir: string): Promise<ListenerSink> {
    return new ListenerSink(await EventStore.open(storeDir), storeDir);
  }

  capturedMessages(): Promise<CapturedMessages> {
    return readCapturedMessages(this.#store);
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

  async close(): Promise<void> {
    await this.#store.close();
  }
}

/**
 * No listener running: this process is the store's one writer for the run. Each recovered event is
 * made by the one event factory, stored, and forwarded once to the last run's `--forward-to` (or
 * `--route`) through the one owner of attempts; one that was not delivered stays pending, and the
 * next `listen` with a target re-delivers it.
 */
export class StoreSink implements ReconcileSink {
  readonly #store: EventStore;
  readonly #targets: Targets;
  readonly #timeoutMs: number;
  #attempts: Attempts | null = null;
  #writing = false;
  /** Every forward attempt made, for the command's report. */
  readonly attempts: ForwardAttempt[] = [];

  private constructor(store: EventStore, targets: Targets, timeoutMs: number) {
    this.#store = store;
    this.#targets = targets;
    this.#timeoutMs = timeoutMs;
  }

  static async open(storeDir: string, options: { timeoutMs?: number } = {}): Promise<StoreSink> {
    const settings = await readSettings(storeDir);
    const targets = { forwardTo: settings.forwardTo ?? null, routes: settings.routes ?? {} };
    return new StoreSink(await EventStore.open(storeDir), targets, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  }

  /** The handler of the last run, or null when none is remembered. */
  get forwardTo(): string | null {
    return this.#targets.forwardTo;
  }

  capturedMessages(): Promise<CapturedMessages> {
    return readCapturedMessages(this.#store);
  }

  async ingest(body: Buffer, headers: Array<[string, string]>): Promise<string> {
    if (!this.#writing) {
      await this.#store.openForWriting();
      this.#writing = true;
    }
    const event = newCapturedEvent({ source: 'reconcile', method: 'POST', path: '/', headers, remoteAddress: null, body });
    const base = targetFor(this.#targets, event.mftg?.eventType);
    if (base !== null) event.forward = true;
    await this.#store.appendEvent(event, body);
    if (base !== null) {
      const store = this.#store;
      this.#attempts ??= new Attempts({ dispatcher: createDispatcher({ insecure: false }), record: async ({ attempt, responseBody }) => store.appendAttempt(attempt, responseBody) });
      // One forward, no automatic retry: what is not delivered stays pending for the next listener.
      const { attempt } = await this.#attempts.attempt({
        eventId: event.id,
        kind: 'forward',
        target: joinTarget(base, event.path),
        method: event.method,
        headers: event.headers,
        body,
        timeoutMs: this.#timeoutMs,
        decide: (made) => (isSuccess(made) ? 'delivered' : retryRule(made, { retry: 0, retries: 1 }).delivery),
      });
      this.attempts.push(attempt);
    }
    return event.id;
  }

  async close(): Promise<void> {
    await this.#attempts?.dispatcher.close();
    await this.#store.close();
  }
}
