import type { PendingDelivery } from '../core/session-view.js';
import { mftgDetails, parseJsonObject } from '../core/mftg.js';
import { sourceOf, type EventRecord, type ForwardAttempt } from '../core/types.js';
import { bodyPreviewLines } from '../output/event-detail.js';
import { eventTitle, formatBytes, formatClock, formatDuration, formatLocalDateTime, formatOutcome, sourceText, toneOf } from '../output/format.js';
import { typeColor } from './layout.js';
import type { Line } from './segments.js';

/** The detail view shows at most this many lines of a body (the rest: `events show <id> --body`). */
export const BODY_LINES_MAX = 3_000;
/** …and this many lines of each attempt's response preview. */
export const RESPONSE_LINES_MAX = 40;

/** A screen of text lines with named places to jump to (Tab in the detail view). */
export interface TextDoc {
  lines: Line[];
  /** Line indexes where sections start. */
  sections: number[];
}

function section(doc: TextDoc, title: string): void {
  doc.lines.push([]);
  doc.sections.push(doc.lines.length);
  doc.lines.push([{ text: `── ${title} `, bold: true }]);
}

function field(label: string, value: string, style: Omit<Line[number], 'text'> = {}): Line {
  return [
    { text: label.padEnd(11), dim: true },
    { text: value, ...style },
  ];
}

function pendingLine(pending: PendingDelivery): Line {
  if (pending.state === 'retry-scheduled') return [{ text: `  retry ${pending.retry}/${pending.of} at ${formatClock(new Date(pending.at).toISOString())}`, color: 'yellow' }];
  return [{ text: `  waiting for ${pending.target} to answer again (re-delivered in arrival order)`, color: 'yellow' }];
}

function attemptLines(attempt: ForwardAttempt, response: Buffer | undefined): Line[] {
  const tone = toneOf(attempt) === 'ok' ? 'green' : 'red';
  const lines: Line[] = [
    [
      { text: `  ${formatClock(attempt.startedAt)}  ` },
      { text: `${attempt.kind}${attempt.modified ? ' (modified)' : ''}`.padEnd(8), bold: true },
      { text: ` ${formatOutcome(attempt)}`, color: tone, bold: true },
      { text: ` · ${formatDuration(attempt.durationMs)}  ` },
      { text: `→ ${attempt.target}`, dim: true },
    ],
  ];
  if (attempt.error === null) {
    for (const [name, value] of attempt.responseHeaders)
      lines.push([
        { text: `    ${name}: `, dim: true },
        { text: value, dim: true },
      ]);
  }
  if (response && response.length > 0) {
    const body = bodyPreviewLines(response);
    for (const text of body.slice(0, RESPONSE_LINES_MAX)) lines.push([{ text: `    ${text}` }]);
    if (body.length > RESPONSE_LINES_MAX) lines.push([{ text: `    [… ${body.length - RESPONSE_LINES_MAX} more lines; ${formatBytes(attempt.responseSize)} in all]`, dim: true }]);
  } else if (attempt.responseSize > 0) {
    lines.push([{ text: `    (response ${formatBytes(attempt.responseSize)}, not kept)`, dim: true }]);
  }
  return lines;
}

/**
 * The detail view of one event: MFTG summary, attempts (newest first: what the handler answered
 * last matters most, and a long body would push them out of reach), request headers, body.
 */
export function detailDoc(event: EventRecord, body: Buffer, responses: ReadonlyMap<string, Buffer>, pending: PendingDelivery | null): TextDoc {
  const doc: TextDoc = { lines: [], sections: [] };
  const parsed = parseJsonObject(body);
  const m = mftgDetails(body, parsed);
  const color = typeColor(m?.eventType);
  doc.lines.push([
    { text: eventTitle(event), bold: true, ...(color ? { color } : {}) },
    { text: `  ${event.id}`, dim: true },
  ]);
  doc.lines.push(field('received', `${formatLocalDateTime(event.receivedAt)} from ${event.remoteAddress ?? '?'}`));
  doc.lines.push(field('request', `${event.method} ${event.path}  ${formatBytes(event.size)}`));
  // A webhook is the usual case and goes unmarked, as in the list; a trigger or a reconcile says so.
  if (sourceOf(event) !== 'webhook') doc.lines.push(field('source', sourceText(sourceOf(event)), { color: 'cyan' }));
  if (m) {
    if (m.messageId) doc.lines.push(field('message', m.messageId));
    if (m.partner || m.partnerName) doc.lines.push(field('partner', [m.partner, m.partnerName && `(${m.partnerName})`].filter(Boolean).join(' ')));
    if (m.station || m.stationName) doc.lines.push(field('station', [m.station, m.stationName && `(${m.stationName})`].filter(Boolean).join(' ')));
    if (m.subject) doc.lines.push(field('subject', m.subject));
    for (const key of m.attachments) doc.lines.push(field('attachment', key));
    if (m.failureReason || m.failures !== null) {
      const failures = m.failures !== null ? ` (${m.failures} failed attempt${m.failures === 1 ? '' : 's'})` : '';
      doc.lines.push(field('failure', `${m.failureReason ?? 'no reason given'}${failures}`, { color: 'red' }));
    }
  } else {
    doc.lines.push(field('', 'not an MFTG document: shown and forwarded like any request', { dim: true }));
  }

  section(doc, `Attempts (${event.attempts.length}${event.attempts.length > 1 ? ', newest first' : ''})`);
  if (pending) doc.lines.push(pendingLine(pending));
  if (event.attempts.length === 0 && !pending) doc.lines.push([{ text: '  none yet', dim: true }]);
  for (const attempt of [...event.attempts].reverse()) doc.lines.push(...attemptLines(attempt, responses.get(attempt.id)));

  section(doc, `Request headers (${event.headers.length})`);
  for (const [name, value] of event.headers) doc.lines.push([{ text: `  ${name}: `, dim: true }, { text: value }]);

  const contentType = event.headers.find(([name]) => name.toLowerCase() === 'content-type')?.[1];
  section(doc, `Body (${formatBytes(body.length)}${contentType ? `, ${contentType}` : ''})`);
  const bodyLines = bodyPreviewLines(body, parsed);
  for (const text of bodyLines.slice(0, BODY_LINES_MAX)) doc.lines.push([{ text: `  ${text}` }]);
  if (bodyLines.length > BODY_LINES_MAX) {
    doc.lines.push([{ text: `  [… ${bodyLines.length - BODY_LINES_MAX} more lines: mftg-hooks events show ${event.id} --body]`, dim: true }]);
  }
  return doc;
}

/** A plain text document (help, curl command). */
export function textDoc(lines: Line[]): TextDoc {
  const sections: number[] = [];
  lines.forEach((line, index) => {
    if (line[0]?.text.startsWith('── ')) sections.push(index);
  });
  return { lines, sections };
}

/** `doc` with a section inserted before its first one (or at its end when it has none). */
export function withSection(doc: TextDoc, title: string, lines: Line[]): TextDoc {
  const first = doc.sections[0];
  // A section starts on its title line; the blank line before it stays before the inserted one.
  const at = first === undefined ? doc.lines.length : first - 1;
  const inserted: Line[] = [[], [{ text: `── ${title} `, bold: true }], ...lines];
  return {
    lines: [...doc.lines.slice(0, at), ...inserted, ...doc.lines.slice(at)],
    sections: [at + 1, ...doc.sections.map((start) => start + inserted.length)],
  };
}
