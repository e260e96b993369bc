import assert from 'node:assert/strict';
import { appendFile, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { originalItem } from '../../src/core/export.js';
import { summarize } from '../../src/core/mftg.js';
import { buildSample } from '../../src/core/mftg-samples.js';
import { encodeFrame, FrameKind } from '../../src/core/store/frame.js';
import { EventStore, SEGMENT_MAX_EVENTS } from '../../src/core/store/store.js';
import type { CapturedEvent, ForwardAttempt } from '../../src/core/types.js';
import { bodyOf, jsonFormat, toJsonExport } from '../../src/output/export/json.js';
import { plainEvent, replayAttempt } from '../helpers/store-fixtures.js';
import { tempDir } from '../helpers/temp.js';

const event = (): CapturedEvent => plainEvent([]);

const attempt = (eventId: string, status: number): ForwardAttempt => replayAttempt(eventId, status, 4);

/** What an export needs of each stored event: id, body, attempts' statuses and the last response. */
async function shapeOf(
  stored:
    | AsyncIterable<{ event: { id: string; attempts: ForwardAttempt[] }; body: () => Promise<Buffer>; lastResponseBody: () => Promise<Buffer> }>
    | Iterable<{ event: { id: string; attempts: ForwardAttempt[] }; body: () => Promise<Buffer>; lastResponseBody: () => Promise<Buffer> }>,
): Promise<string[]> {
  const out: string[] = [];
  for await (const s of stored) out.push(`${s.event.id} ${(await s.body()).toString()} [${s.event.attempts.map((a) => a.status).join(',')}] ${(await s.lastResponseBody()).toString()}`);
  return out;
}

test('the streaming export reads what readAll reads: attempts next to, after and far from their event, after a clear', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const store = await EventStore.open(dir.path, { keep: 100_000 });
  await store.openForWriting();
  const events: CapturedEvent[] = [];
  const batch = async (n: number): Promise<CapturedEvent[]> => {
    const made = Array.from({ length: n }, () => event());
    await Promise.all(made.map((e) => store.appendEvent(e, Buffer.from(`body ${events.length + made.indexOf(e)}`))));
    events.push(...made);
    return made;
  };
  // Given a clear, then segments whose attempts lie in the event's segment, in the next one and far later
  await batch(3);
  await store.clear();
  const first = await batch(SEGMENT_MAX_EVENTS - 3);
  await store.appendAttempt(attempt(first[0]!.id, 200), Buffer.from('same'));
  const second = await batch(SEGMENT_MAX_EVENTS);
  await store.appendAttempt(attempt(first[1]!.id, 201), Buffer.from('next'));
  await batch(SEGMENT_MAX_EVENTS);
  await store.appendAttempt(attempt(first[2]!.id, 202), Buffer.from('far1'));
  await store.appendAttempt(attempt(second[0]!.id, 203), Buffer.from('far2'));
  await batch(SEGMENT_MAX_EVENTS);
  // And one written by another process into a sealed segment, one into the unsealed newest
  const names = (await readdir(join(dir.path, 'events'))).filter((name) => name.endsWith('.seg')).sort();
  const third = join(dir.path, 'events', names[2]!);
  await appendFile(third, encodeFrame(FrameKind.Attempt, 7, attempt(first[2]!.id, 204), Buffer.from('late'), (await readFile(third)).readUInt32BE(8)));
  await batch(5);
  await store.appendAttempt(attempt(first[2]!.id, 205), Buffer.from('last'));
  await store.close();
  // When the store is read both ways
  const reader = await EventStore.open(dir.path);
  const streamed = await shapeOf(reader.stream());
  const reference = await shapeOf(await reader.readAll());
  // Then they agree, event for event, oldest first, nothing before the clear, attempts in store order
  assert.deepEqual(streamed, reference);
  assert.equal(streamed.length, events.length - 3);
  assert.equal(streamed[0], `${first[0]!.id} body 3 [200] same`);
  assert.equal(streamed[1], `${first[1]!.id} body 4 [201] next`);
  assert.equal(streamed[2], `${first[2]!.id} body 5 [204,202,205] last`);
  assert.equal(streamed[SEGMENT_MAX_EVENTS - 3], `${second[0]!.id} body ${SEGMENT_MAX_EVENTS} [203] far2`);
  assert.deepEqual(reader.warnings, []);
});

test('a JSON archive writes each body once: attachment keys are in the body, not beside it', () => {
  const body = Buffer.from(JSON.stringify(buildSample('MESSAGE.RECEIVED.SUCCESS', { attachments: 3 })));
  const stored = { ...event(), size: body.length, mftg: summarize(body), attempts: [] };
  const key = (JSON.parse(body.toString()) as { attachments: string[] }).attachments[0]!;
  const text = jsonFormat.entry(originalItem(stored, body, 'http://127.0.0.1:1/tok'), 0);
  assert.equal(text.split(JSON.stringify(key).slice(1, -1)).length - 1, 1, 'the attachment key appears once');
  assert.deepEqual((JSON.parse(text.slice(1)) as { mftg: unknown }).mftg, stored.mftg);
});

test('the streamed JSON archive is byte for byte JSON.stringify(archive, null, 2): every ASCII byte, multi-byte text, U+2028, DEL, binary and empty bodies', () => {
  const ascii = Buffer.from(Array.from({ length: 128 }, (_, i) => i));
  const bodies = [
    ascii,
    Buffer.from('{"eventType":"MESSAGE.RECEIVED.SUCCESS","subject":"Grüße \\"quoted\\" \u2028 line\u2029 🚚 \u007f \t tab"}', 'utf8'),
    Buffer.from([0xff, 0xfe, 0x00, 0xc3]),
    Buffer.alloc(0),
    Buffer.from('\\\\\\"\n\r\u0000', 'utf8'),
  ];
  const items = bodies.map((body) => originalItem({ ...event(), size: body.length, mftg: summarize(body), attempts: [] }, body, 'http://127.0.0.1:1/tok?a="b"'));
  const exportedAt = new Date('2026-12-01T12:00:00.000Z');
  // When the archive is written entry by entry, as `events export` streams it
  const streamed = Buffer.concat([
    Buffer.from(jsonFormat.begin({ version: '0.0.0', exportedAt })),
    ...items.map((item, index) => Buffer.from(jsonFormat.entry(item, index))),
    Buffer.from(jsonFormat.end(items.length)),
  ]);
  // Then it is exactly what JSON.stringify writes for the whole archive
  assert.equal(streamed.toString('utf8'), JSON.stringify(toJsonExport(items, exportedAt), null, 2) + '\n');
  assert.ok(streamed.equals(Buffer.from(JSON.stringify(toJsonExport(items, exportedAt), null, 2) + '\n', 'utf8')));
  // And every body restores byte for byte
  const archive = JSON.parse(streamed.toString('utf8')) as ReturnType<typeof toJsonExport>;
  archive.events.forEach((archived, i) => assert.ok(bodyOf(archived).equals(bodies[i]!), `body ${i}`));
});
