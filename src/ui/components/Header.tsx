import { headerLines } from '../layout.js';
import type { LiveSnapshot } from '../model.js';
import { ScreenLines } from './ScreenLine.js';

/** Public URL and tunnel state, local URL, forward targets, counts, and the URL-changed banner. */
export function Header({ snapshot, width, now }: { snapshot: LiveSnapshot; width: number; now: number }) {
  return <ScreenLines lines={headerLines(snapshot, width, now)} />;
}
