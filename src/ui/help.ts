import { textDoc, type TextDoc } from './detail-lines.js';
import { KEY_TABLE, type Binding, type Mode } from './keys.js';
import type { Line } from './segments.js';

const MOVING = new Set(['up', 'down', 'pageUp', 'pageDown', 'home', 'end']);
const EVERYWHERE = new Set(['tunnel', 'help', 'interrupt']);

const GROUPS: Array<{ title: string; where: (binding: Binding) => boolean }> = [
  { title: 'Moving (list, details, help)', where: (b) => MOVING.has(b.action) },
  { title: 'Events (list and details)', where: (b) => b.modes.includes('list') && b.modes.includes('detail') && !MOVING.has(b.action) && !EVERYWHERE.has(b.action) },
  { title: 'List', where: (b) => only(b, 'list') },
  { title: 'Details, help, curl view', where: (b) => b.modes.includes('detail') && !b.modes.includes('list') },
  { title: 'Filter (after /)', where: (b) => only(b, 'filter') },
  { title: 'Everywhere', where: (b) => EVERYWHERE.has(b.action) },
];

function only(binding: Binding, mode: Mode): boolean {
  return binding.modes.length === 1 && binding.modes[0] === mode;
}

const RESULTS: Array<[string, string]> = [
  ['200 · 12 ms', 'the last attempt: status and latency (↻ marks a replay)'],
  ['ECONNREFUSED', 'no answer: the error instead of a status (TIMEOUT, ECONNRESET, …)'],
  ['retry 1/3 in 2s', 'a failed forward waits for its next automatic retry (--retry)'],
  ['waiting for handler', 'the handler is down; events go out in arrival order once it answers'],
  ['no target', 'no --forward-to or --route for this event: captured and shown only'],
];

/** The `?` screen, rendered from the key table that binds the keys. */
export function helpDoc(): TextDoc {
  const lines: Line[] = [[{ text: 'mftg-hooks live view — keys', bold: true }]];
  for (const group of GROUPS) {
    const bindings = KEY_TABLE.filter(group.where);
    if (bindings.length === 0) continue;
    lines.push([], [{ text: `── ${group.title} `, bold: true }]);
    for (const binding of bindings) lines.push([{ text: `  ${binding.label.padEnd(10)}`, bold: true }, { text: binding.description }]);
  }
  lines.push([], [{ text: '── The RESULT column ', bold: true }]);
  for (const [example, meaning] of RESULTS) lines.push([{ text: `  ${example.padEnd(21)}` }, { text: meaning, dim: true }]);
  lines.push([], [{ text: '── Colours of event types ', bold: true }]);
  lines.push([
    { text: '  MESSAGE.RECEIVED.SUCCESS', color: 'cyan' },
    { text: '  MESSAGE.SEND.SUCCESS', color: 'green' },
    { text: '  MESSAGE.SEND.FAILED', color: 'red' },
  ]);
  lines.push([{ text: '  Requests that are not MFTG documents show their method and path.', dim: true }]);
  return textDoc(lines);
}
