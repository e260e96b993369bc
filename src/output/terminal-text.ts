/**
 * Captured text comes from the network: anyone who has the capture URL chooses it. Before it reaches
 * a terminal, every control character is shown escaped, so a body cannot clear the screen, set the
 * window title or write the clipboard (OSC 52). Newlines and tabs are kept only where a face asks.
 */

// C0 controls, DEL, C1 controls (0x80–0x9f: a lone 0x9b is CSI on some terminals), and the Unicode
// bidirectional overrides that can make a line read differently from what it is.
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const CONTROLS_KEEP_LAYOUT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

function escapeOne(char: string): string {
  const code = char.charCodeAt(0);
  if (char === '\n') return '\\n';
  if (char === '\r') return '\\r';
  if (char === '\t') return '\\t';
  if (code === 0x1b) return '\\e';
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** One line of captured text for a terminal: every control character escaped, newlines included. */
export function terminalSafe(text: string): string {
  return text.replace(CONTROLS, escapeOne);
}

/** Multi-line captured text (a pretty body): newlines and tabs kept, every other control escaped. */
export function terminalSafeBlock(text: string): string {
  return text.replace(CONTROLS_KEEP_LAYOUT, escapeOne);
}

/** Length of the UTF-8 sequence starting at `i`, or 0 when the bytes there are not valid UTF-8. */
function utf8Length(bytes: Buffer, i: number): number {
  const lead = bytes[i]!;
  const need = lead < 0x80 ? 1 : lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
  if (need === 0 || i + need > bytes.length) return 0;
  for (let k = 1; k < need; k++) if ((bytes[i + k]! & 0xc0) !== 0x80) return 0;
  // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not valid either.
  if (need === 3 && ((lead === 0xe0 && bytes[i + 1]! < 0xa0) || (lead === 0xed && bytes[i + 1]! >= 0xa0))) return 0;
  if (need === 4 && ((lead === 0xf0 && bytes[i + 1]! < 0x90) || (lead === 0xf4 && bytes[i + 1]! >= 0x90))) return 0;
  return need;
}

/**
 * Raw bytes (a captured body) for a terminal: valid UTF-8 text as it is, newlines and tabs kept,
 * every control character escaped as in `terminalSafeBlock`, and each byte that is not UTF-8 as
 * `\xNN`. The result says whether anything was changed.
 */
export function terminalSafeBytes(bytes: Buffer): { text: string; escaped: boolean } {
  let text = '';
  let escaped = false;
  let runStart = 0;
  let i = 0;
  const flush = (end: number): void => {
    if (end > runStart) {
      const run = bytes.subarray(runStart, end).toString('utf8');
      const safe = terminalSafeBlock(run);
      if (safe !== run) escaped = true;
      text += safe;
    }
  };
  while (i < bytes.length) {
    const length = utf8Length(bytes, i);
    if (length > 0) {
      i += length;
      continue;
    }
    flush(i);
    text += `\\x${bytes[i]!.toString(16).padStart(2, '0')}`;
    escaped = true;
    i++;
    runStart = i;
  }
  flush(i);
  return { text, escaped };
}
