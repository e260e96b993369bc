import assert from 'node:assert/strict';
import { realpathSync } from 'node:fs';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { throttle } from 'es-toolkit/compat';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function calls(t: TestContext): { made: string[]; record: (arg: string) => string } {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const made: string[] = [];
  return { made, record: (arg) => (made.push(arg), arg) };
}

test('Ink resolves es-toolkit/compat to our throttle, not to es-toolkit compat index of 415 modules', () => {
  assert.equal(realpathSync(fileURLToPath(import.meta.resolve('es-toolkit/compat'))), realpathSync(`${REPO_ROOT}src/ui/ink-throttle/compat.js`));
});

test('throttle (leading and trailing): the first call at once, the latest of those during the wait at its end', (t) => {
  const { made, record } = calls(t);
  const throttled = throttle(record, 34, { leading: true, trailing: true });
  assert.equal(throttled('a'), 'a');
  throttled('b');
  throttled('c');
  assert.deepEqual(made, ['a']);
  t.mock.timers.tick(33);
  assert.deepEqual(made, ['a']);
  t.mock.timers.tick(1);
  assert.deepEqual(made, ['a', 'c']);
  // A call during the wait after the trailing call waits for its end too
  throttled('d');
  assert.deepEqual(made, ['a', 'c']);
  t.mock.timers.tick(34);
  assert.deepEqual(made, ['a', 'c', 'd']);
  // Nothing called during a wait: nothing more is made, and the next call after it is made at once
  t.mock.timers.tick(100);
  throttled('e');
  assert.deepEqual(made, ['a', 'c', 'd', 'e']);
});

test('throttle: a lone call is made once, not again at the end of the wait', (t) => {
  const { made, record } = calls(t);
  const throttled = throttle(record, 34, { leading: true, trailing: true });
  throttled('a');
  t.mock.timers.tick(500);
  assert.deepEqual(made, ['a']);
});

test('throttle with wait 0 (how Ink throttles its log) makes every call at once', (t) => {
  const { made, record } = calls(t);
  const throttled = throttle(record, undefined, { leading: true, trailing: true });
  throttled('a');
  throttled('b');
  throttled('c');
  assert.deepEqual(made, ['a', 'b', 'c']);
  t.mock.timers.tick(10);
  assert.deepEqual(made, ['a', 'b', 'c']);
});

test('throttle: flush makes the pending call now and returns its result; cancel drops it', (t) => {
  const { made, record } = calls(t);
  const throttled = throttle(record, 34);
  throttled('a');
  throttled('b');
  assert.equal(throttled.flush(), 'b');
  assert.deepEqual(made, ['a', 'b']);
  // Right after a flush the wait starts again: a call then is made at its end
  throttled('c');
  assert.deepEqual(made, ['a', 'b']);
  t.mock.timers.tick(33);
  assert.deepEqual(made, ['a', 'b']);
  t.mock.timers.tick(1);
  assert.deepEqual(made, ['a', 'b', 'c']);
  t.mock.timers.tick(100);
  throttled('d');
  assert.deepEqual(made, ['a', 'b', 'c', 'd']);
  throttled('e');
  throttled.cancel();
  t.mock.timers.tick(100);
  assert.deepEqual(made, ['a', 'b', 'c', 'd']);
  // Nothing pending: flush makes no call
  throttled.flush();
  assert.deepEqual(made, ['a', 'b', 'c', 'd']);
});

test('throttle without leading makes the call at the end of the wait only; without trailing, only at its start', (t) => {
  const { made, record } = calls(t);
  const trailingOnly = throttle(record, 20, { leading: false });
  trailingOnly('a');
  trailingOnly('b');
  assert.deepEqual(made, []);
  t.mock.timers.tick(20);
  assert.deepEqual(made, ['b']);
  const leadingOnly = throttle(record, 20, { trailing: false });
  leadingOnly('c');
  leadingOnly('d');
  t.mock.timers.tick(100);
  assert.deepEqual(made, ['b', 'c']);
});
