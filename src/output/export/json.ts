import { isUtf8 } from 'node:buffer';
import { hash } from 'node:crypto';
import type { ExportItem } from '../../core/export.js';
import type { ForwardAttempt, HeaderPairs, MftgSummary } from '../../core/types.js';
import type { ExportFormat } from './format.js';

/** The JSON archive: every byte of every request, and every attempt. */

/** One archived event: everything needed to restore the exact request. */
export interface JsonExportEvent {
  id: string;
  receivedAt: string;
  method: string;
  url: string;
  path: string;
  /** As captured, in order and case, duplicates kept. */
  headers: HeaderPairs;
  remoteAddress: string | null;
  size: number;
  /** `utf8` when the bytes are valid UTF-8 (then `data` is the text itself), else `base64`. */
  body: { encoding: 'utf8' | 'base64'; data: string; sha256: string };
  /** The stored summary (attachment keys are in the body, which is not written twice). */
  mftg: MftgSummary | null;
  attempts: ForwardAttempt[];
}

export interface JsonExport {
  format: 'mftg-hooks-export';
  version: 1;
  exportedAt: string;
  events: JsonExportEvent[];
}

/** An archived body: the text itself when the bytes are valid UTF-8 (they then restore exactly), else base64. */
function archivedBody(body: Buffer): JsonExportEvent['body'] {
  const utf8 = isUtf8(body);
  return { encoding: utf8 ? 'utf8' : 'base64', data: body.toString(utf8 ? 'utf8' : 'base64'), sha256: hash('sha256', body) };
}

export function jsonExportEvent(item: Pick<ExportItem, 'event' | 'body' | 'url' | 'headers'>): JsonExportEvent {
  const { event, body } = item;
  return {
    id: event.id,
    receivedAt: event.receivedAt,
    method: event.method,
    url: item.url,
    path: event.path,
    headers: item.headers,
    remoteAddress: event.remoteAddress,
    size: event.size,
    body: archivedBody(body),
    mftg: event.mftg,
    attempts: event.attempts,
  };
}

/** The JSON archive: `{format, version, exportedAt, events: [...]}`; bodies restore byte for byte. */
export function toJsonExport(items: Array<Pick<ExportItem, 'event' | 'body' | 'url' | 'headers'>>, exportedAt = new Date()): JsonExport {
  return { ...jsonEnvelope(exportedAt), events: items.map(jsonExportEvent) };
}

/** The envelope around the events. */
export function jsonEnvelope(exportedAt: Date): Omit<JsonExport, 'events'> {
  return { format: 'mftg-hooks-export', version: 1, exportedAt: exportedAt.toISOString() };
}

/** The exact body bytes of an archived event. */
export function bodyOf(archived: Pick<JsonExportEvent, 'body'>): Buffer {
  return archived.body.encoding === 'utf8' ? Buffer.from(archived.body.data, 'utf8') : Buffer.from(archived.body.data, 'base64');
}

/** Where an archived event's fields start in the archive: inside `events`, inside its object. */
const FIELD_INDENT = '\n      ';

/**
 * One archived event as `JSON.stringify(archived, null, 2)` nested in the envelope would write it,
 * byte for byte, without the cost of that: the body (most of the bytes) is stringified once and
 * never split into lines again; only the small nested values (headers, summary, attempts) are
 * pretty-printed and indented.
 */
function entryText(archived: JsonExportEvent): string {
  const { body } = archived;
  let text = '\n    {';
  let first = true;
  for (const [name, value] of Object.entries(archived)) {
    if (value === undefined) continue;
    text += (first ? '' : ',') + FIELD_INDENT + JSON.stringify(name) + ': ';
    first = false;
    if (value === body) {
      text += `{${FIELD_INDENT}  "encoding": ${JSON.stringify(body.encoding)},${FIELD_INDENT}  "data": ${JSON.stringify(body.data)},${FIELD_INDENT}  "sha256": ${JSON.stringify(body.sha256)}${FIELD_INDENT}}`;
    } else {
      const json = JSON.stringify(value, null, 2);
      text += typeof value === 'object' && value !== null ? json.replaceAll('\n', FIELD_INDENT) : json;
    }
  }
  return text + '\n    }';
}

export const jsonFormat: ExportFormat = {
  name: 'json',
  description: 'an archive of every request, byte for byte, and every attempt (the default)',
  needsResponse: false,
  begin: ({ exportedAt }) => {
    const envelope = jsonEnvelope(exportedAt);
    return `{\n  "format": ${JSON.stringify(envelope.format)},\n  "version": ${envelope.version},\n  "exportedAt": ${JSON.stringify(envelope.exportedAt)},\n  "events": [`;
  },
  entry: (item, index) => (index > 0 ? ',' : '') + entryText(jsonExportEvent(item)),
  end: (count) => `${count > 0 ? '\n  ' : ''}]\n}\n`,
};
