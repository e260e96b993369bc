import type { Key } from 'ink';
import type { PendingDelivery } from '../core/session-view.js';
import { lowerBound, type EventRow, type LiveSnapshot, type Notice } from '../live/model.js';
import type { TextDoc } from './detail-lines.js';
import { statusLines } from './layout.js';
import { lineWidth, wrapLine, type Line } from './segments.js';
import type { UiState } from './ui-state.js';

/** How long a notice (replay result, copy result, warning) stays in the status line. */
export const NOTICE_MS = 8_000;

export interface WrappedDoc {
  lines: Line[];
  sections: number[];
}

/** A detail or help text wrapped to the screen, with where its sections start. */
export function wrapDoc(doc: TextDoc, width: number, indent: number): WrappedDoc {
  const lines: Line[] = [];
  const sections: number[] = [];
  const starts = new Set(doc.sections);
  doc.lines.forEach((line, index) => {
    if (starts.has(index)) {
      sections.push(lines.length);
      // A section title runs across the screen: ── Attempts (2) ────────
      const rule = width - lineWidth(line);
      if (rule > 0) line = [...line, { text: '─'.repeat(rule), dim: true }];
    }
    lines.push(...wrapLine(line, width, indent));
  });
  return { lines, sections };
}

export function findRow(rows: readonly EventRow[], id: string): EventRow | null {
  const at = lowerBound(rows, id);
  return rows[at]?.id === id ? rows[at]! : null;
}

/** What of a row's pending state changes its detail view. */
export function pendingKey(pending: PendingDelivery | null | undefined): string {
  if (!pending) return '';
  return pending.state === 'retry-scheduled' ? `r${pending.retry}` : 'w';
}

export function noticeLine(notice: Notice): Line {
  const color = notice.tone === 'ok' ? 'green' : notice.tone === 'fail' ? 'red' : notice.tone === 'warn' ? 'yellow' : undefined;
  return [{ text: notice.text, ...(color ? { color } : {}) }];
}

/** The list's body when it has no row to show. */
export function emptyListLines(snapshot: LiveSnapshot, query: string): Line[] {
  if (query)
    return [
      [],
      [
        { text: `  No event matches /${query}`, bold: true },
        { text: '  (Esc clears the filter)', dim: true },
      ],
    ];
  if (snapshot.loading) return [[], [{ text: '  Reading stored events…', dim: true }]];
  const url = (snapshot.tunnel.state === 'online' ? snapshot.publicCaptureUrl : null) ?? snapshot.localUrl;
  return [
    [],
    [
      { text: '  No events yet.', bold: true },
      { text: ' Waiting for deliveries to the capture URL.', dim: true },
    ],
    [],
    [{ text: '  Try one: ', dim: true }, { text: 'mftg-hooks trigger MESSAGE.RECEIVED.SUCCESS' }],
    ...(url ? [[{ text: '       or: ', dim: true }, { text: `curl -d '{"eventType":"TEST"}' ${url}` }]] : []),
  ];
}

/** A key event with no modifier and no special key: what a plain character sends. */
export const PLAIN_KEY: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
};

/** A single character as Ink would report it on its own. */
export function keyOfChar(char: string): [string, Key] {
  const code = char.charCodeAt(0);
  if (char === '\r' || char === '\n') return ['', { ...PLAIN_KEY, return: true }];
  if (char === '\t') return ['', { ...PLAIN_KEY, tab: true }];
  if (char === '\u007f' || char === '\b') return ['', { ...PLAIN_KEY, backspace: true }];
  if (code >= 1 && code <= 26) return [String.fromCharCode(code + 96), { ...PLAIN_KEY, ctrl: true }];
  return [char, { ...PLAIN_KEY, shift: /[A-Z]/.test(char) }];
}

export function freshNoticeOf(snapshot: LiveSnapshot): Notice | null {
  const latest = snapshot.notices[snapshot.notices.length - 1];
  return latest && Date.now() - latest.at < NOTICE_MS ? latest : null;
}

/** Attempts still on the wire while the listener stops (the session's `finishing` delivery element). */
export interface Finishing {
  inFlight: number;
  deadlineAt: number | null;
}

/** "finishing 2 forwards… (Ctrl+C again to quit now) — at most 28 s more". */
export function finishingLine(finishing: Finishing, now: number): Line {
  const { inFlight, deadlineAt } = finishing;
  const left = deadlineAt === null ? null : Math.max(0, Math.ceil((deadlineAt - now) / 1000));
  return [
    { text: `finishing ${inFlight} forward${inFlight === 1 ? '' : 's'}… `, color: 'yellow', bold: true },
    { text: '(Ctrl+C again to quit now)', color: 'yellow' },
    ...(left === null ? [] : [{ text: ` — at most ${left} s more`, dim: true }]),
  ];
}

/** What the status area says on its left: the line that must stay (shutdown), else the newest notice. */
function leftOf(snapshot: LiveSnapshot, override: Line | null): Line {
  if (override) return override;
  const notice = freshNoticeOf(snapshot);
  return notice ? noticeLine(notice) : [];
}

/** The status area of the list, the filter and the curl view: the newest notice and where the list is. */
export function statusFor(ui: UiState, snapshot: LiveSnapshot, matching: number, newer: number, width: number, override: Line | null = null): Line[] {
  const left = leftOf(snapshot, override);
  if (ui.mode === 'filter') {
    return statusLines([{ text: '/', bold: true, color: 'yellow' }, { text: ui.query }, { text: ' ', inverse: true }], [{ text: `${matching} of ${snapshot.rows.length} match`, dim: true }], width);
  }
  if (ui.mode !== 'list') return statusLines(left, [], width);
  const right: Line = [];
  if (ui.query) right.push({ text: `/${ui.query}`, color: 'yellow' }, { text: `  ${matching} of ${snapshot.rows.length}  `, dim: true });
  else right.push({ text: `${snapshot.rows.length} event${snapshot.rows.length === 1 ? '' : 's'}  `, dim: true });
  if (ui.position.follow) right.push({ text: 'FOLLOW', bold: true, color: 'green' });
  else right.push({ text: 'HELD', bold: true, color: 'yellow' }, ...(newer > 0 ? [{ text: ` ${newer} newer ↓`, color: 'yellow' as const }] : []));
  return statusLines(left, right, width);
}

/** The status area of the details and help: the newest notice and the scroll position. */
export function paneStatusLines(total: number, scroll: number, height: number, snapshot: LiveSnapshot, width: number, override: Line | null = null): Line[] {
  const right: Line = total > height ? [{ text: `${scroll + 1}–${Math.min(total, scroll + height)} of ${total}`, dim: true }] : [];
  return statusLines(leftOf(snapshot, override), right, width);
}
