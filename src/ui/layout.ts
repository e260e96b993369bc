import { targetFor, type Targets } from '../core/forwarder.js';
import { eventTypeTone, formatBytes, formatClock, formatDuration, formatOutcome, partiesOf, toneOf } from '../output/format.js';
import { MFTG_PASTE_HINT } from '../output/plain-printer.js';
import type { CapturedEvent } from '../core/types.js';
import type { EventRow, LiveSnapshot } from './model.js';
import { fit, lineWidth, padLine, truncate, type Line, type Seg } from './segments.js';
import type { ThemeColor } from './theme.js';

/** Below this width the eventType column drops the common `MESSAGE.` prefix. */
export const FULL_TYPE_MIN_WIDTH = 100;

export interface Columns {
  type: number;
  messageId: number;
  parties: number;
  result: number;
  shortTypes: boolean;
}

const MARKER = 2;
const TIME = 9;
/** "waiting for handler" and a space; narrow terminals get the short forms. */
const RESULT = 20;
const RESULT_NARROW = 16;

/** Column widths for a terminal `width` cells wide (80 is the smallest the layout is made for). */
export function columnsFor(width: number): Columns {
  const shortTypes = width < FULL_TYPE_MIN_WIDTH;
  const type = shortTypes ? 17 : 25;
  const result = shortTypes ? RESULT_NARROW : RESULT;
  const rest = Math.max(0, width - MARKER - TIME - type - result);
  const parties = Math.max(0, Math.min(30, Math.round(rest * 0.55)));
  const messageId = Math.max(0, Math.min(48, rest - parties));
  return { type, messageId, parties, result, shortTypes };
}

export function typeColor(eventType: string | null | undefined): ThemeColor | undefined {
  switch (eventTypeTone(eventType)) {
    case 'received':
      return 'cyan';
    case 'sent':
      return 'green';
    case 'failed':
      return 'red';
    default:
      return undefined;
  }
}

export function shortType(eventType: string, short: boolean): string {
  return short && eventType.startsWith('MESSAGE.') ? eventType.slice('MESSAGE.'.length) : eventType;
}

/** The RESULT cell: the last attempt, or why there is none yet; short forms when `width` is tight. */
export function resultOf(row: EventRow, targets: Targets, width = RESULT): Seg {
  const pending = row.pending;
  if (pending?.state === 'retry-scheduled') return { text: `retrying ${pending.retry}/${pending.of}`, color: 'yellow' };
  if (pending?.state === 'waiting-for-handler') return { text: width >= 19 ? 'waiting for handler' : 'wait for handler', color: 'yellow' };
  const last = row.last;
  if (last) {
    const outcome = `${last.kind === 'replay' ? '↻ ' : ''}${formatOutcome(last)}`;
    const full = `${outcome} · ${formatDuration(last.durationMs)}`;
    return { text: [...full].length <= width ? full : outcome, color: toneOf(last) === 'ok' ? 'green' : 'red' };
  }
  if (targetFor(targets, row.mftg?.eventType) === null) return { text: 'no target', dim: true };
  return { text: 'forwarding…', dim: true };
}

/** A column cell: the text cut to leave at least one space before the next column. */
function cell(text: string, width: number): string {
  return width <= 0 ? '' : fit(text, width - 1) + ' ';
}

/** One event list line, exactly `width` cells. */
export function rowLine(row: EventRow, columns: Columns, targets: Targets, width: number, selected: boolean): Line {
  const line: Line = [{ text: selected ? '› ' : '  ', bold: true }, { text: fit(formatClock(row.receivedAt), TIME), dim: !selected }];
  const m = row.mftg;
  if (m) {
    const type = m.eventType ?? '(no eventType)';
    const color = typeColor(m.eventType);
    line.push({ text: cell(shortType(type, columns.shortTypes), columns.type), ...(color ? { color } : {}) });
    if (columns.messageId > 0) line.push({ text: cell(m.messageId ?? '', columns.messageId) });
    if (columns.parties > 0) line.push({ text: cell(partiesOf({ mftg: m } as CapturedEvent), columns.parties) });
  } else {
    // Not an MFTG document: method and path use the eventType, message id and party columns.
    const span = columns.type + columns.messageId + columns.parties;
    const detail = `${formatBytes(row.size)}${row.contentType ? `, ${row.contentType}` : ''}`;
    const title = truncate(`${row.method} ${row.path}`, Math.max(1, span - 1));
    line.push({ text: title + ' ' }, { text: cell(detail, Math.max(0, span - [...title].length - 1)), dim: true });
  }
  line.push(resultOf(row, targets, columns.result));
  const padded = padLine(line, width);
  return selected ? padded.map((seg) => ({ ...seg, inverse: true })) : padded;
}

export function columnTitles(columns: Columns, width: number): Line {
  const text =
    ' '.repeat(MARKER) +
    fit('TIME', TIME) +
    cell(columns.shortTypes ? 'EVENT' : 'EVENT TYPE', columns.type) +
    cell('MESSAGE ID', columns.messageId) +
    cell('PARTNER → STATION', columns.parties) +
    'RESULT';
  return padLine([{ text, bold: true, dim: true }], width);
}

function secondsUntil(at: number | null, now: number): string {
  if (at === null) return '';
  return `, next try in ${Math.max(0, Math.ceil((at - now) / 1000))} s`;
}

/** The public URL part of the header (one or two lines). */
function tunnelLines(snapshot: LiveSnapshot, width: number, now: number): Line[] {
  const title: Seg = { text: 'mftg-hooks  ', bold: true };
  const { tunnel } = snapshot;
  switch (tunnel.state) {
    case 'online': {
      const url = snapshot.publicCaptureUrl ?? tunnel.publicUrl ?? '';
      const one: Line = [title, { text: '● online  ', color: 'green', bold: true }, { text: url, bold: true }];
      const hint: Seg = { text: `  ${MFTG_PASTE_HINT}`, dim: true };
      if (lineWidth(one) + cellsOf(hint) <= width) return [[...one, hint]];
      if (lineWidth(one) <= width) return [one];
      // Never cut the URL people paste into MFTG: give it a line of its own.
      return [[title, { text: '● online', color: 'green', bold: true }, { text: ' — paste into MFTG → Webhooks:', dim: true }], [{ text: url, bold: true }]];
    }
    case 'connecting':
      return [[title, { text: '◌ connecting the tunnel…', color: 'yellow' }, { text: '  no public URL yet; local capture works', dim: true }]];
    case 'reconnecting': {
      const state: Line = [title, { text: '◌ reconnecting', color: 'yellow', bold: true }, { text: ` (attempt ${tunnel.attempt}${secondsUntil(tunnel.nextRetryAt, now)})` }, { text: ' — no public URL now; local capture keeps working', dim: true }];
      return [state, [{ text: `  ${tunnel.reason ?? 'unknown reason'}`, color: 'yellow' }]];
    }
    case 'offline':
      return [
        [title, { text: '✖ offline', color: 'red', bold: true }, { text: ' — no public URL; local capture keeps working', dim: true }],
        [{ text: `  ${tunnel.reason ?? 'unknown reason'}`, color: 'red' }],
      ];
    case 'disabled':
      return [[title, { text: 'no public URL', bold: true }, { text: ' (--no-tunnel): capturing on this machine only', dim: true }]];
  }
}

function cellsOf(seg: Seg): number {
  return [...seg.text].length;
}

function countSeg(label: string, value: number, color?: ThemeColor): Line {
  return [{ text: `${label} `, dim: true }, { text: String(value), bold: true, ...(value > 0 && color ? { color } : {}) }, { text: '  ' }];
}

/** The header: URL-changed banner, public URL and tunnel state, local URL, targets, counts. */
export function headerLines(snapshot: LiveSnapshot, width: number, now: number): Line[] {
  const lines: Line[] = [];
  const changed = snapshot.tunnel.urlChanged;
  if (changed) {
    const banner = { color: 'yellow' as const, bold: true, inverse: true };
    lines.push(padLine([{ text: ' !! THE PUBLIC URL CHANGED — update it in MFTG: Integrations → Webhooks → your station → URL', ...banner }], width));
    const current = snapshot.publicCaptureUrl ?? changed.current;
    lines.push(padLine([{ text: ` was ${changed.previous}  now `, ...banner }, { text: current, ...banner }], width));
  }
  lines.push(...tunnelLines(snapshot, width, now));

  const local: Line = [{ text: 'local ', dim: true }, { text: snapshot.localUrl ?? 'starting…' }];
  const { forwardTo, routes } = snapshot.targets;
  const forward: Line = forwardTo
    ? [{ text: 'forward → ', dim: true }, { text: forwardTo }]
    : [{ text: 'forward → ', dim: true }, { text: 'none', bold: true }, { text: ' (capture and show only; start with --forward-to <url>)', dim: true }];
  if (lineWidth(local) + 3 + lineWidth(forward) <= width) lines.push([...local, { text: '   ' }, ...forward]);
  else lines.push(local, forward);
  // MFTG has three event types, so there are at most three routes worth a line each.
  for (const [type, url] of Object.entries(routes)) lines.push([{ text: 'route   ', dim: true }, { text: `${type} → ${url}` }]);

  const { stats } = snapshot;
  const counts: Line = [...countSeg('captured', stats.captured), ...countSeg('ok', stats.attempts.ok, 'green'), ...countSeg('failed', stats.attempts.failed, 'red'), ...countSeg('rejected', stats.rejected, 'yellow')];
  const reasons = Object.entries(stats.rejectedByReason).filter(([, n]) => (n ?? 0) > 0);
  if (reasons.length > 0) counts.splice(counts.length - 1, 1, { text: ` (${reasons.map(([reason, n]) => `${n} ${reason}`).join(', ')})`, dim: true }, { text: '  ' });
  if (snapshot.loading) counts.push({ text: 'reading stored events…', dim: true });
  lines.push(counts);
  return lines.map((line) => padLine(line, width));
}

/** The help bar: the key table's items for `mode`, as many as fit. */
export function helpBarLine(items: ReadonlyArray<{ label: string; hint: string }>, width: number): Line {
  const line: Line = [];
  let used = 0;
  for (const item of items) {
    const size = [...item.label].length + 1 + [...item.hint].length + 2;
    if (used + size > width) break;
    line.push({ text: item.label, bold: true, inverse: true }, { text: ` ${item.hint}  `, dim: true });
    used += size;
  }
  return padLine(line, width);
}

/** The status line: `left` (a notice) and `right` (where the list is) on one line. */
export function statusLine(left: Line, right: Line, width: number): Line {
  const rightWidth = lineWidth(right);
  if (rightWidth >= width) return padLine(right, width);
  const leftCut = padLine(left, width - rightWidth - 1);
  return [...leftCut, { text: ' ' }, ...right];
}
