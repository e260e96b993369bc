import { lowerBound, type EventRow } from '../live/model.js';

/**
 * The `/` filter: words separated by spaces, all of which must match. `type:TEXT` matches the
 * eventType only; any other word matches the eventType, message id, partner, station, names,
 * subject, failure reason, method, path or event id. Case-insensitive.
 */
export interface RowFilter {
  words: string[];
  types: string[];
}

export function parseFilter(query: string): RowFilter | null {
  const words: string[] = [];
  const types: string[] = [];
  for (const part of query.toLowerCase().split(/\s+/)) {
    if (!part) continue;
    if (part.startsWith('type:')) {
      if (part.length > 5) types.push(part.slice(5));
    } else words.push(part);
  }
  return words.length === 0 && types.length === 0 ? null : { words, types };
}

export function matchesFilter(row: EventRow, filter: RowFilter): boolean {
  for (const type of filter.types) if (!(row.mftg?.eventType ?? '').toLowerCase().includes(type)) return false;
  for (const word of filter.words) if (!row.search.includes(word)) return false;
  return true;
}

export function filterRows(rows: readonly EventRow[], query: string): readonly EventRow[] {
  const filter = parseFilter(query);
  return filter ? rows.filter((row) => matchesFilter(row, filter)) : rows;
}

/** Where the list is: following the newest event, or held on a selected event. */
export interface ListPosition {
  follow: boolean;
  /** The selected event (when not following). */
  selectedId: string | null;
  /** The event shown on the first visible line (when not following). */
  topId: string | null;
}

export interface ListWindow {
  /** Index of the first visible row. */
  top: number;
  /** Index of the selected row, -1 when the list is empty. */
  selected: number;
  /** Rows newer than the selected one. */
  newer: number;
}

/**
 * Which rows are visible. Following: the newest rows, the newest selected. Otherwise the selected
 * event stays selected and the window stays where it was while new events arrive below it (an event
 * that is gone, evicted or filtered out, gives way to its nearest newer neighbour).
 */
export function windowFor(rows: readonly EventRow[], position: ListPosition, height: number): ListWindow {
  const count = rows.length;
  const visible = Math.max(1, height);
  if (count === 0) return { top: 0, selected: -1, newer: 0 };
  if (position.follow || position.selectedId === null) {
    return { top: Math.max(0, count - visible), selected: count - 1, newer: 0 };
  }
  const selected = Math.min(count - 1, lowerBound(rows, position.selectedId));
  let top = position.topId === null ? selected : Math.min(count - 1, lowerBound(rows, position.topId));
  if (selected < top) top = selected;
  if (selected >= top + visible) top = selected - visible + 1;
  top = Math.max(0, Math.min(top, count - visible));
  return { top, selected, newer: count - 1 - selected };
}

/** The position after moving the selection by `delta` rows (clamped); a move holds the list, a move that cannot move changes nothing. */
export function moveBy(rows: readonly EventRow[], position: ListPosition, height: number, delta: number): ListPosition {
  if (rows.length === 0) return position;
  const current = windowFor(rows, position, height);
  const selected = Math.max(0, Math.min(rows.length - 1, current.selected + delta));
  // ↓ on the newest row cannot move the selection: following goes on.
  if (position.follow && selected === current.selected) return position;
  const visible = Math.max(1, height);
  let top = current.top;
  if (selected < top) top = selected;
  if (selected >= top + visible) top = selected - visible + 1;
  return { follow: false, selectedId: rows[selected]!.id, topId: rows[top]!.id };
}

export function moveToOldest(rows: readonly EventRow[]): ListPosition {
  const first = rows[0];
  return first ? { follow: false, selectedId: first.id, topId: first.id } : { follow: false, selectedId: null, topId: null };
}

export const FOLLOWING: ListPosition = { follow: true, selectedId: null, topId: null };

/** Stops following and holds the currently visible window and selection. */
export function hold(rows: readonly EventRow[], position: ListPosition, height: number): ListPosition {
  if (!position.follow) return position;
  const current = windowFor(rows, position, height);
  if (current.selected < 0) return { follow: false, selectedId: null, topId: null };
  return { follow: false, selectedId: rows[current.selected]!.id, topId: rows[current.top]!.id };
}
