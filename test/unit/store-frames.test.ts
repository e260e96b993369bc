import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { crc32 } from 'node:zlib';
import { newId } from '../../src/core/ids.js';
import { EventStore } from '../../src/core/store/store.js';
import { jsonEvent as event } from '../helpers/store-fixtures.js';
import { tempDir } from '../helpers/temp.js';

// Frames are built by hand here, byte by byte, the way someone who read the source would forge them:
// the test does not depend on the store's own encoder.

const KIND = { event: 1, attempt: 2, clear: 3 } as const;

/** A frame of the first format: "MFH1" | kind | 3 | writer | metaLen | bodyLen | crc32(meta+body) … frameLen | "MFT1". */
function legacyFrame(kind: number, meta: unknown, body: Buffer = Buffer.alloc(0)): Buffer {
  const metaBytes = Buffer.from(JSON.stringify(meta));
  const frame = Buffer.alloc(32 + metaBytes.length + body.length);
  frame.write('MFH1', 0, 'latin1');
  frame[4] = kind;
  frame.writeUInt32BE(0x0bad, 8);
  frame.writeUInt32BE(metaBytes.length, 12);
  frame.writeUInt32BE(body.length, 16);
  metaBytes.copy(frame, 24);
  body.copy(frame, 24 + metaBytes.length);
  const metaCrc = crc32(metaBytes);
  frame.writeUInt32BE((body.length === 0 ? metaCrc : crc32(body, metaCrc)) >>> 0, 20);
  frame.writeUInt32BE(frame.length, frame.length - 8);
  frame.write('MFT1', frame.length - 4, 'latin1');
  return frame;
}

/** A frame of the current format, checksummed with a key the forger had to guess. */
function guessedFrame(kind: number, meta: unknown, body: Buffer = Buffer.alloc(0), key = 0): Buffer {
  const metaBytes = Buffer.from(JSON.stringify(meta));
  const frame = Buffer.alloc(32 + metaBytes.length + body.length);
  frame.write('MFH2', 0, 'latin1');
  frame[8] = kind;
  frame.writeUInt32BE(0x0bad, 12);
  frame.writeUInt32BE(metaBytes.length, 16);
  frame.writeUInt32BE(body.length, 20);
  metaBytes.copy(frame, 24);
  body.copy(frame, 24 + metaBytes.length);
  frame.writeUInt32BE(crc32(frame.subarray(8, 24 + metaBytes.length + body.length), key) >>> 0, 4);
  frame.writeUInt32BE(frame.length, frame.length - 8);
  frame.write('MFT2', frame.length - 4, 'latin1');
  return frame;
}

/** A request body that carries a "clear" and a forged event (remote 6.6.6.6) in every format a forger could try. */
function poisonedBody(): { body: Buffer; forgedIds: string[] } {
  const forged = [event({ remoteAddress: '6.6.6.6' }), event({ remoteAddress: '6.6.6.6' }), event({ remoteAddress: '6.6.6.6' })];
  const clear = { clearedAt: new Date().toISOString() };
  const body = Buffer.concat([
    Buffer.from('{"eventType":"MESSAGE.RECEIVED.SUCCESS","note":"'),
    legacyFrame(KIND.clear, clear),
    legacyFrame(KIND.event, forged[0], Buffer.from('forged')),
    guessedFrame(KIND.clear, clear),
    guessedFrame(KIND.event, forged[1], Buffer.from('forged')),
    guessedFrame(KIND.clear, clear, Buffer.alloc(0), 0xffffffff),
    guessedFrame(KIND.event, forged[2], Buffer.from('forged'), 0xffffffff),
    Buffer.from('"}'),
  ]);
  return { body, forgedIds: forged.map((e) => e.id) };
}

async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(join(dir, 'events'))).filter((name) => name.endsWith('.seg')).sort();
}

test('a torn event whose body carries frame-shaped bytes never shows them: the real events stay, also after a restart', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  // Given 50 real events, then an event whose body embeds a "clear" and forged events
  const store = await EventStore.open(dir.path);
  await store.openForWriting();
  const real: string[] = [];
  for (let i = 0; i < 50; i++) {
    const e = event();
    real.push(e.id);
    await store.appendEvent(e, Buffer.from(`{"n":${i}}`));
  }
  const { body, forgedIds } = poisonedBody();
  const carrier = event({ size: body.length });
  await store.appendEvent(carrier, body);
  await store.close();
  // When its frame is torn right after the embedded frames (what a crash or a short write leaves)
  const [segment] = await segmentFiles(dir.path);
  const path = join(dir.path, 'events', segment!);
  await truncate(path, (await stat(path)).size - 10);
  // Then a reader lists the 50 real events and nothing forged
  const reader = await EventStore.open(dir.path);
  const listed = await reader.list({ limit: 100 });
  assert.deepEqual(
    listed.map((e) => e.id),
    real,
  );
  assert.ok(!listed.some((e) => e.remoteAddress === '6.6.6.6'));
  for (const id of forgedIds) await assert.rejects(reader.get(id), { code: 'E_EVENT_NOT_FOUND' });
  assert.match(reader.warnings.join('\n'), /torn or corrupt/);
  assert.equal((await reader.readAll()).length, 50);
  // And after a restart (a new listener writes on) the same holds, with the new event after them
  const restarted = await EventStore.open(dir.path);
  await restarted.openForWriting();
  const later = event();
  await restarted.appendEvent(later, Buffer.from('after'));
  assert.deepEqual(
    (await restarted.list({ limit: 100 })).map((e) => e.id),
    [...real, later.id],
  );
  assert.deepEqual(
    (await restarted.readAll()).map((s) => s.event.id),
    [...real, later.id],
  );
  await restarted.close();
});

test('damage in the middle of a segment costs only the damaged record, even when its length field is hit', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const store = await EventStore.open(dir.path);
  await store.openForWriting();
  const { body } = poisonedBody();
  // Given: a plain event, an event carrying frame-shaped bytes, and a plain event after it
  const events = [event(), event({ size: body.length }), event()];
  await store.appendEvent(events[0]!, Buffer.from('first'));
  await store.appendEvent(events[1]!, body);
  await store.appendEvent(events[2]!, Buffer.from('third'));
  await store.close();
  // When the carrier's header says it is 1 byte long (a damaged length field): the reader must
  // resynchronise, and the first frame magic it meets is inside the carrier's body
  const path = join(dir.path, 'events', (await segmentFiles(dir.path))[0]!);
  const bytes = await readFile(path);
  const carrierAt = bytes.indexOf(Buffer.from(events[1]!.id)) - 1;
  const headerAt = bytes.lastIndexOf(Buffer.from('MFH'), carrierAt);
  assert.ok(headerAt > 0);
  for (let i = 16; i < 24; i++) bytes[headerAt + i] = i === 23 ? 1 : 0;
  await writeFile(path, bytes);
  // Then only the damaged record is lost
  const reader = await EventStore.open(dir.path);
  const listed = await reader.list({ limit: 10 });
  assert.deepEqual(
    listed.map((e) => e.id),
    [events[0]!.id, events[2]!.id],
  );
  assert.equal((await reader.getWithBody(events[2]!.id)).body.toString(), 'third');
});

test('stores written in the first format stay readable, and a listener continues in a new segment', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  // Given a store written by the previous version: one segment of format-1 frames
  const events = [event(), event({ size: 4 }), event()];
  const attempt = {
    id: newId(),
    eventId: events[1]!.id,
    kind: 'forward',
    target: 'http://127.0.0.1:1/hook',
    startedAt: new Date().toISOString(),
    status: 204,
    error: null,
    durationMs: 1,
    responseHeaders: [],
    responseSize: 2,
    modified: false,
  };
  await mkdir(join(dir.path, 'events'), { recursive: true, mode: 0o700 });
  await writeFile(
    join(dir.path, 'events', '00000001.seg'),
    Buffer.concat([
      legacyFrame(KIND.event, events[0], Buffer.from('one')),
      legacyFrame(KIND.event, events[1], Buffer.from([0, 1, 2, 255])),
      legacyFrame(KIND.attempt, attempt, Buffer.from('ok')),
      legacyFrame(KIND.event, events[2]),
    ]),
    { mode: 0o600 },
  );
  // When this version reads it
  const reader = await EventStore.open(dir.path);
  const listed = await reader.list({ limit: 10 });
  // Then every event, attempt and body is there
  assert.deepEqual(
    listed.map((e) => e.id),
    events.map((e) => e.id),
  );
  assert.deepEqual(
    listed[1]!.attempts.map((a) => a.status),
    [204],
  );
  assert.deepEqual([...(await reader.getWithBody(events[1]!.id)).body], [0, 1, 2, 255]);
  assert.equal((await reader.attemptBody(events[1]!.id, attempt.id)).toString(), 'ok');
  assert.deepEqual(reader.warnings, []);
  // And a replay in another terminal can add to it before the listener is upgraded
  const replayer = await EventStore.open(dir.path);
  await replayer.appendAttempt({ ...attempt, id: newId(), kind: 'replay', status: 202 }, Buffer.from('again'));
  assert.deepEqual(
    (await reader.list({ limit: 10 }))[1]!.attempts.map((a) => a.status),
    [204, 202],
  );
  // And a listener of this version writes into a new segment, never after the old frames
  const writer = await EventStore.open(dir.path);
  await writer.openForWriting();
  const fresh = event();
  await writer.appendEvent(fresh, Buffer.from('new'));
  assert.deepEqual(await segmentFiles(dir.path), ['00000001.seg', '00000002.seg']);
  assert.deepEqual(
    (await writer.list({ limit: 10 })).map((e) => e.id),
    [...events.map((e) => e.id), fresh.id],
  );
  await writer.close();
});

test('in a first-format segment, nothing after a torn record is trusted: frame-shaped body bytes stay hidden', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  // Given an old store whose last frame is torn and whose body carries forged frames
  const real = [event(), event()];
  const { body, forgedIds } = poisonedBody();
  const carrier = legacyFrame(KIND.event, event({ size: body.length }), body);
  await mkdir(join(dir.path, 'events'), { recursive: true, mode: 0o700 });
  await writeFile(
    join(dir.path, 'events', '00000001.seg'),
    Buffer.concat([legacyFrame(KIND.event, real[0], Buffer.from('a')), legacyFrame(KIND.event, real[1], Buffer.from('b')), carrier.subarray(0, carrier.length - 10)]),
  );
  // And a damaged record with an intact length in the middle of another old segment
  const middle = [event(), event(), event()];
  const damaged = legacyFrame(KIND.event, middle[1], Buffer.from('flipped'));
  damaged[damaged.length - 12] ^= 0xff;
  await writeFile(join(dir.path, 'events', '00000002.seg'), Buffer.concat([legacyFrame(KIND.event, middle[0]), damaged, legacyFrame(KIND.event, middle[2])]));
  // When it is read
  const reader = await EventStore.open(dir.path);
  const listed = await reader.list({ limit: 10 });
  // Then the real events are there, the forged ones are not, and the intact neighbour survives
  assert.deepEqual(
    listed.map((e) => e.id),
    [real[0]!.id, real[1]!.id, middle[0]!.id, middle[2]!.id],
  );
  for (const id of forgedIds) await assert.rejects(reader.get(id), { code: 'E_EVENT_NOT_FOUND' });
});
