import type { ChalkInstance } from 'chalk';
import { mftgDetails, parseJsonObject } from '../core/mftg.js';
import type { EventRecord } from '../core/types.js';
import { eventTitle, formatBytes, formatDuration, formatOutcome, paint, toneOf } from './format.js';

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

export function bodyPreviewLines(body: Buffer, doc: Record<string, unknown> | null = parseJsonObject(body)): string[] {
  if (body.length === 0) return ['(empty body)'];
  if (doc) return JSON.stringify(doc, null, 2).split('\n');
  if (!isProbablyText(body)) return hexPreview(body);
  const shown = body.subarray(0, BODY_PREVIEW_BYTES).toString('utf8').split('\n');
  if (body.length > BODY_PREVIEW_BYTES) shown.push(`[… ${body.length - BODY_PREVIEW_BYTES} bytes more]`);
  return shown;
}

/** `events show` for humans: summary, headers, body, attempts. */
export function renderEventDetail(event: EventRecord, body: Buffer, responses: Map<string, Buffer>, colors: ChalkInstance): string {
  const out: string[] = [];
  const doc = parseJsonObject(body);
  const m = mftgDetails(body, doc);
  out.push(colors.bold(`${eventTitle(event)}  ${event.id}`));
  out.push(`received   ${event.receivedAt} from ${event.remoteAddress ?? '?'}  ${event.method} ${event.path}  ${formatBytes(event.size)}`);
  if (m) {
    if (m.messageId) out.push(`message    ${m.messageId}`);
    if (m.partner || m.partnerName) out.push(`partner    ${[m.partner, m.partnerName && `(${m.partnerName})`].filter(Boolean).join(' ')}`);
    if (m.station || m.stationName) out.push(`station    ${[m.station, m.stationName && `(${m.stationName})`].filter(Boolean).join(' ')}`);
    if (m.subject) out.push(`subject    ${m.subject}`);
    for (const key of m.attachments) out.push(`attachment ${key}`);
    if (m.failureReason) out.push(colors.red(`failure    ${m.failureReason}${m.failures !== null ? ` (${m.failures} failed attempts)` : ''}`));
  }
  out.push('', colors.bold('Request headers'));
  for (const [name, value] of event.headers) out.push(`  ${name}: ${value}`);
  out.push('', colors.bold('Body'));
  for (const line of bodyPreviewLines(body, doc)) out.push(`  ${line}`);
  out.push('', colors.bold(`Attempts (${event.attempts.length})`));
  if (event.attempts.length === 0) out.push('  none');
  for (const attempt of event.attempts) {
    out.push(`  ${attempt.startedAt}  ${attempt.kind}${attempt.modified ? ' (modified)' : ''}  ${paint(colors, toneOf(attempt), formatOutcome(attempt))}  ${formatDuration(attempt.durationMs)}  ${attempt.target}`);
    if (attempt.error === null) {
      for (const [name, value] of attempt.responseHeaders) out.push(colors.dim(`    ${name}: ${value}`));
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
