import { createHash } from 'node:crypto';
import { utf8Text, type ExportItem } from '../../core/export.js';
import type { ForwardAttempt, HeaderPairs, MftgSummary } from '../../core/types.js';
import { indent, type ExportFormat } from './format.js';

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

export function jsonExportEvent(item: Pick<ExportItem, 'event' | 'body' | 'url' | 'headers'>): JsonExportEvent {
  const { event, body } = item;
  const text = utf8Text(body);
  return {
    id: event.id,
    receivedAt: event.receivedAt,
    method: event.method,
    url: item.url,
    path: event.path,
    headers: item.headers,
    remoteAddress: event.remoteAddress,
    size: event.size,
    body: { encoding: text !== null ? 'utf8' : 'base64', data: text ?? body.toString('base64'), sha256: createHash('sha256').update(body).digest('hex') },
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

export const jsonFormat: ExportFormat = {
  name: 'json',
  description: 'an archive of every request, byte for byte, and every attempt (the default)',
  needsResponse: false,
  begin: ({ exportedAt }) => {
    const envelope = jsonEnvelope(exportedAt);
    return `{\n  "format": ${JSON.stringify(envelope.format)},\n  "version": ${envelope.version},\n  "exportedAt": ${JSON.stringify(envelope.exportedAt)},\n  "events": [`;
  },
  entry: (item, index) => `${index > 0 ? ',' : ''}\n    ${indent(JSON.stringify(jsonExportEvent(item), null, 2), '    ')}`,
  end: (count) => `${count > 0 ? '\n  ' : ''}]\n}\n`,
};
