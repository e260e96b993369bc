import { usageError } from '../core/errors.js';
import { deliveredItem, harCreator, harEntry, jsonExportEvent, maskToken, originalItem, originalUrl, requestUrl, toCurl, type ExportItem, } from '../core/export.js';
import type { StoredEvent } from '../core/store/store.js';
import { readListener, readSettings } from '../core/store/state-files.js';
import { EventStore } from '../core/store/store.js';
import { toolVersion } from '../cli.js';
import { terminalSafe } from '../output/terminal-text.js';
import { storeDirFrom } from './common.js';

export type ExportFormat = 'json' | 'curl' | 'har';

/** The capture token the stored requests were sent with: the running listener's, else the remembered one. */
async function captureToken(storeDir: string): Promise<string | null> {
  const listener = await readListener(storeDir, (message) => process.stderr.write(`mftg-hooks: warning: ${message}\n`));
  if (listener) {
    const token = new URL(listener.captureUrl).pathname.replace(/^\/+|\/+$/g, '');
    return token === '' ? null : token;
  }
  return (await readSettings(storeDir)).token ?? null;
}

function write(text: string): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(text, (error) => (error ? reject(error) : resolve())));
}

const indent = (json: string, by: string): string => json.split('\n').join('\n' + by);

/**
 * `mftg-hooks events export (<id>... | --all) --format json|curl|har`. Streams one event at a time,
 * so `--all` never holds more than one body in memory.
 */
export async function eventsExport(options: Record<string, unknown>, args: string[]): Promise<number> {
  const all = options.all === true;
  if (all && args.length > 0) throw usageError('give event ids or --all, not both');
  if (!all && args.length === 0) throw usageError('which events? give event ids (or unique prefixes), or --all', 'see `mftg-hooks events list`');
  const format = options.format as ExportFormat;
  const storeDir = storeDirFrom(options);
  const to = typeof options.to === 'string' ? options.to : null;
  const store = await EventStore.open(storeDir);
  try {
    const stored: StoredEvent[] = [];
    if (all) {
      stored.push(...(await store.readAll()));
    } else {
      const seen = new Set<string>();
      for (const id of args) {
        const event = await store.get(id);
        if (seen.has(event.id)) continue;
        seen.add(event.id);
        const last = event.attempts[event.attempts.length - 1];
        stored.push({
          event,
          body: async () => (await store.getWithBody(event.id)).body,
          lastResponseBody: async () => (last && last.responseSize > 0 ? store.attemptBody(event.id, last.id) : Buffer.alloc(0)),
        });
      }
    }
    const token = await captureToken(storeDir);
    const mask = options.maskToken === true ? (text: string): string => maskToken(text, token) : (text: string): string => text;

    const itemFor = async (source: StoredEvent): Promise<ExportItem> => {
      const { event } = source;
      const body = await source.body();
      const base = to ? deliveredItem(event, body, requestUrl(event, to)) : originalItem(event, body, originalUrl(event, token));
      const lastResponseBody = format === 'har' ? await source.lastResponseBody() : undefined;
      return { ...base, url: mask(base.url), headers: base.headers.map(([name, value]) => [name, mask(value)]), ...(lastResponseBody && lastResponseBody.length > 0 ? { lastResponseBody } : {}) };
    };

    if (format === 'curl') {
      for (const source of stored) {
        const record = source.event;
        const item = await itemFor(source);
        const title = (record.mftg?.eventType ?? `${record.method} ${record.path}`) + (record.mftg?.messageId ? ` ${record.mftg.messageId}` : '');
        // A shell comment runs to the end of its line; escaping every control character keeps a
        // sender's newline (or terminal escape sequence) from turning the rest into a command.
        const comment = terminalSafe(`# ${record.id}  ${title}  captured ${record.receivedAt}`);
        await write(`${comment}\n${toCurl({ ...item.event, headers: item.headers }, item.body, item.url)}\n\n`);
      }
      return 0;
    }
    if (format === 'har') {
      const version = toolVersion();
      await write(`{\n  "log": {\n    "version": "1.2",\n    "creator": ${JSON.stringify(harCreator(version))},\n    "entries": [`);
      for (let i = 0; i < stored.length; i++) {
        const entry = harEntry(await itemFor(stored[i]!));
        await write(`${i > 0 ? ',' : ''}\n      ${indent(JSON.stringify(entry, null, 2), '      ')}`);
      }
      await write(`${stored.length > 0 ? '\n    ' : ''}]\n  }\n}\n`);
      return 0;
    }
    await write(`{\n  "format": "mftg-hooks-export",\n  "version": 1,\n  "exportedAt": ${JSON.stringify(new Date().toISOString())},\n  "events": [`);
    for (let i = 0; i < stored.length; i++) {
      const archived = jsonExportEvent(await itemFor(stored[i]!));
      await write(`${i > 0 ? ',' : ''}\n    ${indent(JSON.stringify(archived, null, 2), '    ')}`);
    }
    await write(`${stored.length > 0 ? '\n  ' : ''}]\n}\n`);
    return 0;
  } finally {
    for (const warning of store.warnings.splice(0)) process.stderr.write(`mftg-hooks: warning: ${warning}\n`);
    await store.close();
  }
}
