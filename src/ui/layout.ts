import { targetFor, type Targets } from '../core/delivery/targets.js';
import { eventTypeTone, formatBytes, formatClock, formatDuration, formatOutcome, partiesOf, sourceTag, toneOf } from '../output/format.js';
import { MFTG_PASTE_HINT } from '../output/plain-printer.js';
import type { CapturedEvent } from '../core/types.js';
import type { EventRow, LiveSnapshot } from '../live/model.js';
import { terminalSafe } from '../output/terminal-text.js';
import { cells, fit, lineText, lineWidth, padLine, truncate, truncateLine, wrapLine, type Line, type Seg } from './segments.js';
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
export function resultOf(row: EventRow, targets: Targets, width = RESULT, now = Date.now()): Seg {
  const pending = row.pending;
  if (pending?.state === 'retry-scheduled') {
    const text = retryText(pending, now);
    return { text: [...text].length <= width ? text : `retry ${pending.retry}/${pending.of}`, color: 'yellow' };
  }
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

/** A scheduled retry as the plain lines word it: `retry 2/3 in 4s` (`retry 2/3 now` once it is due). */
export function retryText(pending: { retry: number; of: number; at: number }, now: number): string {
  const left = Math.ceil((pending.at - now) / 1000);
  return `retry ${pending.retry}/${pending.of} ${left > 0 ? `in ${left}s` : 'now'}`;
}

/** A column cell: the text cut to leave at least one space before the next column. */
function cell(text: string, width: number): string {
  return width <= 0 ? '' : fit(text, width - 1) + ' ';
}

/** A column cell that starts with the event's source tag (`trigger `) when it is not a webhook. */
function tagged(row: EventRow, text: string, width: number): Seg[] {
  const tag = sourceTag(row.source);
  if (!tag) return [{ text: cell(text, width) }];
  const full = cell(tag + text, width);
  return full.startsWith(tag) ? [{ text: tag, color: 'cyan' }, { text: full.slice(tag.length) }] : [{ text: full, color: 'cyan' }];
}

/** One event list line, exactly `width` cells. */
export function rowLine(row: EventRow, columns: Columns, targets: Targets, width: number, selected: boolean, now = Date.now()): Line {
  const line: Line = [
    { text: selected ? '› ' : '  ', bold: true },
    { text: fit(formatClock(row.receivedAt), TIME), dim: !selected },
  ];
  const m = row.mftg;
  if (m) {
    const type = m.eventType ?? '(no eventType)';
    const color = typeColor(m.eventType);
    line.push({ text: cell(shortType(type, columns.shortTypes), columns.type), ...(color ? { color } : {}) });
    if (columns.messageId > 0) line.push(...tagged(row, m.messageId ?? '', columns.messageId));
    if (columns.parties > 0) line.push({ text: cell(partiesOf({ mftg: m } as CapturedEvent), columns.parties) });
  } else {
    // Not an MFTG document: method and path use the eventType, message id and party columns.
    const span = columns.type + columns.messageId + columns.parties;
    const detail = `${formatBytes(row.size)}${row.contentType ? `, ${row.contentType}` : ''}`;
    const tag = sourceTag(row.source);
    const title = truncate(`${tag}${row.method} ${row.path}`, Math.max(1, span - 1));
    const titleSegs: Seg[] = tag && title.startsWith(tag) ? [{ text: tag, color: 'cyan' }, { text: title.slice(tag.length) + ' ' }] : [{ text: title + ' ' }];
    line.push(...titleSegs, { text: cell(detail, Math.max(0, span - [...title].length - 1)), dim: true });
  }
  line.push(resultOf(row, targets, columns.result, now));
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

function secondsLeft(at: number, now: number): number {
  return Math.max(0, Math.ceil((at - now) / 1000));
}

/** The first candidate that fits `width`; the last one cut at its end when none does. */
export function firstFit(candidates: readonly Line[], width: number): Line {
  for (const line of candidates) if (lineWidth(line) <= width) return line;
  return truncateLine(candidates[candidates.length - 1] ?? [], width);
}

/**
 * Words of a line on lines of at most `width` cells, continuation lines indented by `indent` (a word
 * longer than a line is cut into pieces); more than `maxLines` lines end in `…`.
 */
export function wrapWords(line: Line, width: number, maxLines: number, indent = 0): Line[] {
  if (lineWidth(line) <= width) return [line];
  const out: Line[] = [];
  let current: Line = [];
  let used = 0;
  const words: Seg[] = [];
  for (const seg of line) for (const word of terminalSafe(seg.text).split(/(?<= )/)) if (word) words.push({ ...seg, text: word });
  const pad = Math.max(0, Math.min(indent, width - 1));
  const next = (): void => {
    out.push(current);
    current = pad > 0 ? [{ text: ' '.repeat(pad) }] : [];
    used = pad;
  };
  for (const word of words) {
    let text = word.text;
    while (cells(text) > 0) {
      const room = width - used;
      const size = cells(text.trimEnd());
      if (size <= room) {
        current.push({ ...word, text });
        used += cells(text);
        break;
      }
      if (used > pad && size <= width - pad) {
        next();
        continue;
      }
      const chars = [...text];
      current.push({ ...word, text: chars.slice(0, room).join('') });
      next();
      text = chars.slice(room).join('');
    }
  }
  if (current.length > 0) out.push(current);
  const trimmed = out.map((parts) => {
    const last = parts[parts.length - 1];
    return last ? [...parts.slice(0, -1), { ...last, text: last.text.trimEnd() }] : parts;
  });
  if (trimmed.length <= maxLines) return trimmed;
  const kept = trimmed.slice(0, maxLines);
  kept[maxLines - 1] = truncateLine([...kept[maxLines - 1]!, { text: ' …' }], width);
  return kept;
}

const TITLE: Seg = { text: 'mftg-hooks  ', bold: true };

/**
 * The public URL, remembered while the tunnel is down: dimmed, whole (on a line of its own), with
 * what it means now when there is room.
 */
function rememberedUrlLines(url: string | null, width: number): Line[] {
  if (!url) return [];
  const shown: Seg = { text: url, dim: true };
  const line = firstFit(
    [
      [{ text: '  ' }, shown, { text: '  (the public URL: unreachable until the tunnel is back)', dim: true }],
      [{ text: '  ' }, shown, { text: '  (unreachable now)', dim: true }],
      [{ text: '  ' }, shown],
      [shown],
    ],
    width,
  );
  return lineWidth(line) <= width ? [line] : wrapLine([shown], width);
}

/** The public URL part of the header: state first, the URL never cut, labels shortened to fit. */
function tunnelLines(snapshot: LiveSnapshot, width: number, now: number): Line[] {
  const { tunnel } = snapshot;
  const url = snapshot.publicCaptureUrl;
  const reasonLines = (color: ThemeColor): Line[] => wrapWords([{ text: `  ${tunnel.reason ?? 'unknown reason'}`, color }], width, 2, 2);
  switch (tunnel.state) {
    case 'online': {
      const shown = url ?? tunnel.publicUrl ?? '';
      const state: Seg = { text: '● online  ', color: 'green', bold: true };
      const link: Seg = { text: shown, bold: true };
      const fits = firstFit(
        [
          [TITLE, state, link, { text: `  ${MFTG_PASTE_HINT}`, dim: true }],
          [TITLE, state, link],
          [state, link],
        ],
        width,
      );
      if (lineWidth(fits) <= width && lineText(fits).includes(shown)) return [fits];
      // Never cut the URL people paste into MFTG: give it a line of its own.
      const heading = firstFit(
        [
          [TITLE, { text: '● online', color: 'green', bold: true }, { text: ' — paste into MFTG → Webhooks:', dim: true }],
          [TITLE, { text: '● online', color: 'green', bold: true }],
        ],
        width,
      );
      return [heading, ...(cells(shown) <= width ? [[link]] : wrapLine([link], width))];
    }
    case 'connecting': {
      const state: Seg = { text: '◌ connecting the tunnel…', color: 'yellow' };
      return [
        firstFit([[TITLE, state, { text: '  no public URL yet; local capture works', dim: true }], [TITLE, state, { text: '  local capture works', dim: true }], [TITLE, state], [state]], width),
        ...rememberedUrlLines(url, width),
      ];
    }
    case 'reconnecting':
    case 'offline': {
      const offline = tunnel.state === 'offline';
      const color: ThemeColor = offline ? 'red' : 'yellow';
      const state: Seg = offline ? { text: '✖ offline', color, bold: true } : { text: '◌ reconnecting', color, bold: true };
      const next = tunnel.nextRetryAt === null ? null : secondsLeft(tunnel.nextRetryAt, now);
      const long: Seg = { text: offline ? (next === null ? '' : ` (next try in ${next} s)`) : ` (attempt ${tunnel.attempt}${next === null ? '' : `, next try in ${next} s`})` };
      const short: Seg = { text: offline ? (next === null ? '' : ` (${next} s)`) : ` (#${tunnel.attempt}${next === null ? '' : `, ${next} s`})` };
      const works: Seg = { text: ' — local capture keeps working', dim: true };
      const worksShort: Seg = { text: ' — capture works', dim: true };
      const first = firstFit(
        [
          [TITLE, state, long, works],
          [TITLE, state, long, worksShort],
          [TITLE, state, long],
          [state, long],
          [state, short],
        ],
        width,
      );
      return [first, ...rememberedUrlLines(url, width), ...reasonLines(color)];
    }
    case 'disabled':
      return [
        firstFit(
          [
            [TITLE, { text: 'no public URL', bold: true }, { text: ' (--no-tunnel): capturing on this machine only', dim: true }],
            [TITLE, { text: 'no public URL', bold: true }, { text: ' (--no-tunnel)', dim: true }],
            [
              { text: 'no public URL', bold: true },
              { text: ' (--no-tunnel)', dim: true },
            ],
          ],
          width,
        ),
      ];
  }
}

function countSegs(label: string, value: number, color?: ThemeColor): Line {
  return [
    { text: `${label} `, dim: true },
    { text: String(value), bold: true, ...(value > 0 && color ? { color } : {}) },
  ];
}

function joined(parts: Line[], separator: string): Line {
  return parts.flatMap((part, index) => (index === 0 ? part : [{ text: separator }, ...part]));
}

/**
 * The counters: events (captured, forwarded ok, failed, waiting, rejected) and handler attempts apart,
 * on one line when they fit, else two.
 */
export function countLines(snapshot: LiveSnapshot, width: number): Line[] {
  const { stats } = snapshot;
  const events = [
    countSegs('captured', stats.captured),
    countSegs('forwarded ok', stats.delivered, 'green'),
    countSegs('failed', stats.failed, 'red'),
    countSegs('waiting', stats.waiting, 'yellow'),
    countSegs('rejected', stats.rejected, 'yellow'),
  ];
  const reasons = Object.entries(stats.rejectedByReason).filter(([, n]) => (n ?? 0) > 0);
  const why: Line = reasons.length > 0 ? [{ text: ` (${reasons.map(([reason, n]) => `${n} ${reason}`).join(', ')})`, dim: true }] : [];
  const attempts: Line = [
    { text: 'attempts ', dim: true },
    { text: String(stats.attempts.ok), bold: true },
    { text: ' ok, ', dim: true },
    { text: String(stats.attempts.failed), bold: true, ...(stats.attempts.failed > 0 ? { color: 'red' as const } : {}) },
    { text: ' failed', dim: true },
  ];
  const loading: Line = snapshot.loading ? [{ text: '  reading stored events…', dim: true }] : [];
  const withWhy = [...joined(events, '  '), ...why];
  const one = [
    [...withWhy, { text: '   ' }, ...attempts, ...loading],
    [...joined(events, '  '), { text: '   ' }, ...attempts, ...loading],
  ];
  for (const line of one) if (lineWidth(line) <= width) return [line];
  const eventsLine = firstFit([withWhy, joined(events, '  '), joined(events, ' ')], width);
  const attemptsLine = firstFit([[...attempts, { text: ' (forwards, retries and replays)', dim: true }, ...loading], [...attempts, ...loading], attempts], width);
  return [eventsLine, attemptsLine];
}

/** The header: URL-changed banner, public URL and tunnel state, local URL, targets, web inspector, counts. */
export function headerLines(snapshot: LiveSnapshot, width: number, now: number, inspectUrl: string | null = null): Line[] {
  const lines: Line[] = [];
  const changed = snapshot.tunnel.urlChanged;
  if (changed) {
    const banner = { color: 'yellow' as const, bold: true, inverse: true };
    lines.push(
      firstFit(
        [
          [{ text: ' !! THE PUBLIC URL CHANGED — update it in MFTG: Integrations → Webhooks → your station → URL', ...banner }],
          [{ text: ' !! THE PUBLIC URL CHANGED — update it in MFTG → Webhooks', ...banner }],
          [{ text: ' !! THE PUBLIC URL CHANGED', ...banner }],
        ],
        width,
      ),
    );
    const current = snapshot.publicCaptureUrl ?? changed.current;
    lines.push(
      firstFit(
        [
          [
            { text: ` was ${changed.previous}  now `, ...banner },
            { text: current, ...banner },
          ],
          [
            { text: ' now ', ...banner },
            { text: current, ...banner },
          ],
        ],
        width,
      ),
    );
  }
  lines.push(...tunnelLines(snapshot, width, now));

  const local: Line = [{ text: 'local ', dim: true }, { text: snapshot.localUrl ?? 'starting…' }];
  const { forwardTo, routes } = snapshot.targets;
  const forward: Line = forwardTo
    ? [{ text: 'forward → ', dim: true }, { text: forwardTo }]
    : firstFit(
        [
          [
            { text: 'forward → ', dim: true },
            { text: 'none', bold: true },
            { text: ' (capture and show only; start with --forward-to <url>)', dim: true },
          ],
          [
            { text: 'forward → ', dim: true },
            { text: 'none', bold: true },
            { text: ' (capture and show only)', dim: true },
          ],
        ],
        width,
      );
  // The web inspector's URL, whole: beside the others when it fits.
  const inspect: Line[] = inspectUrl ? [[{ text: 'inspect ', dim: true }, { text: inspectUrl }]] : [];
  let current: Line | null = null;
  for (const part of [local, forward, ...inspect]) {
    if (current && lineWidth(current) + 3 + lineWidth(part) <= width) current = [...current, { text: '   ' }, ...part];
    else {
      if (current) lines.push(current);
      current = part;
    }
  }
  if (current) lines.push(...(lineWidth(current) <= width ? [current] : wrapLine(current, width)));
  // MFTG has three event types, so there are at most three routes worth a line each.
  for (const [type, url] of Object.entries(routes)) lines.push([{ text: 'route   ', dim: true }, { text: `${type} → ${url}` }]);

  lines.push(...countLines(snapshot, width));
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

/** A notice longer than this many lines is cut at its end (only captured text gets that long). */
export const STATUS_LINES_MAX = 2;

/**
 * The status area: one line when the notice fits beside `right`, else the notice word-wrapped on up
 * to STATUS_LINES_MAX lines, `right` beside its last line (or on a line of its own). A notice is never
 * cut in the middle of a line to make room.
 */
export function statusLines(left: Line, right: Line, width: number): Line[] {
  const rightWidth = lineWidth(right);
  if (lineWidth(left) + 1 + rightWidth <= width) return [statusLine(left, right, width)];
  const wrapped = wrapWords(left, width, STATUS_LINES_MAX);
  const last = wrapped[wrapped.length - 1]!;
  if (rightWidth === 0) return wrapped.map((line) => padLine(line, width));
  if (lineWidth(last) + 1 + rightWidth <= width) return [...wrapped.slice(0, -1).map((line) => padLine(line, width)), statusLine(last, right, width)];
  if (wrapped.length < STATUS_LINES_MAX) return [...wrapped.map((line) => padLine(line, width)), statusLine([], right, width)];
  return wrapped.map((line) => padLine(line, width));
}
