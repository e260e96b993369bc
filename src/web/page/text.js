// Pure helpers of the inspector page: formatting, byte views, header text, a line diff.
// Everything returns strings or plain data; the components render them as text, never as HTML.

const pad = (n, width = 2) => String(n).padStart(width, '0');

/** `HH:MM:SS` local time of an ISO timestamp. */
export function clock(iso) {
  const d = new Date(iso);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** `2026-11-28 20:25:43` local time. */
export function dateTime(iso) {
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock(iso)}`;
}

export function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export function duration(ms) {
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 10000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

export const isOk = (attempt) => attempt != null && attempt.status !== null && attempt.status >= 200 && attempt.status < 300;

/** `200`, `ECONNREFUSED`. */
export const outcome = (attempt) => (attempt.status === null ? attempt.error || 'ERROR' : String(attempt.status));

/** What MFTG calls each event type, short. */
export function typeTone(eventType) {
  if (eventType === 'MESSAGE.RECEIVED.SUCCESS') return 'received';
  if (eventType === 'MESSAGE.SEND.SUCCESS') return 'sent';
  if (eventType === 'MESSAGE.SEND.FAILED') return 'failed';
  return 'other';
}

/** `PARTNER → STATION` for received messages, `STATION → PARTNER` for sent ones (the direction). */
export function parties(record) {
  if (!record.partner && !record.station) return '';
  const partner = record.partner ?? '?';
  const station = record.station ?? '?';
  return record.eventType === 'MESSAGE.RECEIVED.SUCCESS' ? `${partner} → ${station}` : `${station} → ${partner}`;
}

export const titleOf = (record) => record.eventType ?? `${record.method} ${record.path}`;

/** The text the free-text filter searches, lower case. */
export function searchText(record) {
  return [record.id, record.eventType, record.messageId, record.partner, record.station, record.subject, record.method, record.path]
    .filter((part) => part != null)
    .join('\u0000')
    .toLowerCase();
}

/** The bytes as UTF-8 text, or null when they are not valid UTF-8 or hold NUL bytes (binary). */
export function utf8Text(data) {
  try {
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(data);
    return text.includes('\u0000') ? null : text;
  } catch {
    return null;
  }
}

/** The parsed JSON value of a text, or undefined when it is not JSON. */
export function parseJson(text) {
  if (text === null) return undefined;
  const trimmed = text.replace(/^\uFEFF/, '').trim();
  if (trimmed === '' || !/^[[{"\d\-tfn]/.test(trimmed)) return undefined;
  try {
    return JSON.parse(trimmed);
  } catch {
    return undefined;
  }
}

/** Hex dump lines of the first `max` bytes: `00000000  7b 22 61 …  |{"a…|` (as `events show` prints). */
export function hexLines(data, max) {
  const lines = [];
  const end = Math.min(data.length, max);
  for (let offset = 0; offset < end; offset += 16) {
    const row = data.subarray(offset, Math.min(offset + 16, end));
    let hex = '';
    let ascii = '';
    for (let i = 0; i < row.length; i++) {
      hex += (i ? ' ' : '') + row[i].toString(16).padStart(2, '0');
      ascii += row[i] >= 0x20 && row[i] < 0x7f ? String.fromCharCode(row[i]) : '.';
    }
    lines.push(`${offset.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  |${ascii}|`);
  }
  return lines;
}

/** Headers as editable text, one `Name: value` a line. */
export const headersText = (pairs) => pairs.map(([name, value]) => `${name}: ${value}`).join('\n');

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** `Name: value` lines → pairs, or `{error}` naming the first bad line. Blank lines are skipped. */
export function parseHeadersText(text) {
  const pairs = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, '');
    if (line.trim() === '') continue;
    const colon = line.indexOf(':');
    const name = colon < 0 ? '' : line.slice(0, colon).trim();
    if (!HEADER_NAME.test(name)) return { error: `line ${i + 1}: expected "Name: value"` };
    pairs.push([name, line.slice(colon + 1).trim()]);
  }
  return { pairs };
}

/** Line diff sizes above which the diff is not computed (it is quadratic). */
export const DIFF_MAX_LINES = 4000;

/**
 * A line diff of `before` → `after`: `[{op: ' '|'-'|'+', text}]`, or null when too large. Common
 * head and tail are cut first, so an edit of a few fields in a big document stays cheap.
 */
export function lineDiff(before, after) {
  const a = before.split('\n');
  const b = after.split('\n');
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const x = a.slice(head, a.length - tail);
  const y = b.slice(head, b.length - tail);
  if (x.length > DIFF_MAX_LINES || y.length > DIFF_MAX_LINES || x.length * y.length > 4_000_000) return null;
  const width = y.length + 1;
  const lcs = new Uint32Array((x.length + 1) * width);
  for (let i = x.length - 1; i >= 0; i--) {
    for (let j = y.length - 1; j >= 0; j--) {
      lcs[i * width + j] = x[i] === y[j] ? lcs[(i + 1) * width + j + 1] + 1 : Math.max(lcs[(i + 1) * width + j], lcs[i * width + j + 1]);
    }
  }
  const out = a.slice(0, head).map((text) => ({ op: ' ', text }));
  let i = 0;
  let j = 0;
  while (i < x.length || j < y.length) {
    if (i < x.length && j < y.length && x[i] === y[j]) {
      out.push({ op: ' ', text: x[i++] });
      j++;
    } else if (j < y.length && (i === x.length || lcs[i * width + j + 1] >= lcs[(i + 1) * width + j])) out.push({ op: '+', text: y[j++] });
    else out.push({ op: '-', text: x[i++] });
  }
  for (const text of a.slice(a.length - tail)) out.push({ op: ' ', text });
  return out;
}

// C0 controls but tab, newline and carriage return; DEL; C1 controls; the bidirectional overrides and
// isolates (they make text read differently from what it is).
const CONTROLS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

function escapeControl(char) {
  const code = char.charCodeAt(0);
  if (code === 0x1b) return '\\e';
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** Captured text as the page shows it: every control character visible as an escape, as in the terminal. */
export function visible(text) {
  return text.replace(CONTROLS, escapeControl);
}

/**
 * Preact's `h`, with every text child shown through `visible`: the one place where captured text
 * becomes page text, so no view can show a raw control character. (Attribute values, such as an
 * editor's content, keep the exact text.)
 */
export function safeH(h) {
  const safe = (child) => (typeof child === 'string' ? visible(child) : Array.isArray(child) ? child.map(safe) : child);
  return (type, props, ...children) => h(type, props, ...children.map(safe));
}
