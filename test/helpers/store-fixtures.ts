import { open } from 'node:fs/promises';
import { newId } from '../../src/core/ids.js';
import type { CapturedEvent, ForwardAttempt, HeaderPairs } from '../../src/core/types.js';

/** A minimal stored event (not an MFTG document), arriving now. */
export function plainEvent(headers: HeaderPairs = [['content-type', 'text/plain']]): CapturedEvent {
  return { id: newId(), receivedAt: new Date().toISOString(), method: 'POST', path: '/', headers, remoteAddress: '127.0.0.1', size: 0, mftg: null };
}

/** A stored JSON event (not an MFTG document), arriving now, with `overrides`. */
export function jsonEvent(overrides: Partial<CapturedEvent> = {}): CapturedEvent {
  return { ...plainEvent([['content-type', 'application/json']]), ...overrides };
}

/**
 * An attempt of `eventId` (kind `forward` unless said) that got `status`, or no answer
 * (`status` null: ECONNREFUSED), with a response body of `responseSize` bytes.
 */
export function storedAttempt(eventId: string, status: number | null, options: { kind?: ForwardAttempt['kind']; responseSize?: number } = {}): ForwardAttempt {
  return {
    id: newId(),
    eventId,
    kind: options.kind ?? 'forward',
    target: 'http://127.0.0.1:1/hook',
    startedAt: new Date().toISOString(),
    status,
    error: status === null ? 'ECONNREFUSED' : null,
    durationMs: 1,
    responseHeaders: [],
    responseSize: options.responseSize ?? 0,
    modified: false,
  };
}

/** A replay attempt of `eventId` that got `status`, with a response body of `responseSize` bytes. */
export function replayAttempt(eventId: string, status: number, responseSize = 2): ForwardAttempt {
  return storedAttempt(eventId, status, { kind: 'replay', responseSize });
}

/** Overwrites the frames of a segment with zeros (same size, header kept): reading it would warn about every byte. */
export async function wipeSegment(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    const { size } = await handle.stat();
    await handle.write(Buffer.alloc(size - 16), 0, size - 16, 16);
  } finally {
    await handle.close();
  }
}
