import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { SessionElement } from '../../src/core/session.js';
import { attachJsonPrinter, JSON_BATCH_MS } from '../../src/output/json-printer.js';
import type { CatchUpView } from '../../src/live/lagging-output.js';

/** A view with no stored history: these tests drive the stream alone. */
const streamOnly = (subscribe: (listener: (element: SessionElement) => void) => () => void): CatchUpView => ({
  subscribe,
  listEvents: async () => [],
  getEvent: async (id: string) => {
    throw new Error(`no event ${id}`);
  },
});

function harness() {
  const writes: string[] = [];
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      writes.push(chunk.toString());
      done();
    },
  });
  let listener: ((element: SessionElement) => void) | null = null;
  let clock = 1_000;
  const detach = attachJsonPrinter(
    streamOnly((l) => ((listener = l), () => (listener = null))),
    out,
    () => clock,
  );
  const warn = (message: string): void => listener!({ type: 'warning', message });
  const lines = (): string[] =>
    writes
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => (JSON.parse(line) as { message: string }).message);
  return { writes, warn, lines, detach, advance: (ms: number) => (clock += ms) };
}

test('records of one turn go out in one write, at once after a quiet spell', async () => {
  const { writes, warn } = harness();
  warn('a');
  warn('b');
  warn('c');
  assert.equal(writes.length, 0, 'nothing is written inside the turn');
  await nextTurn();
  assert.deepEqual(writes, ['{"type":"warning","message":"a"}\n{"type":"warning","message":"b"}\n{"type":"warning","message":"c"}\n']);
});

test('one record at a time goes out at once, each in its own write', async () => {
  const { writes, warn, lines, advance } = harness();
  for (const message of ['event', 'attempt', 'next event']) {
    warn(message);
    await nextTurn();
    advance(0.3);
  }
  assert.equal(writes.length, 3);
  assert.deepEqual(lines(), ['event', 'attempt', 'next event']);
});

test('after a write of several records, the next ones are gathered for up to JSON_BATCH_MS', async (t) => {
  // The printer's batch timer runs on a mocked clock: the test decides when the time has passed.
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { writes, warn, lines, advance } = harness();
  warn('a');
  warn('b');
  await nextTurn();
  assert.equal(writes.length, 1);
  // Given more records soon after that write
  advance(1);
  warn('c');
  await nextTurn();
  warn('d');
  await nextTurn();
  assert.equal(writes.length, 1, 'held back: records are coming fast and the last write was 1 ms ago');
  // Then they wait until the batch time since that write has passed, and go out together
  t.mock.timers.tick(JSON_BATCH_MS - 2);
  await nextTurn();
  assert.equal(writes.length, 1, 'still held back 1 ms before the batch time is up');
  advance(JSON_BATCH_MS);
  t.mock.timers.tick(1);
  await nextTurn();
  assert.equal(writes.length, 2);
  assert.deepEqual(lines(), ['a', 'b', 'c', 'd']);
});

test('detaching writes what is still gathered', async () => {
  const { writes, warn, lines, detach, advance } = harness();
  warn('a');
  warn('b');
  await nextTurn();
  advance(1);
  warn('pending');
  await nextTurn();
  assert.equal(writes.length, 1);
  await detach();
  assert.equal(writes.length, 2);
  assert.deepEqual(lines(), ['a', 'b', 'pending']);
});

test('captured text with escape sequences and C1 controls stays escaped in --json', async () => {
  const writes: string[] = [];
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      writes.push(chunk.toString());
      done();
    },
  });
  let listener: ((element: SessionElement) => void) | null = null;
  const detach = attachJsonPrinter(
    streamOnly((l) => ((listener = l), () => (listener = null))),
    out,
  );
  // Given an event whose eventType, path and message id carry OSC 52, a screen clear, and a C1 CSI
  const nasty = '\u001b]52;c;aGk=\u0007\u001b[2J\u009b31m\u007f\u202e';
  const mftg = { eventType: `X${nasty}`, messageId: `<m${nasty}>`, partner: null, partnerName: null, station: null, stationName: null, subject: null, failureReason: null, failures: null };
  listener!({
    type: 'event',
    foreign: false,
    event: { id: '01abcdefghjkmn', receivedAt: '2026-01-01T00:00:00.000Z', method: 'POST', path: `/p${nasty}`, headers: [], remoteAddress: null, size: 1, mftg },
  });
  await nextTurn();
  await detach();
  const text = writes.join('');
  // Then no control character reaches stdout raw: every one is a JSON \u escape
  assert.equal(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/.test(text), false, JSON.stringify(text));
  assert.ok(text.includes('\\u001b]52;c;aGk=\\u0007\\u001b[2J\\u009b31m\\u007f\\u202e'));
  // And the record still parses to the exact captured strings
  const record = JSON.parse(text) as { eventType: string; messageId: string; path: string };
  assert.deepEqual([record.eventType, record.messageId, record.path], [`X${nasty}`, `<m${nasty}>`, `/p${nasty}`]);
});
