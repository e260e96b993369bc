import type { ChalkInstance } from 'chalk';
import { mftgDetails, parseJsonObject } from '../core/mftg.js';
import { sourceOf, type EventRecord } from '../core/types.js';
import { eventTitle, formatBytes, formatDuration, formatOutcome, paint, sourceText, toneOf } from './format.js';
import { terminalSafe } from './terminal-text.js';

/** Body text shown to a human: pretty JSON, raw text, or a hex preview for binary. */
export const BODY_PREVIEW_BYTES = 16 * 1024;

function isProbablyText(body: Buffer): boolean {
  const sample = body.subarray(0, 4096);
  if (sample.includes(0)) return false;
  const text = sample.toString('utf8');
  return !text.includes('\uFFFD');
}

/** Lines of each response body shown by `events show`. */
const RESPONSE_LINES = 12;

/** Hex dump lines `00000000  7b 22 61 …  |{"a…|`. */
export function hexPreview(body: Buffer, maxBytes = 256): string[] {
  const lines: string[] = [];
  for (let offset = 0; offset < Math.min(body.length, maxBytes); offset += 16) {
    const row = body.subarray(offset, offset + 16);
    const hex = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${offset.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  |${ascii}|`);
  }
  if (body.length > maxBytes) lines.push(`[… ${body.length - maxBytes} bytes more]`);
  return lines;
}

/**
 * A body as lines for a terminal: pretty JSON, text, or a hex preview for binary. Every line is
 * terminal-safe (control characters escaped; a CR ending a CRLF line is dropped, it only moves the
 * cursor).
 */
export function bodyPreviewLines(body: Buffer, doc: Record<string, unknown> | null = parseJsonObject(body)): string[] {
  if (body.length === 0) return ['(empty body)'];
  if (doc) return JSON.stringify(doc, null, 2).split('\n').map(terminalSafe);
  if (!isProbablyText(body)) return hexPreview(body);
  const shown = body
    .subarray(0, BODY_PREVIEW_BYTES)
    .toString('utf8')
    .split('\n')
    .map((line) => terminalSafe(line.replace(/\r$/, '')));
  if (body.length > BODY_PREVIEW_BYTES) shown.push(`[… ${body.length - BODY_PREVIEW_BYTES} bytes more]`);
  return shown;
}

/** `ZZGLOBEXCORP (Globex Corporation)`: the AS2 id and the name, either alone when the other is missing or the same. */
function party(id: string | null, name: string | null): string {
  if (id && name && id !== name) return `${id} (${name})`;
  return id ?? name ?? '';
}

/** `events show` for humans: summary, headers, body, attempts. */
export function renderEventDetail(event: EventRecord, body: Buffer, responses: Map<string, Buffer>, colors: ChalkInstance): string {
  const out: string[] = [];
  const doc = parseJsonObject(body);
  const m = mftgDetails(body, doc);
  // Every captured field comes from the network: escaped before it reaches the terminal.
  const safe = terminalSafe;
  out.push(colors.bold(`${safe(eventTitle(event))}  ${safe(event.id)}`));
  out.push(`received   ${event.receivedAt} from ${safe(event.remoteAddress ?? '?')}  ${safe(event.method)} ${safe(event.path)}  ${formatBytes(event.size)}`);
  if (sourceOf(event) !== 'webhook') out.push(`source     ${sourceText(sourceOf(event))}`);
  if (m) {
    if (m.messageId) out.push(`message    ${safe(m.messageId)}`);
    if (m.partner || m.partnerName) out.push(`partner    ${safe(party(m.partner, m.partnerName))}`);
    if (m.station || m.stationName) out.push(`station    ${safe(party(m.station, m.stationName))}`);
    if (m.subject) out.push(`subject    ${safe(m.subject)}`);
    for (const key of m.attachments) out.push(`attachment ${safe(key)}`);
    if (m.failureReason) out.push(colors.red(`failure    ${safe(m.failureReason)}${m.failures !== null ? ` (${m.failures} failed attempts)` : ''}`));
  }
  out.push('', colors.bold('Request headers'));
  for (const [name, value] of event.headers) out.push(`  ${safe(name)}: ${safe(value)}`);
  out.push('', colors.bold('Body'));
  for (const line of bodyPreviewLines(body, doc)) out.push(`  ${line}`);
  out.push('', colors.bold(`Attempts (${event.attempts.length})`));
  if (event.attempts.length === 0) out.push('  none');
  for (const attempt of event.attempts) {
    out.push(
      `  ${attempt.startedAt}  ${attempt.kind}${attempt.modified ? ' (modified)' : ''}  ${paint(colors, toneOf(attempt), safe(formatOutcome(attempt)))}  ${formatDuration(attempt.durationMs)}  ${safe(attempt.target)}`,
    );
    if (attempt.error === null) {
      for (const [name, value] of attempt.responseHeaders) out.push(colors.dim(`    ${safe(name)}: ${safe(value)}`));
    }
    const response = responses.get(attempt.id);
    if (response && response.length > 0) {
      const lines = bodyPreviewLines(response);
      for (const line of lines.slice(0, RESPONSE_LINES)) out.push(`    ${line}`);
      if (lines.length > RESPONSE_LINES) out.push(colors.dim(`    [… ${lines.length - RESPONSE_LINES} more lines; ${formatBytes(attempt.responseSize)} in all]`));
    }
  }
  return out.join('\n');
}
