import { barItems, type Mode } from '../keys.js';
import { helpBarLine } from '../layout.js';
import { ScreenLine } from './ScreenLine.js';

/** The keys of the current mode, from the same table that binds them (`t` while the tunnel is down). */
export function HelpBar({ mode, width, tunnelDown = false }: { mode: Mode; width: number; tunnelDown?: boolean }) {
  return <ScreenLine line={helpBarLine(barItems(mode, { tunnelDown }), width)} />;
}
