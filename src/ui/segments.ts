import { terminalSafe } from '../output/terminal-text.js';
import type { ThemeColor } from './theme.js';

/** A run of text with one style. A screen line is an array of them. */
export interface Seg {
  text: string;
  color?: ThemeColor;
  bold?: boolean;
  dim?: boolean;
  inverse?: boolean;
}

export type Line = Seg[];

/**
 * Captured text comes from the network: a segment's text is shown with every control character
 * escaped (`\\e]52;…`), so a body cannot clear the screen or write the clipboard. Every function
 * here measures, cuts and pads the escaped text, and ScreenLine escapes again before Ink sees it
 * (idempotent: escaped text has no control character left), so nothing reaches the terminal raw.
 */
export function safeSeg(seg: Seg): Seg {
  const text = terminalSafe(seg.text);
  return text === seg.text ? seg : { ...seg, text };
}

export function safeLine(line: Line): Line {
  return line.map(safeSeg);
}

/** Text length in terminal cells, close enough for what the UI shows (code points; no wide glyphs). */
export function cells(text: string): number {
  let count = 0;
  for (const _ of terminalSafe(text)) count++;
  return count;
}

export function lineWidth(line: Line): number {
  return line.reduce((sum, seg) => sum + cells(seg.text), 0);
}

/** `text` cut to `width` cells, ending in `…` when cut. */
export function truncate(raw: string, width: number): string {
  const text = terminalSafe(raw);
  if (width <= 0) return '';
  if (cells(text) <= width) return text;
  if (width === 1) return '…';
  return [...text].slice(0, width - 1).join('') + '…';
}

/** `text` cut or padded with spaces to exactly `width` cells. */
export function fit(text: string, width: number): string {
  const cut = truncate(text, width);
  return cut + ' '.repeat(Math.max(0, width - cells(cut)));
}

/** Cuts a line to `width` cells, the last one becoming `…` when something was cut. */
export function truncateLine(raw: Line, width: number): Line {
  const line = safeLine(raw);
  if (lineWidth(line) <= width) return line;
  if (width <= 0) return [];
  const out: Line = [];
  let left = width - 1;
  for (const seg of line) {
    if (left <= 0) break;
    const chars = [...seg.text];
    if (chars.length <= left) {
      out.push(seg);
      left -= chars.length;
    } else {
      out.push({ ...seg, text: chars.slice(0, left).join('') });
      left = 0;
    }
  }
  const last = out[out.length - 1];
  if (last) out[out.length - 1] = { ...last, text: last.text + '…' };
  else out.push({ text: '…' });
  return out;
}

/** Pads a line with spaces to `width` cells (after truncating it if longer). */
export function padLine(line: Line, width: number): Line {
  const cut = truncateLine(line, width);
  const missing = width - lineWidth(cut);
  if (missing <= 0) return cut;
  const last = cut[cut.length - 1];
  // An inverse line (selection, banner) stays a solid bar to the edge.
  const fill: Seg = last?.inverse ? { text: ' '.repeat(missing), inverse: true, ...(last.color ? { color: last.color } : {}), ...(last.bold ? { bold: true } : {}) } : { text: ' '.repeat(missing) };
  return [...cut, fill];
}

/** Splits a line into lines of at most `width` cells; continuation lines are indented by `indent`. */
export function wrapLine(raw: Line, width: number, indent = 0): Line[] {
  const line = safeLine(raw);
  if (width <= 0) return [line];
  if (lineWidth(line) <= width) return [line];
  const out: Line[] = [];
  let current: Line = [];
  let room = width;
  const start = (): void => {
    out.push(current);
    const pad = Math.min(indent, width - 1);
    current = pad > 0 ? [{ text: ' '.repeat(pad) }] : [];
    room = width - pad;
  };
  for (const seg of line) {
    const chars = [...seg.text];
    let at = 0;
    while (at < chars.length) {
      if (room === 0) start();
      const take = chars.slice(at, at + room);
      current.push({ ...seg, text: take.join('') });
      room -= take.length;
      at += take.length;
    }
  }
  if (current.length > 0) out.push(current);
  return out;
}

export function plain(text: string, style: Omit<Seg, 'text'> = {}): Line {
  return [{ text, ...style }];
}

export function lineText(line: Line): string {
  return line.map((seg) => seg.text).join('');
}
