import type { Targets } from '../../core/session-view.js';
import { columnsFor, columnTitles, rowLine } from '../layout.js';
import { windowFor, type ListPosition } from '../list-view.js';
import type { EventRow } from '../../live/model.js';
import type { Line } from '../segments.js';
import { ScreenLine, ScreenLines } from './ScreenLine.js';

export interface EventListProps {
  rows: readonly EventRow[];
  position: ListPosition;
  /** Lines for rows (the column titles take one more). */
  height: number;
  width: number;
  targets: Targets;
  /** Shown when there is no row. */
  empty: Line[];
  /** For retry countdowns. */
  now?: number;
}

/** Column titles and the visible rows only (newest at the bottom). */
export function EventList({ rows, position, height, width, targets, empty, now = Date.now() }: EventListProps) {
  const columns = columnsFor(width);
  const view = windowFor(rows, position, height);
  const lines: Line[] = [];
  for (let index = view.top; index < Math.min(rows.length, view.top + height); index++) {
    lines.push(rowLine(rows[index]!, columns, targets, width, index === view.selected, now));
  }
  return (
    <>
      <ScreenLine line={columnTitles(columns, width)} />
      <ScreenLines lines={rows.length === 0 ? empty : lines} height={height} />
    </>
  );
}
