import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Chalk } from 'chalk';
import type { ForwardAttempt } from '../../src/core/types.js';
import { attachJsonPrinter } from '../../src/output/json-printer.js';
import { attachPlainPrinter } from '../../src/output/plain-printer.js';
import { FakeSessionView } from '../helpers/fake-session-view.js';
import { stalledPipe } from '../helpers/stalled-pipe.js';
import { waitUntil } from '../helpers/temp.js';

const HIGH_WATER = 16 * 1024;
const EVENTS = 2_000;

const attemptOf = (eventId: string, n: number): ForwardAttempt => ({
  id: `${eventId}-a${n}`,
  eventId,
  kind: 'replay',
  target: 'http://127.0.0.1:9/hook',
  startedAt: '2026-01-01T00:00:00.000Z',
  status: 200,
  error: null,
  durationMs: 1,
  responseHeaders: [],
  responseSize: 0,
  modified: false,
});

let view: FakeSessionView;
before(async () => {
  view = await FakeSessionView.create();
});
after(async () => {
  await view.close();
});

test('--json with a stalled reader: the queue stays bounded, and once read, every record comes once, in order', async () => {
  const pipe = stalledPipe();
  const detach = attachJsonPrinter(view, pipe.out, undefined, { highWaterBytes: HIGH_WATER });
  // Given a first event printed before the reader stalls
  const first = await view.deliver({ body: { eventType: 'MESSAGE.SEND.SUCCESS', n: 0 } });
  const ids = [first.id];
  const attempts: string[] = [];
  // When thousands of events (every 100th with an attempt) and attempts on the first event arrive unread
  for (let n = 1; n < EVENTS; n++) {
    const event = await view.deliver({ body: { eventType: 'MESSAGE.SEND.SUCCESS', n, padding: 'x'.repeat(200) } });
    ids.push(event.id);
    pipe.sample();
    if (n % 100 === 0) {
      const attempt = attemptOf(event.id, 1);
      await view.recordForeignAttempt(attempt);
      attempts.push(attempt.id);
      const late = attemptOf(first.id, n);
      await view.recordForeignAttempt(late);
      attempts.push(late.id);
    }
  }
  // Then the printer never queued much more than its high-water mark
  assert.ok(pipe.maxQueued() < HIGH_WATER + 8 * 1024, `queued ${pipe.maxQueued()} bytes`);
  // And when the reader resumes, every event and attempt arrives, each once
  pipe.resume();
  const records = await waitUntil(() => {
    const lines = pipe
      .text()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { type: string; id?: string; eventId?: string });
    return lines.filter((r) => r.type === 'event').length >= EVENTS ? lines : null;
  }, 'every event record');
  await detach();
  const all = pipe
    .text()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { type: string; id: string; eventId?: string });
  assert.deepEqual(
    all.filter((r) => r.type === 'event').map((r) => r.id),
    ids,
    'events in arrival order, once each',
  );
  assert.deepEqual(
    all
      .filter((r) => r.type === 'attempt')
      .map((r) => r.id)
      .sort(),
    attempts.slice().sort(),
    'every attempt once',
  );
  // And every attempt comes after its event
  const at = new Map(all.map((r, i) => [r.id, i]));
  for (const r of all) if (r.type === 'attempt') assert.ok(at.get(r.eventId!)! < at.get(r.id)!, `attempt ${r.id} after its event`);
  assert.ok(records.length > 0);
});

test('plain lines with a stalled reader: bounded queue, then one line per event, in order', async () => {
  const pipe = stalledPipe();
  const detach = attachPlainPrinter(view, new Chalk({ level: 0 }), pipe.out, { highWaterBytes: HIGH_WATER });
  const ids: string[] = [];
  for (let n = 0; n < EVENTS; n++) {
    ids.push((await view.deliver({ body: { eventType: 'MESSAGE.RECEIVED.SUCCESS', n } })).id);
    pipe.sample();
  }
  assert.ok(pipe.maxQueued() < HIGH_WATER + 8 * 1024, `queued ${pipe.maxQueued()} bytes`);
  pipe.resume();
  const shown = (): string[] => ids.filter((id) => pipe.text().includes(id));
  await waitUntil(() => shown().length === EVENTS, 'a line for every event');
  await detach();
  const order = pipe
    .text()
    .split('\n')
    .filter((line) => line.includes('←'))
    .map((line) => ids.find((id) => line.includes(id)));
  assert.deepEqual(order, ids);
});

test('--json catch-up reads forward in pages when the view can: every record, in order, and never one big list', async () => {
  const pipe = stalledPipe();
  const listed: number[] = [];
  const paged = Object.assign(Object.create(view) as FakeSessionView, {
    listEvents: (filter: { limit: number }) => {
      listed.push(filter.limit);
      return view.listEvents(filter);
    },
    eventsAfter: async (afterId: string | null, limit: number) => {
      const all = (await view.store.readAll()).map((stored) => stored.event);
      return all.filter((event) => afterId === null || event.id > afterId).slice(0, limit);
    },
  });
  const detach = attachJsonPrinter(paged, pipe.out, undefined, { highWaterBytes: HIGH_WATER });
  const ids: string[] = [];
  for (let n = 0; n < EVENTS; n++) {
    ids.push((await view.deliver({ body: { eventType: 'MESSAGE.SEND.SUCCESS', n, padding: 'x'.repeat(200) } })).id);
    pipe.sample();
  }
  assert.ok(pipe.maxQueued() < HIGH_WATER + 8 * 1024, `queued ${pipe.maxQueued()} bytes`);
  pipe.resume();
  const events = (): string[] =>
    pipe
      .text()
      .split('\n')
      .filter((line) => line.startsWith('{"type":"event"'))
      .map((line) => (JSON.parse(line) as { id: string }).id);
  await waitUntil(() => events().length >= EVENTS, 'every event record');
  await detach();
  assert.deepEqual(events(), ids);
  assert.deepEqual(listed, [], 'no newest-first list was read');
});

test('--json without a forward reader reads back at most maxCatchUpEvents and names the rest in a warning', async () => {
  const pipe = stalledPipe();
  const detach = attachJsonPrinter(view, pipe.out, undefined, { highWaterBytes: HIGH_WATER, maxCatchUpEvents: 500 });
  const ids: string[] = [];
  for (let n = 0; n < EVENTS; n++) ids.push((await view.deliver({ body: { eventType: 'MESSAGE.SEND.SUCCESS', n, padding: 'x'.repeat(200) } })).id);
  pipe.resume();
  const records = (): Array<{ type: string; id?: string; message?: string }> =>
    pipe
      .text()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { type: string });
  await waitUntil(() => records().some((r) => r.type === 'warning'), 'the warning');
  await waitUntil(
    () =>
      records()
        .filter((r) => r.type === 'event')
        .pop()?.id === ids[ids.length - 1],
    'the newest event',
  );
  await detach();
  const written = records()
    .filter((r) => r.type === 'event')
    .map((r) => r.id!);
  // Then what was written before the stall, then the newest 500, in order, each once
  const tail = written.slice(-500);
  assert.deepEqual(tail, ids.slice(-500));
  assert.equal(new Set(written).size, written.length);
  const warning = records().find((r) => r.type === 'warning')!;
  assert.match(warning.message!, /fell more than 500 events behind; the oldest \d+ events of that time are not repeated here/);
  const skipped = Number(/the oldest (\d+) events/.exec(warning.message!)![1]);
  assert.equal(written.length + skipped, EVENTS, 'every event is written or counted in the warning');
});
