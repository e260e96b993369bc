import type { SessionElement } from '../core/session.js';
import { sessionRecord } from './records.js';

/** `--json`: one record per line on stdout, nothing else there. */
export function attachJsonPrinter(subscribe: (listener: (element: SessionElement) => void) => () => void, out: NodeJS.WritableStream = process.stdout): () => void {
  return subscribe((element) => {
    const record = sessionRecord(element);
    if (record) out.write(JSON.stringify(record) + '\n');
  });
}
