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
