import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveEventType } from '../../src/core/mftg.js';
import { resolveSampleType } from '../../src/core/mftg-samples.js';
import { parseEventTypeFilter } from '../../src/parse.js';

test('event types: full names, short names and any unique part, in any case; ambiguous parts say which types', () => {
  for (const [word, type] of [
    ['failed', 'MESSAGE.SEND.FAILED'],
    ['FAILED', 'MESSAGE.SEND.FAILED'],
    ['fail', 'MESSAGE.SEND.FAILED'],
    ['rec', 'MESSAGE.RECEIVED.SUCCESS'],
    ['message.received.success', 'MESSAGE.RECEIVED.SUCCESS'],
    ['sent', 'MESSAGE.SEND.SUCCESS'],
    ['send.s', 'MESSAGE.SEND.SUCCESS'],
  ] as const) {
    assert.deepEqual(resolveEventType(word), { type }, word);
    assert.equal(resolveSampleType(word), type, word);
    assert.equal(parseEventTypeFilter(word), type, word);
  }
  assert.deepEqual(resolveEventType('send'), { ambiguous: ['MESSAGE.SEND.SUCCESS', 'MESSAGE.SEND.FAILED'] });
  assert.deepEqual(resolveEventType('success'), { ambiguous: ['MESSAGE.RECEIVED.SUCCESS', 'MESSAGE.SEND.SUCCESS'] });
  assert.equal(resolveEventType('nonsense'), null);
  assert.throws(() => parseEventTypeFilter('message'), /matches MESSAGE\.RECEIVED\.SUCCESS and MESSAGE\.SEND\.SUCCESS and MESSAGE\.SEND\.FAILED/);
  // A type of someone else's document is kept as typed
  assert.equal(parseEventTypeFilter('ORDER.CREATED'), 'ORDER.CREATED');
});
