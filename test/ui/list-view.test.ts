import assert from 'node:assert/strict';
import { test } from 'node:test';
import { filterRows, FOLLOWING, hold, moveBy, windowFor } from '../../src/ui/list-view.js';
import { rowOf, type EventRow } from '../../src/live/model.js';

function rows(count: number, from = 0): EventRow[] {
  return Array.from({ length: count }, (_, i) => {
    const n = from + i;
    const eventType = n % 2 === 0 ? 'MESSAGE.RECEIVED.SUCCESS' : 'MESSAGE.SEND.FAILED';
    return rowOf({
      id: `id${String(n).padStart(6, '0')}`,
      receivedAt: new Date().toISOString(),
      method: 'POST',
      path: '/',
      headers: [],
      remoteAddress: null,
      size: 1,
      mftg: {
        eventType,
        messageId: `<${n}@as2.example>`,
        partner: n % 3 === 0 ? 'GLOBEX' : 'INITECH',
        partnerName: null,
        station: 'ACME',
        stationName: null,
        subject: null,
        failureReason: null,
        failures: null,
      },
    });
  });
}

test('following: the newest rows are visible and the newest is selected', () => {
  const list = rows(50);
  assert.deepEqual(windowFor(list, FOLLOWING, 10), { top: 40, selected: 49, newer: 0 });
  assert.deepEqual(windowFor([], FOLLOWING, 10), { top: 0, selected: -1, newer: 0 });
});

test('held: the selection and the window stay put while new events arrive', () => {
  // Given a held selection three rows above the newest
  const list = rows(50);
  const held = moveBy(list, FOLLOWING, 10, -3);
  assert.equal(held.follow, false);
  assert.equal(held.selectedId, 'id000046');
  const before = windowFor(list, held, 10);
  // When 20 more events arrive
  const more = [...list, ...rows(20, 50)];
  const after = windowFor(more, held, 10);
  // Then the same event is selected at the same place on screen, with 23 newer ones below
  assert.equal(more[after.selected]!.id, 'id000046');
  assert.equal(after.selected - after.top, before.selected - before.top);
  assert.equal(after.newer, 23);
});

test('held: an event that disappears (evicted, filtered out) gives way to its newer neighbour', () => {
  const list = rows(30);
  const position = { follow: false, selectedId: 'id000005', topId: 'id000003' };
  const trimmed = list.slice(10);
  const view = windowFor(trimmed, position, 10);
  assert.equal(trimmed[view.selected]!.id, 'id000010');
});

test('moving clamps at both ends and pages by the height; f holds the visible window', () => {
  const list = rows(30);
  const top = moveBy(list, FOLLOWING, 10, -1000);
  assert.equal(top.selectedId, 'id000000');
  assert.equal(top.topId, 'id000000');
  const paged = moveBy(list, top, 10, 9);
  assert.equal(paged.selectedId, 'id000009');
  const scrolled = moveBy(list, paged, 10, 1);
  assert.equal(scrolled.topId, 'id000001');
  const held = hold(list, FOLLOWING, 10);
  assert.deepEqual(held, { follow: false, selectedId: 'id000029', topId: 'id000020' });
});

test('the filter: words in any field, type: for the eventType only, all words must match', () => {
  const list = rows(12);
  assert.equal(filterRows(list, '').length, 12);
  assert.equal(filterRows(list, 'globex').length, 4);
  assert.equal(filterRows(list, 'type:failed').length, 6);
  assert.equal(filterRows(list, 'type:MESSAGE.RECEIVED globex').length, 2);
  assert.equal(filterRows(list, '<7@as2').length, 1);
  assert.equal(filterRows(list, 'nothing-like-this').length, 0);
});
