import type { SessionElement } from '../core/session.js';
import { sessionRecord } from './records.js';

/**
 * While records keep coming, lines are gathered for up to this long between two writes: a burst of
 * captures costs a few writes to stdout per second instead of one per request. A record that comes
 * after a quiet spell goes out in the same turn of the event loop.
 */
export const JSON_BATCH_MS = 10;

/** `--json`: one record per line on stdout, nothing else there. */
export function attachJsonPrinter(
  subscribe: (listener: (element: SessionElement) => void) => () => void,
  out: NodeJS.WritableStream = process.stdout,
  now: () => number = () => performance.now(),
): () => void {
  let pending = '';
  let lastWriteAt = -Infinity;
  let cancelScheduled: (() => void) | null = null;
  const flush = (): void => {
    cancelScheduled = null;
    if (pending === '') return;
    const text = pending;
    pending = '';
    lastWriteAt = now();
    out.write(text);
  };
  const schedule = (): void => {
    if (cancelScheduled) return;
    const wait = lastWriteAt + JSON_BATCH_MS - now();
    if (wait <= 0) {
      const immediate = setImmediate(flush);
      cancelScheduled = () => clearImmediate(immediate);
    } else {
      const timer = setTimeout(flush, wait);
      cancelScheduled = () => clearTimeout(timer);
    }
  };
  const unsubscribe = subscribe((element) => {
    const record = sessionRecord(element);
    if (!record) return;
    pending += JSON.stringify(record) + '\n';
    schedule();
  });
  return () => {
    unsubscribe();
    cancelScheduled?.();
    flush();
  };
}
