import { MftgHooksError, usageError } from './errors.js';
import { EVENT_ID_HEADER, SOURCE_HEADER, SOURCE_SECRET_HEADER } from './events.js';
import { createDispatcher, DEFAULT_TIMEOUT_MS, httpRequest } from './http-send.js';
import { buildSample, resolveSampleType, SAMPLE_DESCRIPTIONS, type SampleVariant } from './mftg-samples.js';
import { readListener } from './store/state-files.js';
import type { CapturedEvent, EventSource, HeaderPairs } from './types.js';

/** The three steps every event goes through, in this order (provided by the listener). */
export interface IngestSteps {
  /** Writes the event and its body to the store; nothing else happens to an event that was not stored. */
  store: (event: CapturedEvent, body: Buffer) => Promise<void>;
  /** Announces the stored event to every face. */
  emit: (event: CapturedEvent) => void;
  /** Hands it to delivery (returns at once: nothing waits for the handler). */
  deliver: (event: CapturedEvent, body: Buffer) => void;
}

/**
 * The one ingest path: every source — the capture server, `trigger`, reconcile —
 * hands its events here: store first, then show, then forward.
 */
export class Ingest {
  constructor(private readonly steps: IngestSteps) {}

  /** Stores, emits and delivers; rejects (and nothing is shown or forwarded) when the store fails. */
  async ingest(event: CapturedEvent, body: Buffer): Promise<void> {
    await this.store(event, body);
    this.publish(event, body);
  }

  /**
   * The first half, for the capture server: it acknowledges the request between the two halves
   * (the sender hears `200` as soon as the event is durable, before any face or the handler).
   */
  store(event: CapturedEvent, body: Buffer): Promise<void> {
    return this.steps.store(event, body);
  }

  /** The second half: show, then forward. */
  publish(event: CapturedEvent, body: Buffer): void {
    this.steps.emit(event);
    this.steps.deliver(event, body);
  }
}

export interface ListenerPost {
  /** The source the event is stored with. */
  source: Exclude<EventSource, 'webhook'>;
  body: Buffer;
  /** The request's headers (the source mark is added). */
  headers: HeaderPairs;
  method?: string;
  /** Below the capture URL (`/`, `/sub?x=1`); default `/`. */
  path?: string;
  timeoutMs?: number;
}

export interface ListenerPostResult {
  /** The capture URL posted to. */
  url: string;
  status: number | null;
  error: string | null;
  durationMs: number;
  /** The stored event's id (the listener says it when it accepted the source mark), else null. */
  eventId: string | null;
}

/**
 * Posts an event to the store's running listener, marked with its source: the way `trigger` and a
 * reconcile from another terminal ingest, so their events flow exactly like a delivery (stored,
 * shown, forwarded) yet keep their source. The mark is the listener's per-run secret from
 * `listener.json` (readable only by the user), so a stranger with the capture URL cannot forge it.
 * Throws E_NO_LISTENER when none runs; a failed request is a result with `error`.
 */
export async function postThroughListener(storeDir: string, post: ListenerPost): Promise<ListenerPostResult> {
  const listener = await readListener(storeDir);
  if (!listener) {
    throw new MftgHooksError(
      'E_NO_LISTENER',
      `no listener is running for the store ${storeDir}`,
      'start `mftg-hooks listen` in another terminal (same --store or MFTG_HOOKS_HOME), or pass --to <url>',
    );
  }
  const path = post.path ?? '/';
  const url = path === '/' ? listener.captureUrl : listener.captureUrl.replace(/\/$/, '') + path;
  const mark: HeaderPairs = listener.sourceSecret
    ? [
        [SOURCE_HEADER, post.source],
        [SOURCE_SECRET_HEADER, listener.sourceSecret],
      ]
    : [];
  const dispatcher = createDispatcher({ insecure: false });
  try {
    const result = await httpRequest({
      target: url,
      method: post.method ?? 'POST',
      headers: [...post.headers, ...mark],
      body: post.body,
      timeoutMs: post.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      dispatcher,
    });
    const eventId = result.responseHeaders.find(([name]) => name.toLowerCase() === EVENT_ID_HEADER)?.[1] ?? null;
    return { url, status: result.status, error: result.error, durationMs: result.durationMs, eventId };
  } finally {
    await dispatcher.close();
  }
}

/** What a trigger sends besides the body: JSON, and a User-Agent that tells samples from real deliveries. */
export const SAMPLE_HEADERS: ReadonlyArray<[string, string]> = [
  ['content-type', 'application/json'],
  ['user-agent', 'mftg-hooks-trigger'],
];

/**
 * A face's Trigger (`SessionView.trigger`): the sample's body and headers. Throws E_USAGE for an
 * event type `trigger` does not know.
 */
export function sampleRequest(eventType: string, variant: SampleVariant = 'both'): { eventType: string; body: Buffer; headers: HeaderPairs } {
  const resolved = resolveSampleType(eventType);
  if (!resolved) throw usageError(`unknown event type "${eventType}"`, `one of ${SAMPLE_DESCRIPTIONS.map((d) => d.eventType).join(', ')} (or received, sent, failed)`);
  return { eventType: resolved, body: Buffer.from(JSON.stringify(buildSample(resolved, { variant })), 'utf8'), headers: SAMPLE_HEADERS.map(([name, value]) => [name, value]) };
}
