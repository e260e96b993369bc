import { deliveredHeaders, type ExportItem } from '../../core/export.js';
import type { CapturedEvent } from '../../core/types.js';
import { terminalSafe } from '../terminal-text.js';
import type { ExportFormat } from './format.js';

/** curl commands that send each request again, byte for byte; they need a POSIX shell. */

/** A POSIX shell word for `text` (written out as UTF-8): bare when safe, else single-quoted. */
export function shellQuote(text: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * A shell word for a header line. Header values are latin1 on the wire, so a character from U+0080
 * to U+00FF must become one byte, not its UTF-8 form: such characters come from `$(printf '\ooo')`,
 * which every POSIX shell understands.
 */
export function shellQuoteLatin1(text: string): string {
  if (/^[\x00-\x7f]*$/.test(text)) return shellQuote(text);
  let out = '';
  let run = '';
  for (const char of text) {
    const code = char.charCodeAt(0);
    if (code < 0x80) {
      run += char;
      continue;
    }
    if (run) out += shellQuote(run);
    run = '';
    out += `"$(printf '\\${(code & 0xff).toString(8).padStart(3, '0')}')"`;
  }
  return run ? out + shellQuote(run) : out;
}

/**
 * True for bodies that can be pasted between single quotes as they are: valid UTF-8, no control
 * characters but newline (a pasted CR or TAB may be changed by the terminal), no C1 controls and no
 * bidirectional overrides (a terminal would act on them, or show the command other than it is).
 */
function isPlainText(body: Buffer): boolean {
  const text = body.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(body)) return false;
  return !/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/.test(text);
}

/**
 * A POSIX `printf` format that prints exactly `body`: printable ASCII as is, `\n`, `\t`, `\r`, and
 * three-digit octal escapes for every other byte (so a following digit is never swallowed).
 */
export function printfFormat(body: Buffer): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const byte = body[i]!;
    if (byte === 0x5c) out += '\\\\';
    else if (byte === 0x25) out += '%%';
    else if (byte === 0x0a) out += '\\n';
    else if (byte === 0x09) out += '\\t';
    else if (byte === 0x0d) out += '\\r';
    // A leading `-` would be taken for an option by some printf implementations.
    else if (byte >= 0x20 && byte < 0x7f && !(i === 0 && byte === 0x2d)) out += String.fromCharCode(byte);
    else out += '\\' + byte.toString(8).padStart(3, '0');
  }
  return out;
}

/**
 * A shell command that sends the same request again with curl: method, headers (as a forward
 * delivers them: hop-by-hop ones dropped, `content-length` last) and the exact body bytes, to `url`
 * (the full URL; see `requestUrl` to build it from a handler base URL). Text bodies go inline with
 * `--data-raw`; any other body is produced by `printf` with octal escapes and piped to
 * `--data-binary @-`, so even NUL bytes survive. curl's own `User-Agent`, `Accept`, `Content-Type`
 * and `Expect` are suppressed unless the request had them, so the handler sees what a forward shows.
 */
export function toCurl(event: CapturedEvent, body: Buffer, url: string): string {
  const method = event.method.toUpperCase();
  const headers = deliveredHeaders(method, event.headers, body.length);
  const has = (name: string): boolean => headers.some(([key]) => key.toLowerCase() === name);
  const options: string[] = [];
  const plain = body.length > 0 && isPlainText(body);
  const piped = body.length > 0 && !plain;

  if (method === 'HEAD') options.push('--head');
  else if (!((method === 'GET' && body.length === 0) || (method === 'POST' && body.length > 0))) options.push(`--request ${shellQuote(method)}`);
  if (new URL(url).protocol === 'https:') options.push('--http1.1');
  for (const [name, value] of headers) options.push(`--header ${shellQuoteLatin1(value === '' ? `${name};` : `${name}: ${value}`)}`);
  // An empty `Name:` tells curl not to send a header it would add by itself.
  for (const name of ['User-Agent', 'Accept']) if (!has(name.toLowerCase())) options.push(`--header ${shellQuote(`${name}:`)}`);
  if (body.length > 0) {
    if (!has('content-type')) options.push(`--header ${shellQuote('Content-Type:')}`);
    options.push(`--header ${shellQuote('Expect:')}`);
  }
  if (plain) options.push(`--data-raw ${shellQuote(body.toString('utf8'))}`);
  if (piped) options.push('--data-binary @-');

  const curl = [`curl ${shellQuote(url)}`, ...options].join(' \\\n  ');
  if (!piped) return curl;
  return `printf '${printfFormat(body).replace(/'/g, `'\\''`)}' \\\n  | ${curl}`;
}

/** One entry: a comment naming the event, then its command. */
function curlEntry(item: ExportItem): string {
  const record = item.event;
  const title = (record.mftg?.eventType ?? `${record.method} ${record.path}`) + (record.mftg?.messageId ? ` ${record.mftg.messageId}` : '');
  // A shell comment runs to the end of its line; escaping every control character keeps a
  // sender's newline (or terminal escape sequence) from turning the rest into a command.
  const comment = terminalSafe(`# ${record.id}  ${title}  captured ${record.receivedAt}`);
  return `${comment}\n${toCurl({ ...item.event, headers: item.headers }, item.body, item.url)}\n\n`;
}

export const curlFormat: ExportFormat = {
  name: 'curl',
  description: 'curl commands that send each request again (POSIX shell)',
  needsResponse: false,
  begin: () => '',
  entry: (item) => curlEntry(item),
  end: () => '',
};
