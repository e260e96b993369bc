import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { InspectView } from '../../src/core/inspect-view.js';
import { EventStore, SEGMENT_MAX_EVENTS } from '../../src/core/store/store.js';
import type { CapturedEvent, EventRecord, ForwardAttempt } from '../../src/core/types.js';
import { attachJsonPrinter } from '../../src/output/json-printer.js';
import { plainEvent, replayAttempt, wipeSegment as wipe } from '../helpers/store-fixtures.js';
import { stalledPipe } from '../helpers/stalled-pipe.js';
import { tempDir, waitUntil } from '../helpers/temp.js';

const event = (): CapturedEvent => plainEvent();

const attempt = (eventId: string, status: number): ForwardAttempt => replayAttempt(eventId, status);

/** Writes `count` events through a listener's store, a segment's worth per group commit; returns them in order. */
async function fill(store: EventStore, count: number): Promise<CapturedEvent[]> {
  const events: CapturedEvent[] = [];
  while (events.length < count) {
    const batch = Array.from({ length: Math.min(SEGMENT_MAX_EVENTS, count - events.length) }, () => event());
    await Promise.all(batch.map((e) => store.appendEvent(e, Buffer.from('body'))));
    events.push(...batch);
  }
  return events;
}

/** Every event, read forward `limit` at a time; also returns each page's size. */
async function pageThrough(store: EventStore, limit: number): Promise<{ records: EventRecord[]; pages: number[] }> {
  const records: EventRecord[] = [];
  const pages: number[] = [];
  let cursor: string | null = null;
  for (;;) {
    const page = await store.eventsAfter(cursor, limit);
    pages.push(page.length);
    records.push(...page);
    if (page.length < limit) return { records, pages };
    cursor = page[page.length - 1]!.id;
  }
}

test('eventsAfter pages forward through every segment: each event once, in order, with every attempt', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  // Given two and a half segments of events, an attempt written in the segment after its event's,
  // and a replay of the oldest event in the newest segment
  const store = await EventStore.open(dir.path, { keep: 100_000 });
  await store.openForWriting();
  const events = await fill(store, SEGMENT_MAX_EVENTS * 2);
  const lastOfSecond = events[events.length - 1]!;
  events.push(...(await fill(store, SEGMENT_MAX_EVENTS / 2)));
  const forward = attempt(lastOfSecond.id, 200);
  await store.appendAttempt(forward, Buffer.from('ok'));
  const replay = attempt(events[0]!.id, 202);
  await store.appendAttempt(replay, Buffer.from('ok'));
  // When a reader pages through the store 700 at a time
  const { records, pages } = await pageThrough(store, 700);
  // Then it gets every event once, oldest first, in bounded pages
  assert.deepEqual(pages, [700, 700, 700, 400]);
  assert.deepEqual(
    records.map((r) => r.id),
    events.map((e) => e.id),
  );
  // And each with its attempts, wherever they lie
  assert.deepEqual(records[0]!.attempts, [replay]);
  assert.deepEqual(records.find((r) => r.id === lastOfSecond.id)!.attempts, [forward]);
  assert.equal(
    records.reduce((n, r) => n + r.attempts.length, 0),
    2,
  );
  // And a page after the newest event is empty
  assert.deepEqual(await store.eventsAfter(events[events.length - 1]!.id, 10), []);
  assert.deepEqual(store.warnings, []);
  await store.close();
});

test('eventsAfter starts at the segment that can hold the next id: sealed segments before it are not read', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  // Given three full segments, the first and second damaged in place (their seals still describe them)
  const store = await EventStore.open(dir.path, { keep: 100_000 });
  await store.openForWriting();
  const events = await fill(store, SEGMENT_MAX_EVENTS * 3);
  await store.close();
  const names = (await readdir(join(dir.path, 'events'))).filter((name) => name.endsWith('.seg')).sort();
  for (const name of names.slice(0, 2)) await wipe(join(dir.path, 'events', name));
  // When a reader asks for the events after the last one of the second segment
  const reader = await EventStore.open(dir.path);
  const page = await reader.eventsAfter(events[SEGMENT_MAX_EVENTS * 2 - 1]!.id, 10);
  // Then it gets the first ten of the third segment, and the damaged ones were never read
  assert.deepEqual(
    page.map((r) => r.id),
    events.slice(SEGMENT_MAX_EVENTS * 2, SEGMENT_MAX_EVENTS * 2 + 10).map((e) => e.id),
  );
  assert.deepEqual(reader.warnings, []);
});

test('eventsAfter honours a clear: nothing stored before it is read back', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const store = await EventStore.open(dir.path, { keep: 100_000 });
  await store.openForWriting();
  const before = await fill(store, SEGMENT_MAX_EVENTS + 10);
  await store.clear();
  const after = await fill(store, 5);
  assert.deepEqual(
    (await store.eventsAfter(null, 100)).map((r) => r.id),
    after.map((e) => e.id),
  );
  assert.deepEqual(
    (await store.eventsAfter(before[3]!.id, 100)).map((r) => r.id),
    after.map((e) => e.id),
  );
  await store.close();
});

test('--json on inspect with a stalled reader: more events than a newest-first read-back holds, every record once, in order', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  // Given `inspect --json` on a store whose output stalls, with a read-back limit of 100
  const view = await InspectView.open({ storeDir: dir.path });
  t.after(() => view.close());
  const pipe = stalledPipe();
  const detach = attachJsonPrinter(view, pipe.out, undefined, { highWaterBytes: 4 * 1024, maxCatchUpEvents: 100 });
  // When a listener stores 1,500 events (every 100th forwarded) while nobody reads
  const writer = await EventStore.open(dir.path, { keep: 100_000 });
  await writer.openForWriting();
  const ids: string[] = [];
  const attempts: string[] = [];
  for (let n = 0; n < 15; n++) {
    const batch = await fill(writer, 100);
    ids.push(...batch.map((e) => e.id));
    const forwarded = attempt(batch[0]!.id, 200);
    await writer.appendAttempt(forwarded, Buffer.from('ok'));
    attempts.push(forwarded.id);
  }
  const records = (): Array<{ type: string; id: string; eventId?: string }> =>
    pipe
      .text()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { type: string; id: string });
  // (the inspector has seen them all: its output is lagging)
  await waitUntil(() => view.stats.attempts.ok === attempts.length, 'the inspector following every attempt');
  // And the reader resumes
  pipe.resume();
  await waitUntil(() => records().filter((r) => r.type === 'event').length >= ids.length, 'every event record');
  await detach();
  await writer.close();
  // Then every event arrives once, in arrival order, each attempt once after its event, and nothing is called lost
  const all = records();
  assert.deepEqual(
    all.filter((r) => r.type === 'event').map((r) => r.id),
    ids,
  );
  assert.deepEqual(
    all.filter((r) => r.type === 'attempt').map((r) => r.id),
    attempts,
  );
  const at = new Map(all.map((r, i) => [r.id, i]));
  for (const r of all) if (r.type === 'attempt') assert.ok(at.get(r.eventId!)! < at.get(r.id)!, `attempt ${r.id} after its event`);
  assert.deepEqual(
    all.filter((r) => r.type === 'warning'),
    [],
  );
});
