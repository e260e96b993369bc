import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { EventStore, SEGMENT_MAX_EVENTS } from '../../src/core/store/store.js';
import type { CapturedEvent, ForwardAttempt } from '../../src/core/types.js';
import { plainEvent, replayAttempt, wipeSegment as wipe } from '../helpers/store-fixtures.js';
import { tempDir } from '../helpers/temp.js';

const event = (): CapturedEvent => plainEvent();

const attempt = (eventId: string, status: number): ForwardAttempt => replayAttempt(eventId, status);

/** Writes `segments` full segments of events through a listener's store; returns the events in order. */
async function fill(store: EventStore, segments: number): Promise<CapturedEvent[]> {
  const events: CapturedEvent[] = [];
  // One group commit per segment: a segment rolls between batches.
  for (let s = 0; s < segments; s++) {
    const batch = Array.from({ length: SEGMENT_MAX_EVENTS }, () => event());
    await Promise.all(batch.map((e, i) => store.appendEvent(e, Buffer.from(`body ${events.length + i}`))));
    events.push(...batch);
  }
  return events;
}

test('a lookup by id reads only the segments whose seals can hold the id or its attempts', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  // Given three full segments, with an attempt for the oldest event written in the newest (fourth) one
  const store = await EventStore.open(dir.path, { keep: 100_000 });
  await store.openForWriting();
  const events = await fill(store, 3);
  const oldest = events[0]!;
  await store.appendAttempt(attempt(oldest.id, 201), Buffer.from('ok'));
  await store.close();
  const names = (await readdir(join(dir.path, 'events'))).filter((name) => name.endsWith('.seg')).sort();
  // And the middle segment damaged in place (its seal still says it holds neither that id nor its attempts)
  await wipe(join(dir.path, 'events', names[1]!));
  // When the oldest event is looked up, by id and by a unique prefix
  const reader = await EventStore.open(dir.path);
  const found = await reader.getWithBody(oldest.id);
  // (ids increase: a prefix that tells the oldest from the second is unique)
  let length = 1;
  while (events[1]!.id.startsWith(oldest.id.slice(0, length))) length++;
  const byPrefix = await reader.get(oldest.id.slice(0, length));
  // Then it comes with its body and the attempt from the newest segment, and the middle one was never read
  assert.equal(found.body.toString(), 'body 0');
  assert.deepEqual(
    found.event.attempts.map((a) => a.status),
    [201],
  );
  assert.equal(byPrefix.id, oldest.id);
  assert.deepEqual(reader.warnings, []);
  // And an event of the damaged segment is reported as gone, with the damage as a warning
  await assert.rejects(reader.get(events[SEGMENT_MAX_EVENTS + 1]!.id), /no event with id/);
  assert.match(reader.warnings.join('\n'), /unreadable bytes at offset 16 of segment 00000002\.seg/);
});

test('a segment another process appended to after it was sealed is read: its attempts and its clear count', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  // Given two full segments and a reader's attempt plus a clear appended to the older, already sealed one
  const store = await EventStore.open(dir.path, { keep: 100_000 });
  await store.openForWriting();
  const events = await fill(store, 2);
  await store.close();
  const other = await EventStore.open(dir.path);
  const before = await other.get(events[5]!.id);
  assert.deepEqual(before.attempts, []);
  const names = (await readdir(join(dir.path, 'events'))).filter((name) => name.endsWith('.seg')).sort();
  // (a late replay: it picked the segment just before the listener rolled, see follow())
  const late = attempt(events[5]!.id, 202);
  const { encodeFrame, FrameKind } = await import('../../src/core/store/frame.js');
  const { readFile, appendFile } = await import('node:fs/promises');
  const first = join(dir.path, 'events', names[0]!);
  const key = (await readFile(first)).readUInt32BE(8);
  await appendFile(first, encodeFrame(FrameKind.Attempt, 7, late, Buffer.from('late'), key));
  // Then a new reader finds the late attempt though the seal did not list it
  const reader = await EventStore.open(dir.path);
  assert.deepEqual(
    (await reader.get(events[5]!.id)).attempts.map((a) => a.status),
    [202],
  );
  // And a clear appended there hides every event before it from a lookup
  await appendFile(first, encodeFrame(FrameKind.Clear, 7, { clearedAt: new Date().toISOString() }, Buffer.alloc(0), key));
  await assert.rejects((await EventStore.open(dir.path)).get(events[5]!.id), /no event with id/);
});
