import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderEventTable } from '../../src/commands/events.js';
import { summarize } from '../../src/core/mftg.js';
import { buildSample } from '../../src/core/mftg-samples.js';
import type { EventRecord, EventSource } from '../../src/core/types.js';
import { rowOf } from '../../src/live/model.js';
import { renderEventDetail } from '../../src/output/event-detail.js';
import { colorsFor } from '../../src/output/format.js';
import { detailDoc } from '../../src/ui/detail-lines.js';
import { columnsFor, rowLine } from '../../src/ui/layout.js';
import { lineText } from '../../src/ui/segments.js';
import { plainEvent } from '../helpers/store-fixtures.js';

const NO_COLOR = colorsFor({ isTTY: false });
const body = Buffer.from(JSON.stringify(buildSample('MESSAGE.RECEIVED.SUCCESS')));

function storedAs(source: EventSource | undefined): EventRecord {
  const event = { ...plainEvent([['content-type', 'application/json']]), size: body.length, mftg: summarize(body), attempts: [] };
  return source === undefined ? event : { ...event, source };
}

test('the live list marks a trigger and a reconcile before the message id, and leaves a webhook (or an old event) unmarked, at 80 and 120 columns', () => {
  for (const width of [80, 120]) {
    const columns = columnsFor(width);
    const line = (source: EventSource | undefined) => rowLine(rowOf(storedAs(source)), columns, { forwardTo: null, routes: {} }, width, false);
    const messageIdCell = (source: EventSource | undefined) => {
      const segs = line(source);
      return segs.slice(3, 5);
    };
    const trigger = messageIdCell('trigger');
    assert.equal(trigger[0]!.text, 'trigger ');
    assert.equal(trigger[0]!.color, 'cyan');
    assert.equal(messageIdCell('reconcile')[0]!.text, 'reconcile ');
    assert.doesNotMatch(lineText(line('webhook')), /trigger|reconcile|webhook/);
    assert.equal(lineText(line(undefined)), lineText(line('webhook')));
    assert.equal([...lineText(line('trigger'))].length, width, 'the row keeps its width');
  }
});

test('the details and `events show` name the source of a trigger and a reconcile; the list filter finds them by it', () => {
  const detail = (source: EventSource) =>
    detailDoc(storedAs(source), body, new Map(), null)
      .lines.map(lineText)
      .find((text) => text.startsWith('source'));
  assert.equal(detail('trigger'), 'source     trigger (a sample made by `mftg-hooks trigger`)');
  assert.equal(detail('reconcile'), 'source     reconcile (recovered through the MFTG API: its webhook never arrived)');
  assert.equal(detail('webhook'), undefined);
  assert.match(renderEventDetail(storedAs('reconcile'), body, new Map(), NO_COLOR), /^source {5}reconcile \(recovered through the MFTG API/m);
  assert.doesNotMatch(renderEventDetail(storedAs('webhook'), body, new Map(), NO_COLOR), /^source/m);
  assert.ok(rowOf(storedAs('trigger')).search.includes('trigger'));
});

test('`events list` marks the message id of a trigger or a reconcile the same way', () => {
  const table = renderEventTable([storedAs('webhook'), storedAs('trigger'), storedAs('reconcile')], 160, NO_COLOR).split('\n');
  assert.doesNotMatch(table[1]!, /trigger|reconcile/);
  assert.match(table[2]!, / trigger </);
  assert.match(table[3]!, / reconcile </);
});
