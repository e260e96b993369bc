import { newId } from '../../src/core/ids.js';
import type { CapturedEvent, ForwardAttempt, HeaderPairs } from '../../src/core/types.js';

/** A minimal stored event (not an MFTG document), arriving now. */
export function plainEvent(headers: HeaderPairs = [['content-type', 'text/plain']]): CapturedEvent {
  return { id: newId(), receivedAt: new Date().toISOString(), method: 'POST', path: '/', headers, remoteAddress: '127.0.0.1', size: 0, mftg: null };
}

/** A replay attempt of `eventId` that got `status`, with a response body of `responseSize` bytes. */
export function replayAttempt(eventId: string, status: number, responseSize = 2): ForwardAttempt {
  return {
    id: newId(),
    eventId,
    kind: 'replay',
    target: 'http://127.0.0.1:1/hook',
    startedAt: new Date().toISOString(),
    status,
    error: null,
    durationMs: 1,
    responseHeaders: [],
    responseSize,
    modified: false,
  };
}
