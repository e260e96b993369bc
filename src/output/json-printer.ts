import type { SessionElement } from '../core/session.js';
import { sessionRecord } from './records.js';

/**
 * `--json`: one record per line on stdout, nothing else there. Lines produced in the same turn of
 * the event loop go out in one write: under a burst that is one system call per batch, not per event.
 */
export function attachJsonPrinter(subscribe: (listener: (element: SessionElement) => void) => () => void, out: NodeJS.WritableStream = process.stdout): () => void {
  let pending = '';
  let scheduled: NodeJS.Immediate | null = null;
  const flush = (): void => {
    scheduled = null;
    if (pending === '') return;
    const text = pending;
    pending = '';
    out.write(text);
  };
  const unsubscribe = subscribe((element) => {
    const record = sessionRecord(element);
    if (!record) return;
    pending += JSON.stringify(record) + '\n';
    scheduled ??= setImmediate(flush);
  });
  return () => {
    unsubscribe();
    if (scheduled) clearImmediate(scheduled);
    flush();
  };
}
