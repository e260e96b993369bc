import type { Key } from 'ink';

/** What the screen shows, and so which keys mean what. */
export type Mode = 'list' | 'detail' | 'filter' | 'help' | 'curl';

export type Action =
  | 'up'
  | 'down'
  | 'pageUp'
  | 'pageDown'
  | 'home'
  | 'end'
  | 'open'
  | 'close'
  | 'nextSection'
  | 'replay'
  | 'copy'
  | 'attachments'
  | 'saveAttachments'
  | 'filter'
  | 'clearFilter'
  | 'follow'
  | 'help'
  | 'tunnel'
  | 'quit'
  | 'interrupt'
  | 'filterApply'
  | 'filterCancel'
  | 'filterType'
  | 'filterErase';

type KeyName = 'upArrow' | 'downArrow' | 'pageUp' | 'pageDown' | 'home' | 'end' | 'return' | 'escape' | 'tab' | 'backspace' | 'delete';

/** One key: a typed character (no Ctrl/Meta unless `ctrl`), or a named key. */
export interface KeySpec {
  input?: string;
  key?: KeyName;
  ctrl?: boolean;
}

/** A row of the key table: binds keys to an action and documents it (help bar and `?` screen). */
export interface Binding {
  action: Action;
  keys: KeySpec[];
  /** How the keys are written for humans. */
  label: string;
  description: string;
  modes: readonly Mode[];
  /**
   * Shown in the help bar as `label hint` (in table order): in every mode of the binding, or only in
   * `modes`; with `when: 'tunnelDown'` only while the tunnel is reconnecting or offline.
   */
  bar?: { hint: string; label?: string; modes?: readonly Mode[]; when?: 'tunnelDown' };
}

/** What the help bar depends on besides the mode. */
export interface BarContext {
  tunnelDown: boolean;
}

const BROWSE: readonly Mode[] = ['list', 'detail', 'help', 'curl'];
const ALL: readonly Mode[] = ['list', 'detail', 'filter', 'help', 'curl'];
const EVENT: readonly Mode[] = ['list', 'detail'];

/** THE key table: useInput dispatches with it, the help bar and the help screen render it. */
export const KEY_TABLE: readonly Binding[] = [
  {
    action: 'up',
    keys: [{ key: 'upArrow' }, { input: 'k' }],
    label: '↑ k',
    description: 'select the previous (older) event / scroll up',
    modes: BROWSE,
    bar: { label: '↑↓', hint: 'move', modes: ['list', 'detail', 'help'] },
  },
  { action: 'down', keys: [{ key: 'downArrow' }, { input: 'j' }], label: '↓ j', description: 'select the next (newer) event / scroll down', modes: BROWSE },
  { action: 'pageUp', keys: [{ key: 'pageUp' }, { input: 'b', ctrl: true }, { input: 'u', ctrl: true }], label: 'PgUp', description: 'one page up', modes: BROWSE },
  { action: 'pageDown', keys: [{ key: 'pageDown' }, { input: 'f', ctrl: true }, { input: 'd', ctrl: true }], label: 'PgDn', description: 'one page down', modes: BROWSE },
  { action: 'home', keys: [{ key: 'home' }, { input: 'g' }], label: 'Home g', description: 'the oldest event / top', modes: BROWSE },
  { action: 'end', keys: [{ key: 'end' }, { input: 'G' }], label: 'End G', description: 'the newest event (and follow) / bottom', modes: BROWSE },
  { action: 'open', keys: [{ key: 'return' }], label: 'Enter', description: 'open the details of the selected event (Enter again closes them)', modes: ['list'], bar: { label: '⏎', hint: 'details' } },
  {
    action: 'close',
    keys: [{ key: 'escape' }, { input: 'q' }, { key: 'return' }],
    label: 'Esc q',
    description: 'close the details, help or curl view and go back',
    modes: ['detail', 'help', 'curl'],
    bar: { label: 'Esc', hint: 'back' },
  },
  { action: 'nextSection', keys: [{ key: 'tab' }], label: 'Tab', description: 'jump to the next section (attempts, headers, body)', modes: ['detail'], bar: { hint: 'section' } },
  { action: 'replay', keys: [{ input: 'r' }], label: 'r', description: 'replay the event to the forward target, unchanged; the result shows as a new attempt', modes: EVENT, bar: { hint: 'replay' } },
  { action: 'copy', keys: [{ input: 'c' }], label: 'c', description: 'copy the event as a curl command (clipboard, else OSC 52, and shown)', modes: EVENT, bar: { hint: 'curl' } },
  {
    action: 'attachments',
    keys: [{ input: 'a' }],
    label: 'a',
    description: "list the MFTG message's files through the MFTG API (credentials: MFTG_API_USERNAME and MFTG_API_PASSWORD, or MFTG_API_TOKEN)",
    modes: ['detail'],
    bar: { hint: 'files' },
  },
  { action: 'saveAttachments', keys: [{ input: 's' }], label: 's', description: "save the MFTG message's files, byte for byte, into ./mftg-attachments/<event id>/", modes: ['detail'] },
  {
    action: 'filter',
    keys: [{ input: '/' }],
    label: '/',
    description: 'filter: words match any field; type:TEXT matches the eventType; Tab cycles event types',
    modes: ['list'],
    bar: { hint: 'filter' },
  },
  { action: 'clearFilter', keys: [{ key: 'escape' }], label: 'Esc', description: 'clear the filter', modes: ['list'] },
  { action: 'follow', keys: [{ input: 'f' }], label: 'f', description: 'follow the newest event on/off', modes: ['list'], bar: { hint: 'follow' } },
  { action: 'filterApply', keys: [{ key: 'return' }], label: 'Enter', description: 'keep the filter and go back to the list', modes: ['filter'], bar: { label: '⏎', hint: 'done' } },
  { action: 'filterCancel', keys: [{ key: 'escape' }], label: 'Esc', description: 'drop the filter', modes: ['filter'], bar: { hint: 'clear' } },
  { action: 'filterType', keys: [{ key: 'tab' }], label: 'Tab', description: 'cycle through the event types seen (type:…)', modes: ['filter'], bar: { hint: 'event type' } },
  { action: 'filterErase', keys: [{ key: 'backspace' }, { key: 'delete' }], label: '⌫', description: 'erase a character', modes: ['filter'] },
  { action: 'tunnel', keys: [{ input: 't' }], label: 't', description: 'retry the tunnel now, while it is reconnecting or offline', modes: BROWSE, bar: { hint: 'retry tunnel', when: 'tunnelDown' } },
  { action: 'help', keys: [{ input: '?' }], label: '?', description: 'this help (? again closes it)', modes: BROWSE, bar: { hint: 'help' } },
  {
    action: 'quit',
    keys: [{ input: 'q' }],
    label: 'q',
    description: 'quit: stops the listener, exit code 0; asks once while events still wait for the handler',
    modes: ['list'],
    bar: { hint: 'quit' },
  },
  { action: 'interrupt', keys: [{ input: 'c', ctrl: true }], label: 'Ctrl+C', description: 'quit from anywhere, without asking', modes: ALL, bar: { hint: 'quit', modes: ['filter'] } },
];

function matches(spec: KeySpec, input: string, key: Key): boolean {
  if (spec.key) return key[spec.key] === true && (spec.ctrl === undefined || key.ctrl === spec.ctrl);
  if (spec.input === undefined) return false;
  if (spec.ctrl) return key.ctrl && input.toLowerCase() === spec.input;
  return !key.ctrl && !key.meta && input === spec.input;
}

/** The action a key press means in `mode`, or null (in filter mode: null means "type it"). */
export function actionFor(mode: Mode, input: string, key: Key, table: readonly Binding[] = KEY_TABLE): Action | null {
  for (const binding of table) {
    if (!binding.modes.includes(mode)) continue;
    if (binding.keys.some((spec) => matches(spec, input, key))) return binding.action;
  }
  return null;
}

/** The help bar items of a mode, in table order. */
export function barItems(mode: Mode, context: BarContext = { tunnelDown: false }, table: readonly Binding[] = KEY_TABLE): Array<{ label: string; hint: string }> {
  return table
    .filter(({ bar, modes }) => bar && (bar.modes ?? modes).includes(mode) && (bar.when !== 'tunnelDown' || context.tunnelDown))
    .map((binding) => ({ label: binding.bar!.label ?? binding.label, hint: binding.bar!.hint }));
}
