import { headerLines } from '../layout.js';
import type { LiveSnapshot } from '../../live/model.js';
import { ScreenLines } from './ScreenLine.js';

/** Public URL and tunnel state, local URL, forward targets, web inspector, counts, and the URL-changed banner. */
export function Header({ snapshot, width, now, inspectUrl = null, hidden = false }: { snapshot: LiveSnapshot; width: number; now: number; inspectUrl?: string | null; hidden?: boolean }) {
  if (hidden) return null;
  return <ScreenLines lines={headerLines(snapshot, width, now, inspectUrl)} />;
}
