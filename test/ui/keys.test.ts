import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Key } from 'ink';
import { PLAIN_KEY } from '../../src/ui/frame-parts.js';
import { helpDoc } from '../../src/ui/help.js';
import { actionFor, barItems, KEY_TABLE, type Mode } from '../../src/ui/keys.js';
import { lineText } from '../../src/ui/segments.js';

const MODES: Mode[] = ['list', 'detail', 'filter', 'help', 'curl'];

const none: Key = PLAIN_KEY;

test('no key means two things in the same mode', () => {
  for (const mode of MODES) {
    const seen = new Map<string, string>();
    for (const binding of KEY_TABLE.filter((b) => b.modes.includes(mode))) {
      for (const spec of binding.keys) {
        const id = `${spec.ctrl ? 'ctrl+' : ''}${spec.key ?? spec.input}`;
        assert.equal(seen.get(id), undefined, `${mode}: ${id} is bound to ${seen.get(id)} and ${binding.action}`);
        seen.set(id, binding.action);
      }
    }
  }
});

test('the table binds what the issue asks for', () => {
  assert.equal(actionFor('list', '', { ...none, upArrow: true }), 'up');
  assert.equal(actionFor('list', 'k', none), 'up');
  assert.equal(actionFor('list', 'j', none), 'down');
  assert.equal(actionFor('list', '', { ...none, pageDown: true }), 'pageDown');
  assert.equal(actionFor('list', '', { ...none, home: true }), 'home');
  assert.equal(actionFor('list', '', { ...none, end: true }), 'end');
  assert.equal(actionFor('list', '', { ...none, return: true }), 'open');
  assert.equal(actionFor('detail', '', { ...none, escape: true, meta: true }), 'close');
  assert.equal(actionFor('list', 'r', none), 'replay');
  assert.equal(actionFor('detail', 'c', none), 'copy');
  assert.equal(actionFor('list', 'c', { ...none, ctrl: true }), 'interrupt');
  assert.equal(actionFor('list', '/', none), 'filter');
  assert.equal(actionFor('list', 'f', none), 'follow');
  assert.equal(actionFor('list', 'f', { ...none, ctrl: true }), 'pageDown');
  assert.equal(actionFor('list', '?', none), 'help');
  assert.equal(actionFor('list', 'q', none), 'quit');
  // In the filter, letters are text, Ctrl+C still quits.
  assert.equal(actionFor('filter', 'q', none), null);
  assert.equal(actionFor('filter', 'r', none), null);
  assert.equal(actionFor('filter', 't', none), null);
  assert.equal(actionFor('filter', 'c', { ...none, ctrl: true }), 'interrupt');
});

test('q and Esc go back from every overlay; only q on the list quits; Ctrl+C quits from anywhere', () => {
  for (const mode of ['detail', 'help', 'curl'] as const) {
    assert.equal(actionFor(mode, 'q', none), 'close', mode);
    assert.equal(actionFor(mode, '', { ...none, escape: true }), 'close', mode);
    assert.equal(actionFor(mode, 'c', { ...none, ctrl: true }), 'interrupt', mode);
  }
  assert.equal(actionFor('list', 'q', none), 'quit');
  assert.equal(actionFor('list', 'c', { ...none, ctrl: true }), 'interrupt');
});

test('t retries the tunnel; the help bar shows it only while the tunnel is down', () => {
  for (const mode of ['list', 'detail', 'help', 'curl'] as const) assert.equal(actionFor(mode, 't', none), 'tunnel', mode);
  assert.ok(!barItems('list').some((item) => item.label === 't'));
  assert.ok(barItems('list', { tunnelDown: true }).some((item) => item.label === 't' && item.hint === 'retry tunnel'));
  assert.ok(barItems('detail', { tunnelDown: true }).some((item) => item.label === 't'));
});

test('the filter footer says what keys do while typing: no q quit there', () => {
  const bar = barItems('filter').map((item) => `${item.label} ${item.hint}`);
  assert.deepEqual(bar, ['⏎ done', 'Esc clear', 'Tab event type', 'Ctrl+C quit']);
  // In the overlays, q is shown as going back, not as quitting
  assert.ok(!barItems('help').some((item) => item.hint === 'quit'));
  assert.ok(barItems('help').some((item) => item.label === 'Esc' && item.hint === 'back'));
});

test('the help bar and the help screen are rendered from the same table', () => {
  const bar = barItems('list');
  assert.deepEqual(
    bar.map((item) => item.hint),
    ['move', 'details', 'replay', 'curl', 'filter', 'follow', 'help', 'quit'],
  );
  const help = helpDoc().lines.map(lineText).join('\n');
  for (const binding of KEY_TABLE) assert.ok(help.includes(binding.description), binding.description);
});
