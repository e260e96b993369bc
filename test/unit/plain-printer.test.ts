import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { Chalk } from 'chalk';
import { emptyStats, type SessionElement } from '../../src/core/session.js';
import type { CapturedEvent, ForwardAttempt } from '../../src/core/types.js';
import { attachPlainPrinter, retryText } from '../../src/output/plain-printer.js';
import type { CatchUpView } from '../../src/live/lagging-output.js';

/** A view with no stored history: these tests drive the stream alone. */
const streamOnly = (subscribe: (listener: (element: SessionElement) => void) => () => void): CatchUpView => ({
  subscribe,
  listEvents: async () => [],
  getEvent: async (id: string) => {
    throw new Error(`no event ${id}`);
  },
});

function printer() {
  let text = '';
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  let listener: ((element: SessionElement) => void) | null = null;
  attachPlainPrinter(
    streamOnly((l) => ((listener = l), () => (listener = null))),
    new Chalk({ level: 0 }),
    out,
  );
  return { send: (element: SessionElement) => listener!(element), text: () => text, lines: () => text.split('\n').filter(Boolean) };
}

const NASTY = '\u001b]52;c;aGk=\u0007\u001b[2J\u009b31m';
const ESCAPED = '\\e]52;c;aGk=\\x07\\e[2J\\x9b31m';
const RAW_CONTROLS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

const event = (overrides: Partial<CapturedEvent> = {}): CapturedEvent => ({
  id: '01abcdefghjkmn',
  receivedAt: '2026-01-01T00:00:00.000Z',
  method: 'POST',
  path: '/',
  headers: [],
  remoteAddress: null,
  size: 3,
  mftg: { eventType: 'MESSAGE.SEND.SUCCESS', messageId: '<m@x>', partner: 'P', partnerName: null, station: 'S', stationName: null, subject: null, failureReason: null, failures: null },
  ...overrides,
});
const attempt = (overrides: Partial<ForwardAttempt> = {}): ForwardAttempt => ({
  id: '01abcdefghjkmp',
  eventId: '01abcdefghjkmn',
  kind: 'forward',
  target: 'http://127.0.0.1:3000/hook',
  startedAt: '2026-01-01T00:00:00.000Z',
  status: 200,
  error: null,
  durationMs: 3,
  responseHeaders: [],
  responseSize: 0,
  modified: false,
  ...overrides,
});
const ready: SessionElement = { type: 'ready', localUrl: 'http://127.0.0.1:1/t', store: '/tmp/s', forwardTo: 'http://localhsot:3000/hook', routes: {} };

test('captured text from the network is escaped: eventType, path, message id, parties, targets, rejected paths', () => {
  const p = printer();
  // Given captured fields carrying OSC 52 (clipboard), a screen clear and a C1 CSI
  const mftg = { ...event().mftg!, eventType: `T${NASTY}`, messageId: `<m${NASTY}>`, partner: `P${NASTY}` };
  p.send({ type: 'event', foreign: false, event: event({ mftg }) });
  p.send({ type: 'event', foreign: false, event: event({ mftg: null, path: `/x${NASTY}` }) });
  p.send({ type: 'attempt', foreign: false, attempt: attempt({ target: `http://127.0.0.1:3000/hook/x${NASTY}`, status: 302, responseHeaders: [['location', `/y${NASTY}`]] }) });
  p.send({ type: 'rejected', reason: 'not-found', path: `/nope${NASTY}`, detail: null });
  p.send({ type: 'warning', message: `odd ${NASTY}` });
  // Then nothing raw reaches the terminal, and each field shows escaped
  assert.equal(RAW_CONTROLS.test(p.text()), false, JSON.stringify(p.text()));
  const [typed, pathOnly, tried, rejected, warned] = p.lines();
  assert.ok(typed!.includes(`T${ESCAPED}`) && typed!.includes(`<m${ESCAPED}>`) && typed!.includes(`S → P${ESCAPED}`), typed);
  assert.ok(pathOnly!.includes(`POST /x${ESCAPED}`), pathOnly);
  assert.ok(tried!.includes(`302 → /y${ESCAPED}`) && tried!.includes(`/hook/x${ESCAPED}`), tried);
  assert.ok(rejected!.includes(`/nope${ESCAPED}`), rejected);
  assert.ok(warned!.includes(`odd ${ESCAPED}`), warned);
});

test('a scheduled retry reads "retry 2/3 in 4s"', () => {
  assert.equal(retryText({ state: 'retry-scheduled', retry: 2, of: 3, at: 14_000 }, 10_000), 'retry 2/3 in 4s');
  assert.equal(retryText({ state: 'retry-scheduled', retry: 1, of: 3, at: 10_100 }, 10_000), 'retry 1/3 in 0.1s');
  const p = printer();
  p.send({ type: 'pending', eventId: '01abcdefghjkmn', pending: { state: 'retry-scheduled', retry: 1, of: 3, at: Date.now() + 30_000 } });
  assert.match(p.lines()[0]!, /^ +01abcdefghjkmn {2}retry 1\/3 in (30|29)s$/);
});

test('a handler that never answered is "does not answer"; "to answer again" only after it answered; said once per outage', () => {
  const p = printer();
  const waiting = (answeredBefore: boolean): SessionElement => ({
    type: 'pending',
    eventId: '01abcdefghjkmn',
    pending: { state: 'waiting-for-handler', target: 'http://127.0.0.1:3000/hook', reason: 'ECONNREFUSED', answeredBefore },
  });
  // Given a handler that was never up: said once for many waiting events
  p.send(waiting(false));
  p.send(waiting(false));
  // When it answers, then goes down again
  p.send({ type: 'attempt', foreign: false, attempt: attempt() });
  p.send(waiting(true));
  p.send(waiting(true));
  const said = p.lines().filter((line) => line.includes('answer'));
  assert.deepEqual(
    said.map((line) => line.trim()),
    [
      'http://127.0.0.1:3000/hook does not answer (ECONNREFUSED): events wait and go out in arrival order once it does',
      'waiting for http://127.0.0.1:3000/hook to answer again (ECONNREFUSED): events wait and go out in arrival order',
    ],
  );
});

test('a host that does not resolve: "host not found: check --forward-to", said once', () => {
  const p = printer();
  p.send(ready);
  const notFound = attempt({ target: 'http://localhsot:3000/hook', status: null, error: 'ENOTFOUND' });
  p.send({ type: 'attempt', foreign: false, attempt: notFound });
  p.send({ type: 'attempt', foreign: false, attempt: { ...notFound, id: 'other' } });
  const hints = p.lines().filter((line) => line.includes('host not found'));
  assert.equal(hints.length, 1);
  assert.match(hints[0]!, /host not found: check --forward-to \(localhsot does not resolve\); not retried/);
});

test('shutdown: the finishing line, then the counters and what stays pending', () => {
  const p = printer();
  const stats = { ...emptyStats(), captured: 3, delivered: 1, failed: 1, waiting: 1, attempts: { ok: 2, failed: 2 } };
  p.send({ type: 'delivery', phase: 'redelivering', inFlight: 0, pending: 2, deadlineAt: null, stats });
  p.send({ type: 'delivery', phase: 'finishing', inFlight: 2, pending: 3, deadlineAt: Date.now() + 30_000, stats });
  p.send({ type: 'delivery', phase: 'stopped', inFlight: 0, pending: 1, deadlineAt: null, stats });
  assert.deepEqual(p.lines(), [
    're-delivering 2 events left pending by the last run, in arrival order, before new ones',
    'finishing 2 forwards… (Ctrl+C again to quit now)',
    'stopped: captured 3 events; forwarded ok 1, failed 1, pending 1; handler attempts 2 ok, 2 failed (forwards, retries and replays)',
    '1 event still waiting for the handler: it is re-delivered at the next start',
  ]);
});
