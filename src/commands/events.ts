import { createInterface } from 'node:readline/promises';
import { usageError } from '../core/errors.js';
import { EventStore } from '../core/store/store.js';
import { lastAttempt, sourceOf, type EventRecord } from '../core/types.js';
import { renderEventDetail } from '../output/event-detail.js';
import {
  colorsFor,
  eventTitle,
  eventTypeTone,
  fitTable,
  formatBytes,
  formatClock,
  formatDuration,
  formatLocalDateTime,
  formatOutcome,
  noMatchMessage,
  paint,
  partiesOf,
  shortEventTitle,
  TABLE_GAP,
  toneOf,
  type TableColumn,
  sourceTag,
} from '../output/format.js';
import { eventDetailRecord, eventRecord } from '../output/records.js';
import { terminalSafe, terminalSafeBytes } from '../output/terminal-text.js';
import { storeDirFrom } from './common.js';

/** Long message ids and parties are cut to this width in the table (the full value is in `events show`). */
const LIST_COLUMN_MAX = 48;

async function openStore(options: Record<string, unknown>): Promise<EventStore> {
  return EventStore.open(storeDirFrom(options));
}

function printWarnings(store: EventStore): void {
  for (const warning of store.warnings.splice(0)) process.stderr.write(`mftg-hooks: warning: ${terminalSafe(warning)}\n`);
}

function lastColumn(event: EventRecord): string {
  const attempt = lastAttempt(event);
  if (!attempt) return '-';
  return `${formatOutcome(attempt)} ${formatDuration(attempt.durationMs)}${event.attempts.length > 1 ? ` (${event.attempts.length} attempts)` : ''}`;
}

/**
 * The width `events list` fits its table to: the terminal's, else `COLUMNS` when set, else none
 * (piped to a file or grep, rows stay whole; each column is still capped at LIST_COLUMN_MAX).
 */
export function listWidth(stream: NodeJS.WriteStream = process.stdout, env: NodeJS.ProcessEnv = process.env): number {
  if (stream.isTTY && stream.columns > 0) return stream.columns;
  const columns = Number(env.COLUMNS);
  return Number.isInteger(columns) && columns > 0 ? columns : Infinity;
}

/**
 * The `events list` table for `width` columns. Text from the network is escaped first; then, as long
 * as rows are too wide: the date goes (time only) and `MESSAGE.` goes from event types, the widest
 * columns are cut with `…`, SIZE goes. Rows never wrap.
 */
export function renderEventTable(events: EventRecord[], width: number, colors = colorsFor(process.stdout)): string {
  const cells = (event: EventRecord, short: boolean): string[] => [
    event.id,
    short ? formatClock(event.receivedAt) : formatLocalDateTime(event.receivedAt),
    terminalSafe(short ? shortEventTitle(event) : eventTitle(event)),
    terminalSafe(sourceTag(sourceOf(event)) + (event.mftg?.messageId ?? '')),
    terminalSafe(partiesOf(event)),
    formatBytes(event.size),
    terminalSafe(lastColumn(event)),
  ];
  const columns = (short: boolean): TableColumn[] => [
    { title: 'ID', min: 14 },
    { title: short ? 'TIME' : 'RECEIVED', min: short ? 8 : 19 },
    { title: 'TYPE', min: 10, max: LIST_COLUMN_MAX },
    { title: 'MESSAGE ID', min: 10, max: LIST_COLUMN_MAX },
    { title: 'PARTNER → STATION', min: 10, max: LIST_COLUMN_MAX },
    { title: 'SIZE', min: 9, optional: true },
    { title: 'LAST FORWARD', min: 8, max: LIST_COLUMN_MAX },
  ];
  let table = fitTable(
    columns(false),
    events.map((event) => cells(event, false)),
    width,
  );
  if (!table.fits || table.narrowed)
    table = fitTable(
      columns(true),
      events.map((event) => cells(event, true)),
      width,
    );
  const typeColumn = table.titles.indexOf('TYPE');
  const lastForwardColumn = table.titles.indexOf('LAST FORWARD');
  const lines = [colors.bold(table.header)];
  table.rows.forEach((row, i) => {
    const event = events[i]!;
    // Colours go on after fitting: the escape codes take no columns.
    const painted = row.map((cell, column) => {
      if (column === typeColumn) return paint(colors, eventTypeTone(event.mftg?.eventType), cell);
      if (column === lastForwardColumn) return paint(colors, toneOf(lastAttempt(event)), cell);
      return cell;
    });
    lines.push(painted.join(TABLE_GAP).trimEnd());
  });
  return lines.join('\n');
}

/** What the filters of `events list` were, in the words the user typed them. */
function filterWords(options: Record<string, unknown>): string[] {
  const words: string[] = [];
  if (typeof options.type === 'string') words.push(`--type ${options.type}`);
  if (options.failed === true) words.push('--failed');
  return words;
}

export async function eventsList(options: Record<string, unknown>): Promise<number> {
  const store = await openStore(options);
  try {
    const events = await store.list({
      limit: options.limit as number,
      ...(typeof options.type === 'string' ? { eventType: options.type } : {}),
      failed: options.failed === true,
    });
    const filters = filterWords(options);
    // Nothing matched: say whether the store is empty or the filter left nothing out of N events.
    const note = events.length === 0 ? noMatchMessage(filters, filters.length > 0 ? (await store.list({ limit: Number.MAX_SAFE_INTEGER })).length : 0) : null;
    printWarnings(store);
    if (options.json) {
      process.stdout.write(events.map((event) => JSON.stringify(eventRecord(event)) + '\n').join(''));
      // stdout stays one record per line; the note is for the person reading the terminal.
      if (note) process.stderr.write(`mftg-hooks: ${note}\n`);
      return 0;
    }
    if (note) {
      process.stdout.write(note + '\n');
      return 0;
    }
    process.stdout.write(renderEventTable(events, listWidth()) + '\n');
    return 0;
  } finally {
    await store.close();
  }
}

export async function eventsShow(options: Record<string, unknown>, args: string[]): Promise<number> {
  const store = await openStore(options);
  try {
    const { event, body } = await store.getWithBody(args[0] ?? '');
    printWarnings(store);
    if (options.body) {
      // The raw bytes on purpose, into a pipe or a file. A terminal would run the escape sequences a
      // sender put in them (clear the screen, write the clipboard): it gets them escaped.
      if (process.stdout.isTTY) {
        const { text, escaped } = terminalSafeBytes(body);
        await write(text.endsWith('\n') || text === '' ? text : text + '\n');
        if (escaped)
          process.stderr.write(
            `mftg-hooks: control characters and non-UTF-8 bytes are shown escaped on a terminal; for the exact bytes, redirect: mftg-hooks events show ${event.id} --body > body.bin\n`,
          );
        return 0;
      }
      await write(body);
      return 0;
    }
    if (options.json) {
      process.stdout.write(JSON.stringify(eventDetailRecord(event, body)) + '\n');
      return 0;
    }
    const responses = await store.responseBodies(event.id);
    process.stdout.write(renderEventDetail(event, body, responses, colorsFor(process.stdout)) + '\n');
    return 0;
  } finally {
    await store.close();
  }
}

function write(data: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(data, (error) => (error ? reject(error) : resolve())));
}

export async function eventsClear(options: Record<string, unknown>): Promise<number> {
  const storeDir = storeDirFrom(options);
  if (!options.yes && !process.stdin.isTTY) throw usageError('events clear deletes every stored event; pass --yes to confirm');
  const store = await EventStore.open(storeDir);
  try {
    if (!options.yes) {
      const stored = (await store.list({ limit: Number.MAX_SAFE_INTEGER })).length;
      if (stored === 0) {
        process.stderr.write(`No events stored in ${storeDir}: nothing to delete.\n`);
        return 0;
      }
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      const answer = await rl.question(`Delete ${stored === 1 ? 'the 1 event' : `all ${stored} events`} stored in ${storeDir}? [y/N] `);
      rl.close();
      if (!/^y(es)?$/i.test(answer.trim())) {
        process.stderr.write('Nothing deleted.\n');
        return 1;
      }
    }
    await store.clear();
  } finally {
    await store.close();
  }
  process.stderr.write(`Cleared the events in ${storeDir}.\n`);
  return 0;
}
