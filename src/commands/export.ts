import { usageError } from '../core/errors.js';
import { deliveredItem, maskToken, originalItem, originalUrl, requestUrl, type ExportItem } from '../core/export.js';
import type { StoredEvent } from '../core/store/store.js';
import { readListener, readSettings } from '../core/store/state-files.js';
import { EventStore } from '../core/store/store.js';
import { toolVersion } from '../cli.js';
import { DEFAULT_EXPORT_FORMAT, exportFormatNamed } from '../output/export/index.js';
import { storeDirFrom } from './common.js';

/** Output is handed to stdout in pieces of about this size (one write per event would cost more than the event). */
const OUTPUT_CHUNK_BYTES = 256 * 1024;

/** The capture token the stored requests were sent with: the running listener's, else the remembered one. */
async function captureToken(storeDir: string): Promise<string | null> {
  const listener = await readListener(storeDir, (message) => process.stderr.write(`mftg-hooks: warning: ${message}\n`));
  if (listener) {
    const token = new URL(listener.captureUrl).pathname.replace(/^\/+|\/+$/g, '');
    return token === '' ? null : token;
  }
  return (await readSettings(storeDir)).token ?? null;
}

/** Output for stdout, gathered into chunks of bytes; a full chunk waits for stdout to take it, so memory stays flat. */
class Output {
  private buffer = Buffer.allocUnsafe(OUTPUT_CHUNK_BYTES);
  private used = 0;

  /** Encodes `text` straight into the chunk (no string joined, no Buffer per piece); a full chunk goes out first. */
  async write(text: string): Promise<void> {
    // At most 3 bytes of UTF-8 per UTF-16 unit: what is sure to fit is written in place.
    if (text.length * 3 > this.buffer.length - this.used) {
      await this.flush();
      if (text.length * 3 > this.buffer.length) return this.send(Buffer.from(text, 'utf8'));
    }
    this.used += this.buffer.write(text, this.used, 'utf8');
  }

  async flush(): Promise<void> {
    if (this.used === 0) return;
    const chunk = this.buffer.subarray(0, this.used);
    this.buffer = Buffer.allocUnsafe(OUTPUT_CHUNK_BYTES);
    this.used = 0;
    await this.send(chunk);
  }

  private send(chunk: Buffer): Promise<void> {
    return new Promise((resolve, reject) => process.stdout.write(chunk, (error) => (error ? reject(error) : resolve())));
  }
}

/** The events named on the command line, in that order, each once. */
async function* named(store: EventStore, args: string[]): AsyncGenerator<StoredEvent> {
  const seen = new Set<string>();
  for (const id of args) {
    const { event, body } = await store.getWithBody(id);
    if (seen.has(event.id)) continue;
    seen.add(event.id);
    const last = event.attempts[event.attempts.length - 1];
    yield {
      event,
      body: async () => body,
      lastResponseBody: async () => (last && last.responseSize > 0 ? store.attemptBody(event.id, last.id) : Buffer.alloc(0)),
    };
  }
}

/**
 * `mftg-hooks events export (<id>... | --all) --format json|curl|har`. Streams one event at a time:
 * `--all` reads the store in one forward pass and never holds more than two segments and one chunk of
 * output in memory.
 */
export async function eventsExport(options: Record<string, unknown>, args: string[]): Promise<number> {
  const all = options.all === true;
  if (all && args.length > 0) throw usageError('give event ids or --all, not both');
  if (!all && args.length === 0) throw usageError('which events? give event ids (or unique prefixes), or --all', 'see `mftg-hooks events list`');
  const format = exportFormatNamed(String(options.format ?? DEFAULT_EXPORT_FORMAT));
  if (!format) throw usageError(`unknown export format ${String(options.format)}`);
  const storeDir = storeDirFrom(options);
  const to = typeof options.to === 'string' ? options.to : null;
  const store = await EventStore.open(storeDir);
  try {
    // Every named id is looked up before anything is written: a wrong one is an error, not half an export.
    const stored: AsyncIterable<StoredEvent> | Iterable<StoredEvent> = all
      ? store.stream()
      : await (async () => {
          const found: StoredEvent[] = [];
          for await (const source of named(store, args)) found.push(source);
          return found;
        })();
    const token = await captureToken(storeDir);
    const mask = options.maskToken === true ? (text: string): string => maskToken(text, token) : (text: string): string => text;

    const itemFor = async (source: StoredEvent): Promise<ExportItem> => {
      const { event } = source;
      const body = await source.body();
      const base = to ? deliveredItem(event, body, requestUrl(event, to)) : originalItem(event, body, originalUrl(event, token));
      const lastResponseBody = format.needsResponse ? await source.lastResponseBody() : undefined;
      return { ...base, url: mask(base.url), headers: base.headers.map(([name, value]) => [name, mask(value)]), ...(lastResponseBody && lastResponseBody.length > 0 ? { lastResponseBody } : {}) };
    };

    const output = new Output();
    await output.write(format.begin({ version: toolVersion(), exportedAt: new Date() }));
    let count = 0;
    for await (const source of stored) await output.write(format.entry(await itemFor(source), count++));
    await output.write(format.end(count));
    await output.flush();
    return 0;
  } finally {
    for (const warning of store.warnings.splice(0)) process.stderr.write(`mftg-hooks: warning: ${warning}\n`);
    await store.close();
  }
}
