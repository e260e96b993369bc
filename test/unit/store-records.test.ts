import assert from 'node:assert/strict';
import { appendFile, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { newId } from '../../src/core/ids.js';
import { encodeFrame, FrameKind } from '../../src/core/store/frame.js';
import { EventStore } from '../../src/core/store/store.js';
import type { CapturedEvent } from '../../src/core/types.js';
import { tempDir } from '../helpers/temp.js';

const event = (): CapturedEvent => ({
  id: newId(),
  receivedAt: new Date().toISOString(),
  method: 'POST',
  path: '/',
  headers: [['content-type', 'text/plain']],
  remoteAddress: '127.0.0.1',
  size: 4,
  mftg: null,
});

test('stored records are checked when read: a damaged one is skipped with a warning, missing fields read as their defaults', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  // Given a stored event
  const store = await EventStore.open(dir.path);
  await store.openForWriting();
  const good = event();
  await store.appendEvent(good, Buffer.from('body'));
  await store.close();
  // And, appended whole and with valid checksums, an event whose id is a number and an attempt of
  // an earlier shape that has only its ids and status
  const [name] = (await readdir(join(dir.path, 'events'))).filter((n) => n.endsWith('.seg'));
  const path = join(dir.path, 'events', name!);
  const key = (await readFile(path)).readUInt32BE(8);
  const damagedAt = (await stat(path)).size;
  await appendFile(path, encodeFrame(FrameKind.Event, 7, { ...event(), id: 42 }, Buffer.from('x'), key));
  const attemptId = newId();
  await appendFile(path, encodeFrame(FrameKind.Attempt, 7, { id: attemptId, eventId: good.id, status: 200 }, Buffer.alloc(0), key));
  // When a reader lists the store
  const reader = await EventStore.open(dir.path);
  const listed = await reader.list({ limit: 10 });
  // Then only the good event is there, with the attempt, its missing fields filled in
  assert.deepEqual(listed, [
    {
      ...good,
      attempts: [{ id: attemptId, eventId: good.id, status: 200, kind: 'forward', target: '', startedAt: '', error: null, durationMs: 0, responseHeaders: [], responseSize: 0, modified: false }],
    },
  ]);
  // And the damaged event is named in a warning, like a torn record
  assert.deepEqual(reader.warnings, [`skipped a damaged record at offset ${damagedAt} of segment ${name} (a malformed id)`]);
  // And every other reader agrees
  assert.deepEqual(
    (await reader.readAll()).map((stored) => stored.event.id),
    [good.id],
  );
  assert.deepEqual(
    (await reader.eventsAfter(null, 10)).map((record) => record.id),
    [good.id],
  );
});
