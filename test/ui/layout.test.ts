import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DISABLED_TUNNEL, type TunnelState } from '../../src/core/session.js';
import type { ForwardAttempt, MftgSummary } from '../../src/core/types.js';
import { columnsFor, columnTitles, headerLines, helpBarLine, resultOf, rowLine, statusLines } from '../../src/ui/layout.js';
import type { EventRow, LiveSnapshot } from '../../src/live/model.js';
import { rowOf } from '../../src/live/model.js';
import { lineText, lineWidth, truncateLine, wrapLine, type Line } from '../../src/ui/segments.js';

const targets = { forwardTo: 'http://127.0.0.1:3000/hook', routes: {} };

function mftg(overrides: Partial<MftgSummary> = {}): MftgSummary {
  return {
    eventType: 'MESSAGE.RECEIVED.SUCCESS',
    messageId: '<1609934788.3185.1616041941493@as2gateway.com>',
    partner: 'ZZGLOBEX',
    partnerName: null,
    station: 'ACME-AS2',
    stationName: null,
    subject: 'PO 1',
    failureReason: null,
    failures: null,
    ...overrides,
  };
}

function row(overrides: Partial<EventRow> = {}, summary: MftgSummary | null = mftg()): EventRow {
  const base = rowOf({
    id: '01m8aaaaaa0000',
    receivedAt: '2026-11-28T10:11:12.000Z',
    method: 'POST',
    path: '/',
    headers: [['content-type', 'application/json']],
    remoteAddress: '127.0.0.1',
    size: 321,
    mftg: summary,
  });
  return { ...base, ...overrides };
}

function attempt(overrides: Partial<ForwardAttempt> = {}): ForwardAttempt {
  return {
    id: 'a1',
    eventId: '01m8aaaaaa0000',
    kind: 'forward',
    target: targets.forwardTo,
    startedAt: '2026-11-28T10:11:12.100Z',
    status: 200,
    error: null,
    durationMs: 12.4,
    responseHeaders: [],
    responseSize: 2,
    modified: false,
    ...overrides,
  };
}

function snapshot(overrides: Partial<LiveSnapshot> = {}): LiveSnapshot {
  return {
    version: 1,
    rows: [],
    loading: false,
    ready: true,
    store: '/tmp/x',
    localUrl: 'http://127.0.0.1:41234/tok-0123456789abcdef',
    tunnel: DISABLED_TUNNEL,
    publicCaptureUrl: null,
    targets,
    stats: { captured: 3, delivered: 0, failed: 0, waiting: 0, rejected: 0, rejectedByReason: {}, attempts: { ok: 2, failed: 1 } },
    notices: [],
    clears: 0,
    ...overrides,
  };
}

test('a row shows time, eventType, message id, partner → station and the last result, in exactly the width', () => {
  for (const width of [80, 100, 140]) {
    const columns = columnsFor(width);
    const line = rowLine(row({ attempts: 1, last: attempt() }), columns, targets, width, false);
    const text = lineText(line);
    assert.equal(lineWidth(line), width, `width ${width}`);
    assert.match(text, /^\s+\d\d:\d\d:\d\d /);
    assert.ok(text.includes(width < 100 ? 'RECEIVED.SUCCESS' : 'MESSAGE.RECEIVED.SUCCESS'), text);
    assert.ok(text.includes('<1609934788'), text);
    assert.ok(text.includes('ZZGLOBEX → ACME-AS2'), text);
    assert.ok(text.includes('200 · 12 ms'), text);
    assert.equal(lineWidth(columnTitles(columns, width)), width);
  }
});

test('the eventType is coloured by kind; a selected row is inverse and marked', () => {
  const columns = columnsFor(100);
  const colourOf = (eventType: string): string | undefined => rowLine(row({}, mftg({ eventType })), columns, targets, 100, false).find((seg) => seg.text.includes(eventType))?.color;
  assert.equal(colourOf('MESSAGE.RECEIVED.SUCCESS'), 'cyan');
  assert.equal(colourOf('MESSAGE.SEND.SUCCESS'), 'green');
  assert.equal(colourOf('MESSAGE.SEND.FAILED'), 'red');
  const selected = rowLine(row(), columns, targets, 100, true);
  assert.ok(lineText(selected).startsWith('› '));
  assert.ok(selected.every((seg) => seg.inverse));
});

test('a request that is not an MFTG document shows its method, path, size and content type', () => {
  const text = lineText(rowLine(row({ method: 'PUT', path: '/inbound?x=1', contentType: 'text/plain' }, null), columnsFor(80), targets, 80, false));
  assert.ok(text.includes('PUT /inbound?x=1'), text);
  assert.ok(text.includes('321 B, text/plain'), text);
});

test('the RESULT cell: last attempt, replay mark, retrying n/N, waiting for handler, no target', () => {
  assert.equal(resultOf(row({ attempts: 1, last: attempt({ status: 502, durationMs: 3 }) }), targets).text, '502 · 3.0 ms');
  assert.equal(resultOf(row({ attempts: 1, last: attempt({ status: 502 }) }), targets).color, 'red');
  assert.equal(resultOf(row({ attempts: 1, last: attempt({ status: null, error: 'ECONNREFUSED', durationMs: 1 }) }), targets).text, 'ECONNREFUSED', 'an error needs no latency when space is short');
  assert.equal(resultOf(row({ attempts: 2, last: attempt({ kind: 'replay' }) }), targets).text, '↻ 200 · 12 ms');
  // Worded like the plain lines: the retry, of how many, and when
  assert.equal(resultOf(row({ pending: { state: 'retry-scheduled', at: 4_000, retry: 2, of: 3 } }), targets, 20, 200).text, 'retry 2/3 in 4s');
  assert.equal(resultOf(row({ pending: { state: 'retry-scheduled', at: 4_000, retry: 2, of: 3 } }), targets, 20, 4_000).text, 'retry 2/3 now');
  assert.equal(resultOf(row({ pending: { state: 'retry-scheduled', at: 512_000, retry: 10, of: 10 } }), targets, 16, 0).text, 'retry 10/10', 'the countdown goes first when the cell is narrow');
  assert.equal(resultOf(row({ pending: { state: 'waiting-for-handler', target: 'x' } }), targets).text, 'waiting for handler');
  assert.equal(resultOf(row(), { forwardTo: null, routes: {} }).text, 'no target');
  // A route for its eventType is a target even without --forward-to.
  assert.equal(resultOf(row(), { forwardTo: null, routes: { 'MESSAGE.RECEIVED.SUCCESS': 'http://x' } }).text, 'forwarding…');
});

test('the header: no public URL and why, local URL, forward target, counts', () => {
  const lines = headerLines(
    snapshot({ stats: { captured: 7, delivered: 4, failed: 1, waiting: 2, rejected: 3, rejectedByReason: { 'not-found': 2, 'too-large': 1 }, attempts: { ok: 5, failed: 2 } } }),
    120,
    Date.now(),
  ).map(lineText);
  const text = lines.join('\n');
  assert.ok(text.includes('no public URL (--no-tunnel)'), text);
  assert.ok(text.includes('local http://127.0.0.1:41234/tok-0123456789abcdef'), text);
  assert.ok(text.includes('forward → http://127.0.0.1:3000/hook'), text);
  // Events and attempts are counted apart
  assert.match(text, /captured 7 {2}forwarded ok 4 {2}failed 1 {2}waiting 2 {2}rejected 3 \(2 not-found, 1 too-large\) {3}attempts 5 ok, 2 failed/);
  const none = headerLines(snapshot({ targets: { forwardTo: null, routes: { 'MESSAGE.SEND.FAILED': 'http://127.0.0.1:9/failed' } } }), 80, Date.now())
    .map(lineText)
    .join('\n');
  assert.ok(none.includes('forward → none'), none);
  assert.ok(none.includes('route   MESSAGE.SEND.FAILED → http://127.0.0.1:9/failed'), none);
});

test('the header: tunnel online (URL never cut), connecting, reconnecting with attempt and countdown, offline', () => {
  const tunnel = (state: Partial<TunnelState>): TunnelState => ({ ...DISABLED_TUNNEL, ...state });
  const url = 'https://quiet-otter-42.loca.lt/tok-0123456789abcdef';
  for (const width of [80, 100]) {
    const online = headerLines(snapshot({ tunnel: tunnel({ state: 'online', publicUrl: 'https://quiet-otter-42.loca.lt' }), publicCaptureUrl: url }), width, 0).map(lineText);
    assert.ok(
      online.some((line) => line.includes(url)),
      `${width}: ${online.join('\n')}`,
    );
    assert.ok(online.every((line) => [...line].length === width));
    assert.ok(online.join('\n').includes('online'));
  }
  assert.ok(
    headerLines(snapshot({ tunnel: tunnel({ state: 'connecting' }) }), 100, 0)
      .map(lineText)
      .join('\n')
      .includes('connecting the tunnel'),
  );
  const now = 1_000_000;
  const reconnecting = headerLines(snapshot({ tunnel: tunnel({ state: 'reconnecting', attempt: 3, nextRetryAt: now + 4_200, reason: 'socket closed' }) }), 100, now)
    .map(lineText)
    .join('\n');
  assert.ok(reconnecting.includes('reconnecting (attempt 3, next try in 5 s) — local capture keeps working'), reconnecting);
  assert.ok(reconnecting.includes('\n  socket closed'), reconnecting);
  const offline = headerLines(snapshot({ tunnel: tunnel({ state: 'offline', reason: 'subdomain taken' }) }), 100, now)
    .map(lineText)
    .join('\n');
  assert.ok(offline.includes('offline — local capture keeps working') && offline.includes('\n  subdomain taken'), offline);
});

const PUBLIC = 'https://mftg-4137ad59d6.loca.lt';
const CAPTURE = `${PUBLIC}/Zq3vN8kLp2XwR7tY5mBd4g`;
const NOW = 1_000_000;
const STATES: Record<string, Partial<LiveSnapshot>> = {
  disabled: {},
  connecting: { tunnel: { ...DISABLED_TUNNEL, state: 'connecting' } },
  online: { tunnel: { ...DISABLED_TUNNEL, state: 'online', publicUrl: PUBLIC }, publicCaptureUrl: CAPTURE },
  reconnecting: {
    tunnel: { ...DISABLED_TUNNEL, state: 'reconnecting', publicUrl: PUBLIC, attempt: 12, nextRetryAt: NOW + 29_500, reason: 'tunnel server unreachable (ECONNREFUSED 127.0.0.1:9)' },
    publicCaptureUrl: CAPTURE,
  },
  offline: {
    tunnel: { ...DISABLED_TUNNEL, state: 'offline', publicUrl: PUBLIC, attempt: 3, nextRetryAt: NOW + 60_000, reason: 'the tunnel server refused the tunnel (403 Forbidden)' },
    publicCaptureUrl: CAPTURE,
  },
};
const WHOLE: Record<string, string[]> = {
  disabled: ['no public URL (--no-tunnel)'],
  connecting: ['◌ connecting the tunnel…'],
  online: ['● online', CAPTURE],
  reconnecting: ['◌ reconnecting (attempt 12, next try in 30 s)', CAPTURE, 'tunnel server unreachable (ECONNREFUSED 127.0.0.1:9)'],
  offline: ['✖ offline (next try in 60 s)', CAPTURE, 'the tunnel server refused the tunnel (403 Forbidden)'],
};

test('at 80 and 100 columns the URL, the tunnel state and the counts are never cut: labels give way first', () => {
  const stats = { captured: 1234, delivered: 1200, failed: 12, waiting: 22, rejected: 3, rejectedByReason: { 'not-found': 3 }, attempts: { ok: 1300, failed: 40 } };
  const local = 'http://127.0.0.1:41234/Zq3vN8kLp2XwR7tY5mBd4g';
  for (const width of [80, 100]) {
    for (const [state, overrides] of Object.entries(STATES)) {
      // Given a listener in this tunnel state with four-digit counts
      const lines = headerLines(
        snapshot({ ...overrides, stats, localUrl: local, targets: { forwardTo: 'http://localhost:3000/webhooks/mftg', routes: {} } }),
        width,
        NOW,
        'http://127.0.0.1:4141/',
      ).map(lineText);
      const text = lines.join('\n');
      // Then every line is exactly the width, nothing is cut with …, and what matters is there whole
      for (const line of lines) assert.equal([...line].length, width, `${state} ${width}: ${line}`);
      assert.ok(!text.replace('connecting the tunnel…', '').includes('…'), `${state} ${width}:\n${text}`);
      for (const part of WHOLE[state]!) assert.ok(text.includes(part), `${state} ${width}: ${part}\n${text}`);
      assert.ok(text.includes(local), `${state} ${width}`);
      assert.ok(text.includes('inspect http://127.0.0.1:4141/'), `${state} ${width}: the web inspector\n${text}`);
      for (const count of ['captured 1234', 'forwarded ok 1200', 'failed 12', 'waiting 22', 'rejected 3', 'attempts 1300 ok, 40 failed'])
        assert.ok(text.includes(count), `${state} ${width}: ${count}\n${text}`);
    }
  }
});

test('while the tunnel is down, the remembered public URL stays shown, dimmed', () => {
  for (const state of ['reconnecting', 'offline']) {
    const lines = headerLines(snapshot(STATES[state]), 80, NOW);
    const url = lines.flat().find((seg) => seg.text === CAPTURE);
    assert.ok(url, state);
    assert.equal(url.dim, true, state);
  }
  // Online, it is bold and not dimmed
  const online = headerLines(snapshot(STATES.online), 80, NOW)
    .flat()
    .find((seg) => seg.text === CAPTURE);
  assert.equal(online?.bold, true);
  assert.notEqual(online?.dim, true);
});

test('the status line is never cut in the middle: a notice wraps on words, the list position keeps its place', () => {
  const right: Line = [{ text: '6 events  ' }, { text: 'FOLLOW' }];
  const osc = 'curl command sent with OSC 52; if it did not arrive, copy it from the screen';
  for (const width of [80, 100]) {
    const lines = statusLines([{ text: osc }], right, width).map(lineText);
    for (const line of lines) assert.equal([...line].length, width);
    assert.ok(lines.join(' ').replace(/ +/g, ' ').includes(osc), `${width}: ${lines.join('\n')}`);
    assert.ok(lines.at(-1)!.endsWith('6 events  FOLLOW'), `${width}: ${lines.join('\n')}`);
    assert.ok(!lines.join('').includes('…'));
  }
  assert.equal(statusLines([{ text: osc }], right, 100).length, 1);
  // A notice of two lines' worth wraps on a word boundary
  const long = 'replayed 01m8hyve480tnw: 204 · 2.1 ms from http://127.0.0.1:39377/webhooks/mftg/orders/incoming?tenant=acme-production';
  const wrapped = statusLines([{ text: long }], right, 80).map(lineText);
  assert.equal(wrapped.length, 2);
  assert.ok(wrapped[0]!.trimEnd().endsWith('from'), wrapped[0]);
  assert.ok(wrapped.join(' ').replace(/ +/g, ' ').includes(long));
});

test('the header: a loud banner when the public URL changed', () => {
  const tunnel: TunnelState = { ...DISABLED_TUNNEL, state: 'online', publicUrl: 'https://new-name.loca.lt', urlChanged: { previous: 'https://old-name.loca.lt', current: 'https://new-name.loca.lt' } };
  const lines = headerLines(snapshot({ tunnel, publicCaptureUrl: 'https://new-name.loca.lt/tok' }), 100, 0);
  assert.ok(lineText(lines[0]!).includes('THE PUBLIC URL CHANGED'));
  assert.ok(lineText(lines[1]!).includes('was https://old-name.loca.lt  now https://new-name.loca.lt/tok'));
  assert.ok(lines[0]!.every((seg) => seg.inverse && seg.bold));
});

test('the help bar keeps whole items that fit', () => {
  const items = [
    { label: '↑↓', hint: 'move' },
    { label: 'q', hint: 'quit' },
    { label: 'x', hint: 'a very long hint that does not fit' },
  ];
  const text = lineText(helpBarLine(items, 30));
  assert.equal([...text].length, 30);
  assert.ok(text.startsWith('↑↓ move  q quit'));
  assert.ok(!text.includes('very'));
});

test('segments truncate with an ellipsis and wrap with an indent', () => {
  assert.equal(lineText(truncateLine([{ text: 'abc' }, { text: 'defgh' }], 5)), 'abcd…');
  assert.deepEqual(wrapLine([{ text: 'abcdefghij' }], 4, 2).map(lineText), ['abcd', '  ef', '  gh', '  ij']);
});

test('the header names the web inspector, its label dimmed, beside the local URL when it fits', () => {
  const inspect = 'http://127.0.0.1:4141/';
  const noForward = { forwardTo: null, routes: {} };
  // Given a wide terminal, the local URL, the forward target and the inspector share a line
  const wide = headerLines(snapshot({ targets }), 140, NOW, inspect);
  const line = wide.find((l) => lineText(l).includes(inspect))!;
  assert.match(lineText(line), /^local http:\/\/127\.0\.0\.1:41234\/tok-0123456789abcdef {3}forward → http:\/\/127\.0\.0\.1:3000\/hook {3}inspect http:\/\/127\.0\.0\.1:4141\/ *$/);
  assert.equal(line.find((seg) => seg.text === 'inspect ')?.dim, true);
  assert.equal(line.find((seg) => seg.text === inspect)?.dim, undefined);
  // At 80 columns without a forward target, it gets a line of its own, whole
  const narrow = headerLines(snapshot({ targets: noForward }), 80, NOW, inspect).map(lineText);
  assert.ok(
    narrow.some((l) => l.trimEnd() === `inspect ${inspect}`),
    narrow.join('\n'),
  );
  for (const l of narrow) assert.equal([...l].length, 80);
  // Without an inspector (--no-inspect), there is no such line
  assert.ok(!headerLines(snapshot(), 80, NOW, null).map(lineText).join('\n').includes('inspect'));
});
