import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Chalk } from 'chalk';
import { renderEventTable } from '../../src/commands/events.js';
import { summarize } from '../../src/core/mftg.js';
import type { EventRecord, ForwardAttempt } from '../../src/core/types.js';
import { renderEventDetail } from '../../src/output/event-detail.js';
import { colorsFor, fitTable, noMatchMessage, partiesOf, wrapWords } from '../../src/output/format.js';
import { eventRecord } from '../../src/output/records.js';
import { terminalSafeBytes } from '../../src/output/terminal-text.js';

const plain = new Chalk({ level: 0 });
const HOSTILE = '\u001b]52;c;ZWNobyBoaQ==\u0007\u001b[2J\u001b]0;pwned\u0007';

function eventOf(doc: Record<string, unknown>, n: number, attempts: Array<Partial<ForwardAttempt>> = []): { event: EventRecord; body: Buffer } {
  const body = Buffer.from(JSON.stringify(doc));
  const id = `01m8hxbk4a${String(n).padStart(4, '0')}`;
  return {
    body,
    event: {
      id,
      receivedAt: '2026-11-28T20:25:43.000Z',
      method: 'POST',
      path: '/',
      headers: [['content-type', 'application/json']],
      remoteAddress: '127.0.0.1',
      size: body.length,
      mftg: summarize(body),
      attempts: attempts.map((a, i) => ({
        id: `${id}a${i}`,
        eventId: id,
        kind: 'forward',
        target: 'http://127.0.0.1:3000/webhooks/mftg',
        startedAt: '2026-11-28T20:25:43.010Z',
        status: 200,
        error: null,
        durationMs: 13,
        responseHeaders: [],
        responseSize: 0,
        modified: false,
        ...a,
      })),
    },
  };
}

const SAMPLE = [
  eventOf({ messageIdentifier: '<1609934788.3185.1616041941493@as2gateway.com>', partnerIdentifier: 'ZZGLOBEXCORP', stationIdentifier: 'ACME-AS2', eventType: 'MESSAGE.RECEIVED.SUCCESS' }, 1, [
    { status: 200 },
  ]),
  eventOf({ messageIdentifier: '<731245009912345.as2@mftgateway.com>', partnerName: 'Globex Corporation International Trading', stationName: 'Acme Corp EDI', eventType: 'MESSAGE.SEND.SUCCESS' }, 2, [
    { status: null, error: 'ECONNREFUSED' },
    { status: 302, responseHeaders: [['location', '/somewhere/else/entirely']] },
  ]),
  eventOf(
    { messageAS2ID: '<72078410939771@mftgateway.com>', partnerAS2ID: 'MCHP_NEW', stationAS2ID: 'TEST_CON', failureReason: 'Received HTTP status code of 422', eventType: 'MESSAGE.SEND.FAILED' },
    3,
  ),
];

for (const width of [80, 120]) {
  test(`events list fits ${width} columns: cut with …, never wrapped`, () => {
    // When the table is rendered for a terminal of that width
    const lines = renderEventTable(
      SAMPLE.map((s) => s.event),
      width,
      plain,
    ).split('\n');
    // Then every line fits, ids stay whole, and what was cut ends with …
    assert.equal(lines.length, 1 + SAMPLE.length);
    for (const line of lines) assert.ok(line.length <= width, `${line.length} > ${width}: ${line}`);
    for (const { event } of SAMPLE)
      assert.ok(
        lines.some((line) => line.startsWith(event.id + '  ')),
        event.id,
      );
    assert.ok(
      lines.some((line) => line.includes('…')),
      'long message ids are cut',
    );
    assert.ok(
      lines.slice(1).every((line) => /RECEIVED|SEND/.test(line)),
      'the type is shown on every row',
    );
  });
}

test('a wide terminal shows the table whole, with the date', () => {
  const lines = renderEventTable(
    SAMPLE.map((s) => s.event),
    400,
    plain,
  ).split('\n');
  assert.match(lines[0]!, /^ID\s+RECEIVED\s+TYPE\s+MESSAGE ID\s+PARTNER → STATION\s+SIZE\s+LAST FORWARD$/);
  assert.ok(lines[1]!.includes('<1609934788.3185.1616041941493@as2gateway.com>'));
  assert.ok(!lines[1]!.includes('…'));
  // Long values are still capped (the full value is in events show)
  assert.match(lines[2]!, /Acme Corp EDI → Globex Corporation Intern\S*…/);
});

test('fitTable leaves out optional columns before cutting below the minimums, and cuts lines last', () => {
  const columns = [
    { title: 'A', min: 5 },
    { title: 'B', min: 5, optional: true },
    { title: 'C', min: 3 },
  ];
  const rows = [['aaaaaaaaaa', 'bbbbbbbbbb', 'cccccccccc']];
  assert.deepEqual(fitTable(columns, rows, 100).rows, [['aaaaaaaaaa', 'bbbbbbbbbb', 'cccccccccc']]);
  const narrow = fitTable(columns, rows, 16);
  assert.deepEqual(narrow.titles, ['A', 'C']);
  assert.equal(narrow.rows[0]!.join('  ').length, 16);
  const tiny = fitTable(columns, rows, 6);
  assert.equal(tiny.fits, false);
  assert.ok(tiny.rows[0]!.join('  ').length <= 6);
});

test('escape sequences from the network never reach the terminal: list and details', () => {
  // Given a delivery whose fields carry OSC 52 (clipboard), clear-screen and window-title sequences
  const hostile = eventOf(
    {
      eventType: `X${HOSTILE}`,
      messageIdentifier: `<m${HOSTILE}>`,
      partnerIdentifier: `P${HOSTILE}`,
      stationIdentifier: `S${HOSTILE}`,
      messageSubject: HOSTILE,
      failureReason: HOSTILE,
      attachments: [HOSTILE],
    },
    4,
    [
      { status: 500, responseHeaders: [[`x-evil`, HOSTILE]] },
      { status: null, error: `E${HOSTILE}` },
    ],
  );
  hostile.event.headers.push([`x-h`, HOSTILE]);
  hostile.event.path = `/p${HOSTILE}`;
  const responses = new Map([[hostile.event.attempts[0]!.id, Buffer.from(`oops${HOSTILE}\r\nmore`)]]);
  // When it is listed and shown
  const list = renderEventTable([hostile.event], 400, plain);
  const detail = renderEventDetail(hostile.event, hostile.body, responses, plain);
  // Then no control character is printed; each is shown escaped
  for (const text of [list, detail]) {
    assert.doesNotMatch(text, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    assert.ok(text.includes('\\e]52;c;ZWNobyBoaQ==\\x07'), text);
  }
  assert.ok(detail.includes('x-h: \\e]52'), 'request headers');
  assert.ok(detail.includes('x-evil: \\e]52'), 'response headers');
  assert.ok(detail.includes('oops\\e]52'), 'response bodies');
  assert.ok(detail.includes('failure    \\e]52'), 'failure reason');
  // And --json keeps the exact text, JSON-escaped
  assert.equal(JSON.stringify(eventRecord(hostile.event)).includes('\\u001b]52'), true);
});

test('terminalSafeBytes: UTF-8 text kept, controls and non-UTF-8 bytes escaped, and says so', () => {
  assert.deepEqual(terminalSafeBytes(Buffer.from('{"a":"café"}\n\tok\n')), { text: '{"a":"café"}\n\tok\n', escaped: false });
  assert.deepEqual(terminalSafeBytes(Buffer.from([0x41, 0x1b, 0x5b, 0x32, 0x4a, 0xff, 0xc3, 0xa9, 0x0d, 0x0a])), { text: 'A\\e[2J\\xffé\\r\n', escaped: true });
  assert.deepEqual(terminalSafeBytes(Buffer.from([0xed, 0xa0, 0x80, 0xc2, 0x9b])), { text: '\\xed\\xa0\\x80\\x9b', escaped: true });
});

test('partner and station fall back to the names when a payload carries only those', () => {
  const names = SAMPLE[1]!.event;
  assert.equal(partiesOf(names), 'Acme Corp EDI → Globex Corporation International Trading');
  const record = eventRecord(names);
  assert.equal(record.partner, 'Globex Corporation International Trading');
  assert.equal(record.station, 'Acme Corp EDI');
  const detail = renderEventDetail(names, SAMPLE[1]!.body, new Map(), plain);
  assert.match(detail, /^partner {4}Globex Corporation International Trading$/m);
  assert.match(detail, /^station {4}Acme Corp EDI$/m);
  // Ids first, the name beside them
  const both = eventOf({ partnerIdentifier: 'ZZGLOBEXCORP', partnerName: 'Globex', stationIdentifier: 'ACME-AS2', eventType: 'MESSAGE.RECEIVED.SUCCESS' }, 5);
  assert.equal(partiesOf(both.event), 'ZZGLOBEXCORP → ACME-AS2');
  assert.match(renderEventDetail(both.event, both.body, new Map(), plain), /^partner {4}ZZGLOBEXCORP \(Globex\)$/m);
});

test('no match: the same words for every filter, with the count of stored events', () => {
  assert.equal(noMatchMessage(['--failed'], 15), 'No events match --failed (15 events stored; `mftg-hooks events list` shows them all).');
  assert.equal(noMatchMessage(['--type MESSAGE.SEND.FAILED', '--failed'], 1), 'No events match --type MESSAGE.SEND.FAILED --failed (1 event stored; `mftg-hooks events list` shows them all).');
  assert.match(noMatchMessage([], 0), /^No events stored yet/);
  assert.match(noMatchMessage(['--failed'], 0), /^No events stored yet/);
});

test('wrapWords breaks at word boundaries only', () => {
  const text = 'Every sample also has to, messageSubject, partnerName, stationName, attachments (S3 keys), bucketName';
  for (const width of [20, 33, 50]) {
    const lines = wrapWords(text, width, '  ');
    for (const line of lines) assert.ok(line.length <= width, line);
    assert.equal(lines.map((line) => line.trim()).join(' '), text);
  }
});

test('colours: CI=false is a terminal like any other; a true-ish CI, NO_COLOR or a pipe turn them off', () => {
  const tty = { isTTY: true };
  assert.equal(colorsFor(tty, {}).level, 1);
  assert.equal(colorsFor(tty, { CI: 'false' }).level, 1);
  assert.equal(colorsFor(tty, { CI: '0' }).level, 1);
  assert.equal(colorsFor(tty, { CI: 'true' }).level, 0);
  assert.equal(colorsFor(tty, { CI: '1' }).level, 0);
  assert.equal(colorsFor(tty, { NO_COLOR: '1' }).level, 0);
  assert.equal(colorsFor({ isTTY: false }, { CI: 'false' }).level, 0);
  assert.equal(colorsFor({ isTTY: false }, { FORCE_COLOR: '1' }).level, 1);
});
