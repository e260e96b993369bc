import type { Face } from '../live/face.js';
import { attachLaggingOutput, type CatchUpView, type LaggingOptions } from '../live/lagging-output.js';
import { sessionRecord } from './records.js';

/**
 * Under load, lines are gathered for up to this long between two writes: a burst of captures costs a
 * few hundred writes to stdout per second instead of one per event-loop turn.
 */
export const JSON_BATCH_MS = 5;

// JSON.stringify escapes C0 controls but leaves DEL, C1 controls (a lone U+009B is CSI on some
// terminals), the line separators and the bidirectional overrides raw: escaped here too, so `--json`
// read on a terminal cannot be steered by captured text. The parsed value is the same.
const UNSAFE_IN_JSON = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const escapeUnsafe = (char: string): string => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** One record as one line of JSON, with every control character escaped. */
export function jsonLine(record: unknown): string {
  return JSON.stringify(record).replace(UNSAFE_IN_JSON, escapeUnsafe) + '\n';
}

/**
 * `--json`: one record per line on stdout, nothing else there. Lines of one event-loop turn go out in
 * one write. When a write carried several records (records are coming fast), the next lines are
 * gathered for up to JSON_BATCH_MS; a record that follows a single-record write (one delivery at a
 * time: its event, then its attempt) goes out in its own turn, without waiting.
 *
 * A reader that stalls never grows the listener's memory: past OUTPUT_HIGH_WATER_BYTES queued,
 * events and attempts are read back from the store once stdout drains (see lagging-output.ts).
 * The returned function stops the printer and resolves once what was missed is written.
 */
export function attachJsonPrinter(view: CatchUpView, out: NodeJS.WritableStream = process.stdout, now: () => number = () => performance.now(), options: LaggingOptions = {}): () => Promise<void> {
  let pending = '';
  let pendingRecords = 0;
  let lastWriteAt = -Infinity;
  let lastWriteRecords = 0;
  let cancelScheduled: (() => void) | null = null;
  const flush = (): void => {
    cancelScheduled?.();
    cancelScheduled = null;
    if (pending === '') return;
    const text = pending;
    lastWriteRecords = pendingRecords;
    pending = '';
    pendingRecords = 0;
    lastWriteAt = now();
    out.write(text);
  };
  const schedule = (): void => {
    if (cancelScheduled) return;
    const wait = lastWriteRecords > 1 ? lastWriteAt + JSON_BATCH_MS - now() : 0;
    if (wait <= 0) {
      const immediate = setImmediate(flush);
      cancelScheduled = () => clearImmediate(immediate);
    } else {
      const timer = setTimeout(flush, wait);
      cancelScheduled = () => clearTimeout(timer);
    }
  };
  const output = attachLaggingOutput(
    view,
    out,
    {
      put: (element) => {
        const record = sessionRecord(element);
        if (!record) return;
        pending += jsonLine(record);
        pendingRecords++;
        schedule();
      },
      flush,
      bufferedBytes: () => pending.length,
    },
    options,
  );
  return async () => {
    await output.detach();
    flush();
  };
}

/** The `--json` face. */
export const jsonFace = (out: NodeJS.WritableStream = process.stdout): Face => ({ attach: (view) => attachJsonPrinter(view, out) });
