import type { Dispatcher } from 'undici';
import { httpRequest } from '../http-send.js';
import { newId } from '../ids.js';
import type { AttemptKind, DeliveryState, ForwardAttempt, HeaderPairs } from '../types.js';

/** An attempt and the stored preview of its response body (at most RESPONSE_PREVIEW_BYTES). */
export interface SendResult {
  attempt: ForwardAttempt;
  responseBody: Buffer;
}

/** Stores and announces an attempt; what it means depends on who records (a listener, `replay`, `inspect`). */
export type RecordAttempt = (result: SendResult) => Promise<void>;

export interface AttemptRequest {
  eventId: string;
  kind: AttemptKind;
  /** The full URL (the handler base joined with the captured path: `joinTarget`). */
  target: string;
  method: string;
  headers: HeaderPairs;
  body: Buffer;
  /** 0 waits forever. */
  timeoutMs: number;
  /** True when the request differs from the captured one (a replay with edits). */
  modified?: boolean;
  signal?: AbortSignal;
  /**
   * The delivery state the attempt leaves its event in, decided before it is recorded (the
   * forwarder's retry rule); absent for replays.
   */
  decide?: (attempt: ForwardAttempt) => DeliveryState | undefined;
}

/**
 * The one owner of attempts: every try at delivering an event — the forward, its retries, a replay
 * from the terminal UI, from `mftg-hooks replay` in another terminal, from the web inspector, with or
 * without edits — is sent and recorded here, so every attempt has the same shape, is stored before
 * it is announced, and is counted the same way by whoever reads the store.
 */
export class Attempts {
  constructor(private readonly options: { dispatcher: Dispatcher; record: RecordAttempt }) {}

  get dispatcher(): Dispatcher {
    return this.options.dispatcher;
  }

  /** Sends once and records the attempt. Never throws for a failed request: that is an attempt too. */
  async attempt(request: AttemptRequest): Promise<SendResult> {
    const result = await sendAttempt({ ...request, dispatcher: this.options.dispatcher });
    await this.options.record(result);
    return result;
  }
}

/**
 * Sends once and makes the attempt, with the request's decision, without recording it: the step
 * inside `Attempts.attempt` (tests that build stores use it alone).
 */
export async function sendAttempt(request: AttemptRequest & { dispatcher: Dispatcher }): Promise<SendResult> {
  const { responseBody, ...outcome } = await httpRequest({
    target: request.target,
    method: request.method,
    headers: request.headers,
    body: request.body,
    timeoutMs: request.timeoutMs,
    dispatcher: request.dispatcher,
    ...(request.signal ? { signal: request.signal } : {}),
  });
  const attempt: ForwardAttempt = { id: newId(), eventId: request.eventId, kind: request.kind, target: request.target, ...outcome, modified: request.modified ?? false };
  const delivery = request.decide?.(attempt);
  if (delivery) attempt.delivery = delivery;
  return { attempt, responseBody };
}

/** Replacements for a replay: the body, the headers (order and case kept). */
export interface AttemptEdits {
  body?: Buffer;
  headers?: HeaderPairs;
}

/**
 * The request that replays a stored event to `target` (already joined with its path), `modified`
 * when the edits changed the body or the headers.
 */
export function replayRequest(event: { id: string; method: string; headers: HeaderPairs }, stored: Buffer, target: string, edits: AttemptEdits, timeoutMs: number): AttemptRequest {
  const body = edits.body ?? stored;
  const headers = edits.headers ?? event.headers;
  const modified = !body.equals(stored) || JSON.stringify(headers) !== JSON.stringify(event.headers);
  return { eventId: event.id, kind: 'replay', target, method: event.method, headers, body, timeoutMs, modified };
}
