import { Chalk, type ChalkInstance } from 'chalk';
import { partyNames } from '../core/mftg.js';
import type { SavedState } from '../core/session-view.js';
import { isSuccess, type CapturedEvent, type EventSource, type ForwardAttempt } from '../core/types.js';
import { isTrueish } from '../parse.js';

/**
 * Colours only on a TTY and not in a CI run, never with NO_COLOR (https://no-color.org), forced
 * with FORCE_COLOR. A CI run is a true-ish `CI` only: `CI=false` is a developer's terminal (chalk's
 * own detection counts any `CI` variable; main() drops a false one before chalk loads).
 */
export function colorsFor(stream: Pick<NodeJS.WriteStream, 'isTTY'>, env: NodeJS.ProcessEnv = process.env): ChalkInstance {
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  const force = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0';
  const level = noColor ? 0 : force || (stream.isTTY === true && !isTrueish(env.CI)) ? 1 : 0;
  return new Chalk({ level });
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** Local wall-clock time HH:MM:SS of an ISO timestamp. */
export function formatClock(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** `2026-11-28 20:25:43` in local time. */
export function formatLocalDateTime(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${formatClock(iso)}`;
}

export function formatDuration(ms: number): string {
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 10_000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

/** `200`, `302 → /elsewhere`, `ECONNREFUSED`. */
export function formatOutcome(attempt: ForwardAttempt): string {
  if (attempt.status === null) return attempt.error ?? 'ERROR';
  const location = attempt.responseHeaders.find(([name]) => name.toLowerCase() === 'location');
  return location && attempt.status >= 300 && attempt.status < 400 ? `${attempt.status} → ${location[1]}` : String(attempt.status);
}

/** What an event is, in one short phrase: the MFTG eventType, or method and path. */
export function eventTitle(event: CapturedEvent): string {
  return event.mftg?.eventType ?? `${event.method} ${event.path}`;
}

/** The eventType without MFTG's `MESSAGE.` prefix (`SEND.FAILED`), or method and path: for narrow tables. */
export function shortEventTitle(event: CapturedEvent): string {
  return eventTitle(event).replace(/^MESSAGE\.(?=[A-Z])/, '');
}

/**
 * `PARTNER → STATION`, the direction MFTG's fields describe; the AS2 ids, else the names (payloads
 * that carry only `partnerName` / `stationName`); empty when neither is known.
 */
export function partiesOf(event: Pick<CapturedEvent, 'mftg'>): string {
  const m = event.mftg;
  if (!m) return '';
  const { partner, station } = partyNames(m);
  if (!partner && !station) return '';
  const received = m.eventType === 'MESSAGE.RECEIVED.SUCCESS';
  return received ? `${partner ?? '?'} → ${station ?? '?'}` : `${station ?? '?'} → ${partner ?? '?'}`;
}

/**
 * What a list says when it shows nothing, the same words in every command: an empty store, or a
 * filter (as typed: `--type MESSAGE.SEND.FAILED`, `--failed`) that matched none of `stored` events.
 */
export function noMatchMessage(filters: readonly string[], stored: number): string {
  if (filters.length === 0 || stored === 0) return 'No events stored yet. Start `mftg-hooks listen` and send something to its capture URL (or `mftg-hooks trigger received`).';
  return `No events match ${filters.join(' ')} (${stored} ${stored === 1 ? 'event' : 'events'} stored; \`mftg-hooks events list\` shows them all).`;
}

/** Between two table columns. */
/** The `source` line of the details of an event that is not a webhook: where it came from, in words. */
export function sourceText(source: EventSource): string {
  switch (source) {
    case 'webhook':
      return 'webhook (a request to the capture URL)';
    case 'trigger':
      return 'trigger (a sample made by `mftg-hooks trigger`)';
    case 'reconcile':
      return 'reconcile (recovered through the MFTG API: its webhook never arrived)';
  }
}

/**
 * The tag that marks an event that is not a webhook where a list shows its message id (`trigger `,
 * `reconcile `), empty for a webhook: the usual case goes unmarked, like the plain lines' `←`.
 */
export function sourceTag(source: EventSource): string {
  return source === 'webhook' ? '' : `${source} `;
}

/** What became of a message's file when it was saved, in the words of `events attachments --save` and the live view's `s`. */
export const SAVED_STATE_TEXT: Record<SavedState, string> = {
  saved: 'saved',
  renamed: 'saved (a different file had that name)',
  identical: 'already there, identical',
  refused: 'not saved',
  expired: 'not saved',
  failed: 'not saved',
};

export const TABLE_GAP = '  ';

/** A column of a fitted table: its title, the width it may shrink to, and a cap. */
export interface TableColumn {
  title: string;
  /** Never cut below this (the title may be longer). */
  min: number;
  /** Never wider than this (default: the longest cell). */
  max?: number;
  /** Left out when the table does not fit even with every column at its minimum. */
  optional?: boolean;
}

export interface FittedTable {
  titles: string[];
  header: string;
  /** Cells padded or cut with `…` to their column's width. */
  rows: string[][];
  /** False when even the narrowest layout is wider than the width: lines are then cut at the width. */
  fits: boolean;
  /** True when a column had to be narrowed below its longest cell (or left out). */
  narrowed: boolean;
}

/** Cuts `text` to `width` characters, ending with `…` when something was cut. */
export function cut(text: string, width: number): string {
  if (text.length <= width) return text;
  return width <= 0 ? '' : text.slice(0, width - 1) + '…';
}

/**
 * Fits a table to `width` columns: each column as wide as its longest cell (up to its `max`), then
 * the widest shrinkable column is narrowed one character at a time (cells cut with `…`) until the
 * rows fit; optional columns go when every column is at its minimum. Never wraps.
 */
export function fitTable(columns: readonly TableColumn[], rows: readonly string[][], width: number): FittedTable {
  let kept = columns.map((_, i) => i);
  const natural = columns.map((column, i) => Math.min(column.max ?? Infinity, Math.max(column.title.length, ...rows.map((row) => row[i]!.length))));
  const widths = [...natural];
  const total = (): number => kept.reduce((sum, i) => sum + widths[i]!, 0) + TABLE_GAP.length * (kept.length - 1);
  for (;;) {
    while (total() > width) {
      const shrinkable = kept.filter((i) => widths[i]! > columns[i]!.min);
      if (shrinkable.length === 0) break;
      const widest = shrinkable.reduce((a, b) => (widths[b]! > widths[a]! ? b : a));
      widths[widest]!--;
    }
    const optional = kept.filter((i) => columns[i]!.optional);
    if (total() <= width || optional.length === 0) break;
    // Drop an optional column and give the others their natural widths back before shrinking again.
    kept = kept.filter((i) => i !== optional[optional.length - 1]);
    kept.forEach((i) => (widths[i] = natural[i]!));
  }
  const fits = total() <= width;
  const line = (cells: readonly string[]): string[] => kept.map((i) => cut(cells[i]!, widths[i]!).padEnd(widths[i]!));
  const hardCut = (cells: string[]): string[] => (fits ? cells : cutCells(cells, width));
  return {
    titles: kept.map((i) => columns[i]!.title),
    header: hardCut(line(columns.map((c) => c.title)))
      .join(TABLE_GAP)
      .trimEnd(),
    rows: rows.map((row) => hardCut(line(row))),
    fits,
    narrowed: kept.length < columns.length || kept.some((i) => widths[i]! < natural[i]!),
  };
}

/** The cells of one line cut so that, joined, they take at most `width` columns (last resort). */
function cutCells(cells: string[], width: number): string[] {
  const out: string[] = [];
  let used = 0;
  for (const cell of cells) {
    const room = width - used - (out.length > 0 ? TABLE_GAP.length : 0);
    if (room <= 0) break;
    out.push(cut(cell, room));
    used += (out.length > 1 ? TABLE_GAP.length : 0) + Math.min(cell.length, room);
  }
  return out;
}

export type OutcomeTone = 'ok' | 'fail' | 'neutral';

export function toneOf(attempt: ForwardAttempt | undefined): OutcomeTone {
  if (!attempt) return 'neutral';
  return isSuccess(attempt) ? 'ok' : 'fail';
}

export function eventTypeTone(eventType: string | null | undefined): 'received' | 'sent' | 'failed' | 'other' {
  if (eventType === 'MESSAGE.RECEIVED.SUCCESS') return 'received';
  if (eventType === 'MESSAGE.SEND.SUCCESS') return 'sent';
  if (eventType === 'MESSAGE.SEND.FAILED') return 'failed';
  return 'other';
}

export function paint(colors: ChalkInstance, tone: OutcomeTone | ReturnType<typeof eventTypeTone>, text: string): string {
  switch (tone) {
    case 'ok':
    case 'sent':
      return colors.green(text);
    case 'fail':
    case 'failed':
      return colors.red(text);
    case 'received':
      return colors.cyan(text);
    default:
      return text;
  }
}

/**
 * `text` wrapped at word boundaries to `width` columns; continuation lines start with `indent`. A
 * word longer than a line stays whole on its own line (cutting it would break a field name).
 */
export function wrapWords(text: string, width: number, indent = ''): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line === '') line = word;
    else if (line.length + 1 + word.length <= width) line = `${line} ${word}`;
    else {
      lines.push(line);
      line = indent + word;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}
