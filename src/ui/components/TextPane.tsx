import type { Line } from '../segments.js';
import { ScreenLines } from './ScreenLine.js';

/** A scrolled window on already wrapped lines (details, help, curl command). */
export function TextPane({ lines, scroll, height }: { lines: Line[]; scroll: number; height: number }) {
  return <ScreenLines lines={lines.slice(scroll, scroll + height)} height={height} />;
}
