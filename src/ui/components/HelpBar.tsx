import { barItems, type Mode } from '../keys.js';
import { helpBarLine } from '../layout.js';
import { ScreenLine } from './ScreenLine.js';

/** The keys of the current mode, from the same table that binds them. */
export function HelpBar({ mode, width }: { mode: Mode; width: number }) {
  return <ScreenLine line={helpBarLine(barItems(mode), width)} />;
}
