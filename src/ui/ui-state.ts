import type { Action, Mode } from './keys.js';
import { FOLLOWING, hold, moveBy, moveToOldest, windowFor, type ListPosition } from './list-view.js';
import type { EventRow } from '../live/model.js';

/** Everything the user has chosen: mode, list position, filter, open event, scroll offsets. */
export interface UiState {
  mode: Mode;
  /** Where Esc from help or the curl view goes back to. */
  back: 'list' | 'detail';
  position: ListPosition;
  query: string;
  detailId: string | null;
  /** First visible line of the detail view. */
  detailScroll: number;
  /** First visible line of the help view. */
  overlayScroll: number;
}

export const INITIAL_UI: UiState = { mode: 'list', back: 'list', position: FOLLOWING, query: '', detailId: null, detailScroll: 0, overlayScroll: 0 };

/** What the reducer needs to know of the screen as last drawn. */
export interface UiContext {
  /** The rows after the filter. */
  rows: readonly EventRow[];
  /** Every row (for the event types Tab cycles through). */
  allRows: readonly EventRow[];
  listHeight: number;
  paneHeight: number;
  /** Wrapped lines of the text in the detail/help/text pane. */
  paneLines: number;
  /** Wrapped line indexes where sections of that text start. */
  sections: readonly number[];
}

export type UiInput = { action: Action } | { typed: string };

function scrollBy(current: number, delta: number, ctx: UiContext): number {
  const max = Math.max(0, ctx.paneLines - ctx.paneHeight);
  return Math.max(0, Math.min(max, current + delta));
}

function paneScroll(scroll: number, action: Action, ctx: UiContext): number {
  const page = Math.max(1, ctx.paneHeight - 1);
  switch (action) {
    case 'up':
      return scrollBy(scroll, -1, ctx);
    case 'down':
      return scrollBy(scroll, 1, ctx);
    case 'pageUp':
      return scrollBy(scroll, -page, ctx);
    case 'pageDown':
      return scrollBy(scroll, page, ctx);
    case 'home':
      return 0;
    case 'end':
      return scrollBy(0, Number.MAX_SAFE_INTEGER, ctx);
    case 'nextSection': {
      const next = ctx.sections.find((start) => start > scroll);
      return next === undefined ? 0 : scrollBy(0, next, ctx);
    }
    default:
      return scroll;
  }
}

/** The event types seen, sorted, for Tab in the filter. */
export function eventTypesOf(rows: readonly EventRow[]): string[] {
  const types = new Set<string>();
  for (const row of rows) if (row.mftg?.eventType) types.add(row.mftg.eventType);
  return [...types].sort();
}

function nextTypeQuery(query: string, rows: readonly EventRow[]): string {
  const types = eventTypesOf(rows);
  if (types.length === 0) return query;
  const current = /^type:(\S+)$/i.exec(query.trim())?.[1]?.toUpperCase();
  const at = current === undefined ? -1 : types.indexOf(current);
  return at + 1 < types.length ? `type:${types[at + 1]}` : '';
}

/** The id of the selected row in the list, or null. */
export function selectedRowId(state: UiState, ctx: Pick<UiContext, 'rows' | 'listHeight'>): string | null {
  const { selected } = windowFor(ctx.rows, state.position, ctx.listHeight);
  return selected < 0 ? null : ctx.rows[selected]!.id;
}

/** The state after a key. Intents with effects (replay, copy, quit) are the caller's. */
export function reduceUi(state: UiState, input: UiInput, ctx: UiContext): UiState {
  if ('typed' in input) {
    return state.mode === 'filter' ? { ...state, query: state.query + input.typed } : state;
  }
  const { action } = input;
  switch (state.mode) {
    case 'filter':
      switch (action) {
        case 'filterApply':
          return { ...state, mode: 'list' };
        case 'filterCancel':
          return { ...state, mode: 'list', query: '' };
        case 'filterErase':
          return { ...state, query: [...state.query].slice(0, -1).join('') };
        case 'filterType':
          return { ...state, query: nextTypeQuery(state.query, ctx.allRows) };
        default:
          return state;
      }
    case 'list':
      switch (action) {
        case 'up':
          return { ...state, position: moveBy(ctx.rows, state.position, ctx.listHeight, -1) };
        case 'down':
          return { ...state, position: moveBy(ctx.rows, state.position, ctx.listHeight, 1) };
        case 'pageUp':
          return { ...state, position: moveBy(ctx.rows, state.position, ctx.listHeight, -Math.max(1, ctx.listHeight - 1)) };
        case 'pageDown':
          return { ...state, position: moveBy(ctx.rows, state.position, ctx.listHeight, Math.max(1, ctx.listHeight - 1)) };
        case 'home':
          return { ...state, position: moveToOldest(ctx.rows) };
        case 'end':
          return { ...state, position: FOLLOWING };
        case 'follow':
          return { ...state, position: state.position.follow ? hold(ctx.rows, state.position, ctx.listHeight) : FOLLOWING };
        case 'open': {
          const id = selectedRowId(state, ctx);
          return id === null ? state : { ...state, mode: 'detail', detailId: id, detailScroll: 0 };
        }
        case 'filter':
          return { ...state, mode: 'filter' };
        case 'clearFilter':
          return { ...state, query: '' };
        case 'help':
          return { ...state, mode: 'help', back: 'list', overlayScroll: 0 };
        default:
          return state;
      }
    case 'detail':
      switch (action) {
        case 'close':
          return { ...state, mode: 'list' };
        case 'help':
          return { ...state, mode: 'help', back: 'detail', overlayScroll: 0 };
        default:
          return { ...state, detailScroll: paneScroll(state.detailScroll, action, ctx) };
      }
    case 'help':
    case 'curl':
      switch (action) {
        case 'close':
          return { ...state, mode: state.back };
        case 'help':
          return state.mode === 'help' ? { ...state, mode: state.back } : { ...state, mode: 'help', overlayScroll: 0 };
        default:
          return { ...state, overlayScroll: paneScroll(state.overlayScroll, action, ctx) };
      }
  }
}
