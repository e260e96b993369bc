import { createInterface } from 'node:readline/promises';
import { usageError } from '../core/errors.js';
import { EventStore } from '../core/store/store.js';
import { lastAttempt, type EventRecord } from '../core/types.js';
import { colorsFor, eventTitle, eventTypeTone, formatBytes, formatDuration, formatLocalDateTime, formatOutcome, paint, partiesOf, toneOf } from '../output/format.js';

/** Long message ids and parties are cut to this width in the table (the full value is in `events show`). */
const LIST_COLUMN_MAX = 48;
import { renderEventDetail } from '../output/event-detail.js';
import { eventDetailRecord, eventRecord } from '../output/records.js';
import { storeDirFrom } from './common.js';

async function openStore(options: Record<string, unknown>): Promise<EventStore> {
  return EventStore.open(storeDirFrom(options));
}

function printWarnings(store: EventStore): void {
  for (const warning of store.warnings.splice(0)) process.stderr.write(`mftg-hooks: warning: ${warning}\n`);
}

function lastColumn(event: EventRecord): string {
  const attempt = lastAttempt(event);
  if (!attempt) return '-';
  return `${formatOutcome(attempt)} ${formatDuration(attempt.durationMs)}${event.attempts.length > 1 ? ` (${event.attempts.length} attempts)` : ''}`;
}

export async function eventsList(options: Record<string, unknown>): Promise<number> {
  const store = await openStore(options);
  const events = await store.list({
    limit: options.limit as number,
    ...(typeof options.type === 'string' ? { eventType: options.type } : {}),
    failed: options.failed === true,
  });
  printWarnings(store);
  if (options.json) {
    process.stdout.write(events.map((event) => JSON.stringify(eventRecord(event)) + '\n').join(''));
    return 0;
  }
  if (events.length === 0) {
    process.stdout.write('No events stored yet. Start `mftg-hooks listen` and send something to its capture URL.\n');
    return 0;
  }
  const colors = colorsFor(process.stdout);
  const rows = events.map((event) => ({
    cells: [event.id, formatLocalDateTime(event.receivedAt), eventTitle(event), event.mftg?.messageId ?? '', partiesOf(event), formatBytes(event.size), lastColumn(event)],
    typeTone: eventTypeTone(event.mftg?.eventType),
    outcomeTone: toneOf(lastAttempt(event)),
  }));
  const header = ['ID', 'RECEIVED', 'TYPE', 'MESSAGE ID', 'PARTNER → STATION', 'SIZE', 'LAST FORWARD'];
  const widths = header.map((title, column) => Math.min(LIST_COLUMN_MAX, Math.max(title.length, ...rows.map((row) => row.cells[column]!.length))));
  const fit = (text: string, column: number): string => (text.length > widths[column]! ? text.slice(0, widths[column]! - 1) + '…' : text.padEnd(widths[column]!));
  const lines = [colors.bold(header.map(fit).join('  ').trimEnd())];
  for (const row of rows) {
    const cells = row.cells.map(fit);
    cells[2] = paint(colors, row.typeTone, cells[2]!);
    cells[6] = paint(colors, row.outcomeTone, cells[6]!);
    lines.push(cells.join('  ').trimEnd());
  }
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}

export async function eventsShow(options: Record<string, unknown>, args: string[]): Promise<number> {
  const store = await openStore(options);
  const { event, body } = await store.getWithBody(args[0] ?? '');
  printWarnings(store);
  if (options.body) {
    await new Promise<void>((resolve, reject) => process.stdout.write(body, (error) => (error ? reject(error) : resolve())));
    return 0;
  }
  if (options.json) {
    process.stdout.write(JSON.stringify(eventDetailRecord(event, body)) + '\n');
    return 0;
  }
  const responses = await store.responseBodies(event.id);
  process.stdout.write(renderEventDetail(event, body, responses, colorsFor(process.stdout)) + '\n');
  return 0;
}

export async function eventsClear(options: Record<string, unknown>): Promise<number> {
  const storeDir = storeDirFrom(options);
  if (!options.yes) {
    if (!process.stdin.isTTY) throw usageError('events clear deletes every stored event; pass --yes to confirm');
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    const answer = await rl.question(`Delete every event stored in ${storeDir}? [y/N] `);
    rl.close();
    if (!/^y(es)?$/i.test(answer.trim())) {
      process.stderr.write('Nothing deleted.\n');
      return 1;
    }
  }
  const store = await EventStore.open(storeDir);
  await store.clear();
  process.stderr.write(`Cleared the events in ${storeDir}.\n`);
  return 0;
}
