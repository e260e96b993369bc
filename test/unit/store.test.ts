import assert from 'node:assert/strict';
import { appendFile, readdir, readFile, stat } from 'node:fs/promises';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeHeader, encodeFrame, frameChecksum, FrameKind, HEADER_SIZE } from '../../src/core/store/frame.js';
import { EventStore, SEGMENT_MAX_EVENTS } from '../../src/core/store/store.js';
import { allBytes } from '../fixtures/mftg-payloads.js';
import { jsonEvent as event, storedAttempt as attempt } from '../helpers/store-fixtures.js';
import { tempDir, waitUntil } from '../helpers/temp.js';

/** The key a segment's frames are checksummed with (bytes 8–11 of its header). */
async function segmentKey(path: string): Promise<number> {
  return (await readFile(path)).readUInt32BE(8);
}

test('bodies come back byte for byte, attempts attach to their event, files are private', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  // Given a store with a binary event and an empty one
  const store = await EventStore.open(dir.path);
  await store.openForWriting();
  const binary = event({ size: allBytes.length });
  const empty = event();
  await store.appendEvent(binary, allBytes);
  await store.appendEvent(empty, Buffer.alloc(0));
  await store.appendAttempt(attempt(binary.id, 502), Buffer.from('bad gateway'));
  await store.appendAttempt(attempt(binary.id, 200), Buffer.from('ok'));
  // When it is read back by a second store instance (another process would do the same)
  const reader = await EventStore.open(dir.path);
  const listed = await reader.list({ limit: 50 });
  const { body } = await reader.getWithBody(binary.id);
  // Then
  assert.deepEqual(
    listed.map((e) => e.id),
    [binary.id, empty.id],
  );
  assert.deepEqual(
    listed[0]!.attempts.map((a) => a.status),
    [502, 200],
  );
  assert.ok(body.equals(allBytes));
  assert.equal((await reader.getWithBody(empty.id)).body.length, 0);
  assert.equal((await stat(dir.path)).mode & 0o777, 0o700);
  const segments = join(dir.path, 'events');
  for (const name of await readdir(segments)) assert.equal((await stat(join(segments, name))).mode & 0o077, 0, name);
  await store.close();
});

test('ids are found by unique prefix; ambiguous and unknown prefixes are clear errors', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const store = await EventStore.open(dir.path);
  await store.openForWriting();
  const a = event({ id: '01aaaaaaaa0001' });
  const b = event({ id: '01aaaaaaaa0002' });
  await store.appendEvent(a, Buffer.from('a'));
  await store.appendEvent(b, Buffer.from('b'));
  assert.equal((await store.get('01aaaaaaaa0002')).id, b.id);
  assert.equal((await store.get('01AAAAAAAA0001')).id, a.id);
  await assert.rejects(store.get('01aaaa'), { code: 'E_AMBIGUOUS_ID' });
  await assert.rejects(store.get('zz'), { code: 'E_EVENT_NOT_FOUND' });
  await store.close();
});

test('a torn last record is skipped with a warning and the next writer starts a fresh segment', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  // Given two stored events and half a frame appended after them (a crash mid-write)
  const store = await EventStore.open(dir.path);
  await store.openForWriting();
  const first = event();
  const second = event();
  await store.appendEvent(first, Buffer.from('one'));
  await store.appendEvent(second, Buffer.from('two'));
  await store.close();
  const segment = join(dir.path, 'events', '00000001.seg');
  const frame = encodeFrame(FrameKind.Event, 1, event(), Buffer.from('three, never finished'), await segmentKey(segment));
  await appendFile(segment, frame.subarray(0, frame.length - 11));
  // When a reader lists and a new listener opens it
  const reader = await EventStore.open(dir.path);
  const listed = await reader.list({ limit: 10 });
  const writer = await EventStore.open(dir.path);
  await writer.openForWriting();
  const third = event();
  await writer.appendEvent(third, Buffer.from('after the crash'));
  // Then the complete events survive, the torn one is reported, new events land after it
  assert.deepEqual(
    listed.map((e) => e.id),
    [first.id, second.id],
  );
  assert.match(reader.warnings.join('\n'), /torn or corrupt/);
  assert.match(writer.warnings.join('\n'), /torn or corrupt/);
  assert.deepEqual(
    (await writer.list({ limit: 10 })).map((e) => e.id),
    [first.id, second.id, third.id],
  );
  assert.deepEqual(await readdir(join(dir.path, 'events')).then((names) => names.filter((n) => n.endsWith('.seg')).sort()), ['00000001.seg', '00000002.seg']);
  // And a running listener hears of warnings as they are found: the ones so far at once, later ones live
  const heard: string[] = [];
  writer.onWarning((message) => heard.push(message));
  const earlier = heard.length;
  assert.ok(earlier >= 1);
  await writer.list({ limit: 10 });
  assert.equal(heard.length, earlier + 1);
  assert.match(heard[earlier]!, /torn or corrupt/);
  assert.deepEqual(writer.warnings, [], 'nothing piles up once someone listens');
  await writer.close();
});

test('corruption in the middle of a segment costs only the damaged record', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const store = await EventStore.open(dir.path);
  await store.openForWriting();
  const events = [event(), event(), event()];
  for (const e of events) await store.appendEvent(e, Buffer.from(`body of ${e.id}`));
  await store.close();
  // Flip a byte inside the second record's body
  const path = join(dir.path, 'events', '00000001.seg');
  const { readFile, writeFile } = await import('node:fs/promises');
  const bytes = await readFile(path);
  const at = bytes.indexOf(Buffer.from(`body of ${events[1]!.id}`));
  bytes[at] ^= 0xff;
  await writeFile(path, bytes);
  const reader = await EventStore.open(dir.path);
  assert.deepEqual(
    (await reader.list({ limit: 10 })).map((e) => e.id),
    [events[0]!.id, events[2]!.id],
  );
  assert.equal(reader.warnings.length, 1);
});

test('retention keeps the newest events and deletes whole old segments', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const keep = 1_000;
  const store = await EventStore.open(dir.path, { keep });
  await store.openForWriting();
  const ids: string[] = [];
  const total = SEGMENT_MAX_EVENTS * 3 + 10;
  for (let i = 0; i < total; i++) {
    const e = event();
    ids.push(e.id);
    await store.appendEvent(e, Buffer.from(String(i)));
  }
  // Retention runs in the background after each new segment; close() waits for it
  await store.close();
  const all = await (await EventStore.open(dir.path)).list({ limit: total });
  assert.ok(all.length >= keep, `kept ${all.length}`);
  assert.ok(all.length <= keep + SEGMENT_MAX_EVENTS + 10, `kept ${all.length}`);
  assert.deepEqual(
    all.map((e) => e.id),
    ids.slice(ids.length - all.length),
  );
});

test('a follower reports what another process appended to a segment this one has already sealed, and nothing of its own', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const listener = await EventStore.open(dir.path);
  await listener.openForWriting();
  const first = event();
  await listener.appendEvent(first, Buffer.from('x'));
  const seen: string[] = [];
  // (The follower looks when the test says: the first look comes after the writes below, all in one batch, and the foreign append.)
  let look: () => Promise<void> = async () => undefined;
  const stop = await listener.follow(
    (record) => seen.push(record.kind === 'attempt' ? `attempt:${record.attempt.status}` : record.kind),
    (next) => {
      look = next;
      return () => undefined;
    },
  );
  t.after(stop);
  // Given the listener fills its segment and moves on to the next one
  await Promise.all(Array.from({ length: SEGMENT_MAX_EVENTS + 5 }, (_, i) => listener.appendEvent(event(), Buffer.from(String(i)))));
  const segments = (await readdir(join(dir.path, 'events'))).filter((name) => name.endsWith('.seg')).sort();
  assert.equal(segments.length, 2);
  // When a replay that picked the older segment just before the roll appends its attempt there
  const foreignWriter = 0x5eed;
  const sealed = join(dir.path, 'events', segments[0]!);
  const key = await segmentKey(sealed);
  await appendFile(sealed, encodeFrame(FrameKind.Attempt, foreignWriter, attempt(first.id, 299), Buffer.from('late'), key));
  // Then the follower reports it, and none of the listener's own frames
  await look();
  assert.deepEqual(seen, ['attempt:299']);
  // And an attempt that lands there after the follower has moved on to the new segment is reported too, once
  await appendFile(sealed, encodeFrame(FrameKind.Attempt, foreignWriter, attempt(first.id, 298), Buffer.alloc(0), key));
  await look();
  assert.deepEqual(seen, ['attempt:299', 'attempt:298']);
  // (and looking again reports nothing twice)
  await look();
  await look();
  assert.deepEqual(seen, ['attempt:299', 'attempt:298']);
  await listener.close();
});

test('a listener follows attempts and clears written by another process; clear hides older events', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const listener = await EventStore.open(dir.path);
  await listener.openForWriting();
  const e = event();
  await listener.appendEvent(e, Buffer.from('x'));
  const seen: string[] = [];
  // Given a follower, when another process appends an attempt and clears
  const stop = await listener.follow((record) => seen.push(record.kind === 'attempt' ? `attempt:${record.attempt.status}` : record.kind), 20);
  t.after(stop);
  const other = await EventStore.open(dir.path);
  await other.appendAttempt(attempt(e.id, 201), Buffer.alloc(0));
  await waitUntil(() => seen.includes('attempt:201'), 'the foreign attempt');
  await other.clear();
  await waitUntil(() => seen.includes('clear'), 'the clear marker');
  // Then nothing before the marker is listed, and new events after it are
  assert.deepEqual(await other.list({ limit: 10 }), []);
  const after = event();
  await listener.appendEvent(after, Buffer.from('y'));
  assert.deepEqual(
    (await other.list({ limit: 10 })).map((x) => x.id),
    [after.id],
  );
  assert.ok(!seen.includes('event'), 'own events are not reported as foreign');
  await listener.close();
});

test('list filters by eventType and by failed last attempt', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const store = await EventStore.open(dir.path);
  await store.openForWriting();
  const summary = (eventType: string) => ({ eventType, messageId: '<m@x>', partner: 'P', partnerName: null, station: 'S', stationName: null, subject: null, failureReason: null, failures: null });
  const ok = event({ mftg: summary('MESSAGE.SEND.SUCCESS') });
  const failed = event({ mftg: summary('MESSAGE.SEND.FAILED') });
  const recovered = event({ mftg: summary('MESSAGE.SEND.FAILED') });
  for (const e of [ok, failed, recovered]) await store.appendEvent(e, Buffer.from('{}'));
  await store.appendAttempt(attempt(ok.id, 200), Buffer.alloc(0));
  await store.appendAttempt(attempt(failed.id, null), Buffer.alloc(0));
  await store.appendAttempt(attempt(recovered.id, 500), Buffer.alloc(0));
  await store.appendAttempt(attempt(recovered.id, 200), Buffer.alloc(0));
  assert.deepEqual(
    (await store.list({ limit: 10, eventType: 'MESSAGE.SEND.FAILED' })).map((e) => e.id),
    [failed.id, recovered.id],
  );
  assert.deepEqual(
    (await store.list({ limit: 10, failed: true })).map((e) => e.id),
    [failed.id],
  );
  assert.deepEqual(
    (await store.list({ limit: 1 })).map((e) => e.id),
    [recovered.id],
  );
  await store.close();
});

test('frames encoded back to back keep their own bytes, across many shared allocation slabs', () => {
  // Sizes from empty to 100 KiB (those get their own buffer), ~6 MiB in all
  const frames: Array<{ frame: Buffer; meta: Record<string, unknown>; body: Buffer }> = [];
  for (let i = 0; i < 3_000; i++) {
    const size = i % 97 === 0 ? 100 * 1024 : (i * 37) % 3_000;
    const body = Buffer.alloc(size, i % 251);
    const meta = { i, text: 'é'.repeat(i % 5) };
    frames.push({ frame: encodeFrame(FrameKind.Event, 7, meta, body, 0xfeedf00d), meta, body });
  }
  for (const { frame, meta, body } of frames) {
    const header = decodeHeader(frame);
    assert.ok(header);
    assert.equal(header.frameLength, frame.length);
    assert.equal(frameChecksum(frame, header, 0, 0xfeedf00d), header.crc);
    assert.notEqual(frameChecksum(frame, header, 0, 0xfeedf00e), header.crc, 'the checksum depends on the key');
    assert.deepEqual(JSON.parse(frame.toString('utf8', HEADER_SIZE, HEADER_SIZE + header.metaLength)), meta);
    assert.ok(frame.subarray(HEADER_SIZE + header.metaLength, HEADER_SIZE + header.metaLength + header.bodyLength).equals(body));
  }
});

test('group commit: the first frame of a turn is in the segment at once, the frames after it at the end of the turn', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const store = await EventStore.open(dir.path);
  t.after(() => store.close());
  await store.openForWriting();
  await new Promise((resolve) => setImmediate(resolve));
  const before = segmentBytesNow(dir.path);
  // When one event is appended, and four more in the same turn
  const lone = store.appendEvent(event({ size: 1 }), Buffer.from('a'));
  const afterLone = segmentBytesNow(dir.path);
  const burst = [2, 3, 4, 5].map((n) => store.appendEvent(event({ size: 1 }), Buffer.from(String(n))));
  const afterBurst = segmentBytesNow(dir.path);
  // Then the lone one was written before the turn ended, the others are gathered for its end
  assert.ok(afterLone > before, 'the first frame is written at once');
  assert.equal(afterBurst, afterLone, 'the frames after it wait for the end of the turn');
  await Promise.all([lone, ...burst]);
  assert.ok(segmentBytesNow(dir.path) > afterBurst, 'and then go out together');
  assert.equal((await store.list({ limit: 10 })).length, 5);
});

/** The segments' size, read synchronously: what is in the files before this turn of the event loop ends. */
function segmentBytesNow(storeDir: string): number {
  const events = join(storeDir, 'events');
  let total = 0;
  for (const name of readdirSync(events)) if (name.endsWith('.seg')) total += statSync(join(events, name)).size;
  return total;
}
