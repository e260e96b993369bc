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

type ArchivedItem = Pick<ExportItem, 'event' | 'body' | 'url' | 'headers'>;

/** An archived event's fields before its body, in the archive's order. */
function requestFields({ event, url, headers }: ArchivedItem): Omit<JsonExportEvent, 'body' | 'mftg' | 'attempts'> {
  return { id: event.id, receivedAt: event.receivedAt, method: event.method, url, path: event.path, headers, remoteAddress: event.remoteAddress, size: event.size };
}

/** Its fields after the body. */
function outcomeFields({ event }: ArchivedItem): Pick<JsonExportEvent, 'mftg' | 'attempts'> {
  return { mftg: event.mftg, attempts: event.attempts };
}

export function jsonExportEvent(item: ArchivedItem): JsonExportEvent {
  return { ...requestFields(item), body: archivedBody(item.body), ...outcomeFields(item) };
}

/** The JSON archive: `{format, version, exportedAt, events: [...]}`; bodies restore byte for byte. */
export function toJsonExport(items: ArchivedItem[], exportedAt = new Date()): JsonExport {
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

/** What `JSON.stringify({ events: [fields] }, null, 2)` writes around the fields of one event. */
const NESTED_BEFORE = '{\n  "events": [\n    {';
const NESTED_AFTER = '\n    }\n  ]\n}';

/**
 * Fields of an archived event as `JSON.stringify(archived, null, 2)` nested in the envelope writes
 * them (without the braces around them): stringified at the depth they have in the archive, so no
 * line needs indenting afterwards.
 */
function fieldsText(fields: Record<string, unknown>): string {
  return JSON.stringify({ events: [fields] }, null, 2).slice(NESTED_BEFORE.length, -NESTED_AFTER.length);
}

/**
 * One archived event as `JSON.stringify(archived, null, 2)` nested in the envelope would write it,
 * byte for byte, without the cost of that: the body (most of the bytes) is stringified once on its
 * own and encoded to UTF-8 once (never part of a larger string that is split into lines or joined
 * again), and the other fields are stringified in two calls, before and after it.
 */
function entryText(item: ArchivedItem): string {
  const { body } = item;
  const utf8 = isUtf8(body);
  const before = fieldsText(requestFields(item));
  const after = fieldsText(outcomeFields(item));
  const data = utf8 ? JSON.stringify(body.toString('utf8')) : `"${body.toString('base64')}"`;
  return (
    `\n    {${before},${FIELD_INDENT}"body": {${FIELD_INDENT}  "encoding": "${utf8 ? 'utf8' : 'base64'}",${FIELD_INDENT}  "data": ` +
    data +
    `,${FIELD_INDENT}  "sha256": "${hash('sha256', body)}"${FIELD_INDENT}},${after}\n    }`
  );
}

export const jsonFormat: ExportFormat = {
  name: 'json',
  description: 'an archive of every request, byte for byte, and every attempt (the default)',
  needsResponse: false,
  begin: ({ exportedAt }) => {
    const envelope = jsonEnvelope(exportedAt);
    return `{\n  "format": ${JSON.stringify(envelope.format)},\n  "version": ${envelope.version},\n  "exportedAt": ${JSON.stringify(envelope.exportedAt)},\n  "events": [`;
  },
  entry: (item, index) => (index > 0 ? ',' : '') + entryText(item),
  end: (count) => `${count > 0 ? '\n  ' : ''}]\n}\n`,
};
