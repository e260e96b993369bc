import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { allBytes, receivedBoth, sendFailedLegacy, sentModern } from '../fixtures/mftg-payloads.js';
import { runCli } from '../helpers/cli.js';
import { waitUntil } from '../helpers/temp.js';
import { HandTunnel, setup } from './fixture.js';
import { cellsOf, deliver, frameLines, KEY, lineWith } from './helpers.js';

const run = promisify(execFile);

const selected = (frame: string): string => frameLines(frame).find((line) => line.startsWith('›')) ?? '';

test('rows: time, eventType, message id, partner → station, status and latency; other requests by method and path', async (t) => {
  // Given a store with a received, a sent, a failed MFTG event and a plain-text request
  const { screen } = await setup(t, { seed: [receivedBoth, sentModern, sendFailedLegacy] });
  // When the UI shows them
  const frame = await screen.waitFor((f) => f.includes('MESSAGE.SEND.FAILED') && (f.match(/200 · /g) ?? []).length === 3, 'three forwarded rows');
  // Then each row has its facts
  const received = lineWith(frame, 'MESSAGE.RECEIVED.SUCCESS')!;
  assert.match(received, /^ {2}\d\d:\d\d:\d\d MESSAGE\.RECEIVED\.SUCCESS +<1609934788\.3185/);
  assert.ok(received.includes('ZZGLOBEXCORP → ACME-AS2'), received);
  assert.match(received, /200 · [\d.]+ ms/);
  // A sent or failed message goes from the station to the partner
  assert.ok(lineWith(frame, 'MESSAGE.SEND.SUCCESS')!.includes('ACME-AS2 → ZZGLOBEXCORP'));
  assert.ok(lineWith(frame, 'MESSAGE.SEND.FAILED')!.includes('<720784109397786'));
  // Events and handler attempts are counted apart (forwarded ok is the delivery state's to count)
  assert.match(frame, /captured 3 {2}forwarded ok \d+ {2}failed 0 {2}waiting 0 {2}rejected 0 {3}attempts 3 ok, 0 failed/);
  assert.ok(frame.includes('no public URL (--no-tunnel)'));
  // And the newest is selected (follow mode)
  assert.ok(selected(frame).includes('MESSAGE.SEND.FAILED'));
  assert.ok(frame.includes('FOLLOW'));
});

test('rows: a request that is not MFTG shows method, path, size; without a target it says "no target"', async (t) => {
  const { screen, session } = await setup(t, { forward: false });
  await deliver(session, Buffer.from('ISA*00*~'), 'text/plain', '/inbound/x12?batch=7');
  const frame = await screen.waitFor((f) => f.includes('POST /inbound/x12?batch=7'), 'the plain request');
  const line = lineWith(frame, 'POST /inbound/x12')!;
  assert.ok(line.includes('8 B, text/plain'), line);
  assert.ok(line.includes('no target'), line);
  assert.ok(frame.includes('forward → none'), frame);
});

test('follow: new events are selected as they arrive; a held selection stays put while they arrive', async (t) => {
  const { screen, session } = await setup(t, { seed: [receivedBoth, sentModern, sendFailedLegacy] });
  await screen.waitFor((f) => selected(f).includes('MESSAGE.SEND.FAILED'), 'newest selected');
  // When the user moves up one row, the list is held on MESSAGE.SEND.SUCCESS
  screen.press('k');
  await screen.waitFor((f) => selected(f).includes('MESSAGE.SEND.SUCCESS') && f.includes('HELD'), 'held on the sent event');
  // And two more events arrive
  await deliver(session, { ...receivedBoth, messageIdentifier: '<new-1@as2.example>' });
  await deliver(session, { ...receivedBoth, messageIdentifier: '<new-2@as2.example>' });
  const held = await screen.waitFor((f) => f.includes('<new-2@as2.example>'), 'the new events');
  // Then the selection has not moved and the status line counts what is below it
  assert.ok(selected(held).includes('MESSAGE.SEND.SUCCESS'), selected(held));
  assert.ok(held.includes('3 newer ↓'), held);
  // When f is pressed, the newest event is selected again and new ones are followed
  screen.press('f');
  await screen.waitFor((f) => selected(f).includes('<new-2@as2.example>') && f.includes('FOLLOW'), 'following again');
  await deliver(session, { ...receivedBoth, messageIdentifier: '<new-3@as2.example>' });
  await screen.waitFor((f) => selected(f).includes('<new-3@as2.example>'), 'the newest followed');
  // Home goes to the oldest, End back to following
  screen.press(KEY.home);
  await screen.waitFor((f) => selected(f).includes('MESSAGE.RECEIVED.SUCCESS') && selected(f).includes('<1609934788'), 'oldest selected');
  screen.press(KEY.end);
  await screen.waitFor((f) => selected(f).includes('<new-3@as2.example>') && f.includes('FOLLOW'), 'End follows');
});

test('detail: MFTG summary, attempts with response, request headers, pretty body; scrolls and jumps by section', async (t) => {
  const { screen } = await setup(t, { seed: [sendFailedLegacy] });
  await screen.waitFor((f) => selected(f).includes('200 ·'), 'the forwarded event');
  // When Enter is pressed on it
  screen.press(KEY.enter);
  const detail = await screen.waitFor((f) => f.includes('── Attempts (1)'), 'the detail view');
  // Then the MFTG summary is shown…
  assert.ok(detail.includes('message    <720784109397786.as2@mftgateway.com>'), detail);
  assert.ok(detail.includes('partner    TEST_CON (TEST_CON)'));
  assert.ok(detail.includes('subject    TEST'));
  assert.ok(detail.includes('attachment AS2/files/MCHP_NEW/TEST_CON/outbox/720784109397786/EN_856.txt'));
  assert.ok(detail.includes('failure    Received HTTP status code of 422 (1 failed attempt)'));
  // …with the attempt: kind, status, duration, target, response headers and body
  assert.match(detail, /forward +200 · [\d.]+ ms +→ http:\/\/127\.0\.0\.1:\d+\/hook/);
  assert.ok(detail.includes('content-type: text/plain'), detail);
  assert.ok(detail.includes('    ok'), detail);
  // When Tab jumps to the next sections, the request headers and the pretty body come into view
  screen.press(KEY.tab);
  await screen.waitFor((f) => frameLines(f)[3]!.startsWith('── Attempts'), 'attempts section at the top');
  screen.press(KEY.tab);
  const headers = await screen.waitFor((f) => frameLines(f)[3]!.startsWith('── Request headers'), 'headers section at the top');
  assert.ok(headers.includes('content-type: application/json'), headers);
  screen.press(KEY.tab);
  const body = await screen.waitFor((f) => frameLines(f).some((line) => line.startsWith('── Body')), 'the body section');
  assert.ok(body.includes('  "messageAS2ID": "<720784109397786.as2@mftgateway.com>",'), body);
  screen.press(KEY.end);
  const end = await screen.waitFor((f) => f.includes('"eventType": "MESSAGE.SEND.FAILED"'), 'the end of the body');
  assert.ok(end.includes('  "tenantId": 708289069406346,'), end);
  // Scrolling moves one line; Esc goes back to the list
  const top = frameLines(end)[3];
  screen.press('k');
  await screen.waitFor((f) => frameLines(f)[4] === top, 'scrolled up one line');
  screen.press(KEY.escape);
  await screen.waitFor((f) => f.includes('PARTNER → STATION'), 'back to the list');
});

test('replay intent: r sends the stored event again to the target; the new attempt shows', async (t) => {
  const { screen, handler, ids } = await setup(t, { seed: [receivedBoth, sentModern] });
  await screen.waitFor((f) => (f.match(/200 · /g) ?? []).length === 2, 'forwarded rows');
  // When the older event is selected and r is pressed
  screen.press('k');
  await screen.waitFor((f) => selected(f).includes('MESSAGE.RECEIVED.SUCCESS'), 'received selected');
  screen.press('r');
  // Then the handler receives the same bytes once more…
  const requests = await handler.waitFor(3);
  assert.deepEqual(requests[2]!.body, requests[0]!.body);
  // …and the row shows the replay's result, the status line says so
  const frame = await screen.waitFor((f) => selected(f).includes('↻ 200 · ') && f.includes(`replayed ${ids[0]}: 200`), 'the replay on screen');
  assert.ok(!lineWith(frame, 'MESSAGE.SEND.SUCCESS')!.includes('↻'));
  // And in the detail view it is the newest attempt
  screen.press(KEY.enter);
  await screen.waitFor((f) => f.includes('── Attempts (2, newest first)') && /Attempts[^\n]*\n {2}\d\d:\d\d:\d\d {2}replay/.test(f), 'replay listed first');
});

test('replays started from another terminal (mftg-hooks replay) appear live', async (t) => {
  const { screen, handler, ids, storeDir } = await setup(t, { seed: [receivedBoth] });
  await screen.waitFor((f) => f.includes('200 · '), 'the forward');
  // When another process replays the event through the shared store
  const result = await runCli(['replay', ids[0]!], { env: { MFTG_HOOKS_HOME: storeDir } });
  assert.equal(result.code, 0, result.stderr);
  await handler.waitFor(2);
  // Then its attempt shows in this UI
  await screen.waitFor((f) => selected(f).includes('↻ 200 · '), 'the foreign replay on screen');
});

test('copy as curl: c puts a curl command for the target on the clipboard and says how', async (t) => {
  const { screen, handler, copied } = await setup(t, { seed: [receivedBoth] });
  await screen.waitFor((f) => f.includes('200 · '), 'the forward');
  screen.press('c');
  await screen.waitFor((f) => f.includes('curl command copied with xclip'), 'the copy notice');
  assert.equal(copied.length, 1);
  assert.ok(copied[0]!.startsWith(`curl ${handler.url}`), copied[0]);
  assert.ok(copied[0]!.includes('--data-raw'), copied[0]);
  assert.ok(copied[0]!.includes(receivedBoth.messageIdentifier));
});

test('copy as curl without a clipboard: one line to copy from the screen, also saved to a 0600 file in the store', async (t) => {
  const { screen, handler, storeDir, ids } = await setup(t, { seed: [receivedBoth], copyMethod: 'none' });
  await screen.waitFor((f) => f.includes('200 · '), 'the forward');
  screen.press('c');
  const frame = await screen.waitFor((f) => f.includes('curl command for') && f.includes('not copied: no clipboard tool'), 'the curl view and why');
  // Then the command is one line of the frame, as long as it is: no line breaks or padding of the UI inside it
  const line = frameLines(frame).find((l) => l.startsWith(`curl ${handler.url} `))!;
  assert.ok(line, frame);
  assert.ok(line.length > 100, 'longer than the terminal: the terminal wraps it');
  assert.ok(line.endsWith(`'${JSON.stringify(receivedBoth)}'`), line);
  assert.doesNotMatch(line, /\\$| {2,}/);
  // And the frame is as tall as the terminal with the lines the wrap adds taken from the top
  const lines = frameLines(frame);
  assert.equal(lines.length, 30);
  assert.equal(lines.slice(0, Math.ceil(line.length / 100) - 1).join(''), '');
  // And it was written to a file in the store, readable by the user only, that runs with sh
  const file = join(storeDir, 'curl', `${ids[0]}.sh`);
  assert.ok(frame.includes(`saved to ${file}`), frame);
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  await run('sh', [file]);
  const requests = await handler.waitFor(2);
  assert.deepEqual(requests[1]!.body, Buffer.from(JSON.stringify(receivedBoth)));
  // And q goes back
  screen.press('q');
  await screen.waitFor((f) => f.includes('PARTNER → STATION'), 'back to the list');
});

test('copy as curl: a body with line breaks and non-ASCII text still makes one line, and it sends the same bytes', async (t) => {
  const pretty = Buffer.from(JSON.stringify({ ...receivedBoth, messageSubject: "Bestellung für Köln — 10 % 'quoted'" }, null, 2) + '\n');
  const { screen, handler } = await setup(t, { seed: [pretty], copyMethod: 'none' });
  await screen.waitFor((f) => f.includes('200 · '), 'the forward');
  screen.press('c');
  const frame = await screen.waitFor((f) => f.includes('curl command for'), 'the curl view');
  const line = frameLines(frame).find((l) => l.startsWith('printf '))!;
  assert.ok(line, frame);
  assert.match(line, /^[\x20-\x7e]+$/, 'printable ASCII only');
  // When the line is run by a shell, the handler gets the body byte for byte
  await run('sh', ['-c', line]);
  const requests = await handler.waitFor(2);
  assert.deepEqual(requests[1]!.body, pretty);
  assert.equal(requests[1]!.headers['content-type'], 'application/octet-stream');
});

test('overlays: q and Esc go back from help, details and the curl view; q on the list quits', async (t) => {
  const { screen, quits } = await setup(t, { seed: [receivedBoth], copyMethod: 'none' });
  await screen.waitFor((f) => f.includes('200 · '), 'the row');
  for (const [open, title] of [
    ['?', 'mftg-hooks live view — keys'],
    [KEY.enter, '── Attempts (1)'],
    ['c', 'curl command for'],
  ] as const) {
    screen.press(open);
    await screen.waitFor((f) => f.includes(title), title);
    screen.press('q');
    await screen.waitFor((f) => f.includes('PARTNER → STATION'), `back from ${title}`);
    assert.equal(quits(), 0, `q in ${title} does not quit`);
  }
  // Esc too, and from help opened in the details it goes back to the details
  screen.press(KEY.enter);
  await screen.waitFor((f) => f.includes('── Attempts (1)'), 'details');
  screen.press('?');
  await screen.waitFor((f) => f.includes('mftg-hooks live view — keys'), 'help over the details');
  screen.press(KEY.escape);
  await screen.waitFor((f) => f.includes('── Attempts (1)'), 'details again');
  screen.press(KEY.escape);
  await screen.waitFor((f) => f.includes('PARTNER → STATION'), 'the list');
  screen.press('q');
  await screen.waitFor((f) => f.includes('stopping'), 'stopping notice');
  assert.equal(quits(), 1);
});

test('quitting while events wait for the handler asks once; another key cancels the question', async (t) => {
  const { screen, quits, session, model } = await setup(t, { seed: [receivedBoth] });
  await screen.waitFor((f) => f.includes('200 · '), 'the row');
  // Given three events still waiting for the handler
  session.stats.waiting = 3;
  model.notify('');
  await screen.waitFor((f) => f.includes('waiting 3'), 'the waiting count');
  // When q is pressed, it asks
  screen.press('q');
  await screen.waitFor((f) => f.includes('3 events not yet forwarded — q again to quit'), 'the question');
  assert.equal(quits(), 0);
  // When another key comes in between, the next q asks again
  screen.press('f');
  screen.press('q');
  await screen.waitFor((f) => f.includes('3 events not yet forwarded — q again to quit') && f.includes('HELD'), 'asked again');
  assert.equal(quits(), 0);
  // When q is pressed again right away, it quits
  screen.press('q');
  await screen.waitFor((f) => f.includes('stopping'), 'stopping notice');
  assert.equal(quits(), 1);
});

test('Ctrl+C quits from anywhere without asking; a second one asks to quit now', async (t) => {
  const { screen, quits, session, model, quitsNow } = await setup(t, { seed: [receivedBoth] });
  await screen.waitFor((f) => f.includes('200 · '), 'the row');
  session.stats.waiting = 2;
  model.notify('');
  screen.press('?');
  await screen.waitFor((f) => f.includes('mftg-hooks live view — keys'), 'help');
  screen.press('\u0003');
  await screen.waitFor((f) => f.includes('stopping'), 'stopping notice');
  assert.equal(quits(), 1);
  assert.equal(quitsNow(), 0);
  screen.press('\u0003');
  await waitUntil(() => quitsNow() === 1, 'quit now');
  assert.equal(quits(), 1);
});

test('quitting with a forward on the wire says how many are finishing and for how long; Ctrl+C again quits now', async (t) => {
  const { screen, quits, quitsNow, session, handler } = await setup(t, { session: { timeoutMs: 20_000 } });
  // Given a handler that has not answered yet (a developer at a breakpoint)
  const answers: Array<() => void> = [];
  handler.respond((_req, res) => void answers.push(() => res.end('ok')));
  t.after(() => answers.forEach((answer) => answer()));
  await deliver(session, receivedBoth, 'application/json');
  await handler.waitFor(1);
  await screen.waitFor((f) => f.includes('forwarding…'), 'the forward on the wire');
  // When the user quits (Ctrl+C: q would ask first, an event is waiting) and the listener stops
  screen.press('\u0003');
  await screen.waitFor((f) => f.includes('stopping'), 'stopping notice');
  assert.equal(quits(), 1);
  const closed = session.close();
  // Then the status line says what it waits for, and until when
  const frame = await screen.waitFor((f) => f.includes('finishing 1 forward… (Ctrl+C again to quit now)'), 'the finishing line');
  const left = Number(/— at most (\d+) s more/.exec(frame)?.[1]);
  assert.ok(left >= 1 && left <= 20, frame);
  // When Ctrl+C comes again, the UI asks to quit now
  screen.press('\u0003');
  await waitUntil(() => quitsNow() === 1, 'quit now');
  // When the handler answers, the listener stops and the line goes
  answers.forEach((answer) => answer());
  await closed;
  await screen.waitFor((f) => !f.includes('finishing 1 forward'), 'the finishing line gone');
});

test('↓ on the newest row keeps following; the filter footer shows the filter keys', async (t) => {
  const { screen, session } = await setup(t, { seed: [receivedBoth, sentModern] });
  await screen.waitFor((f) => (f.match(/200 · /g) ?? []).length === 2 && f.includes('FOLLOW'), 'following');
  // When ↓ is pressed on the newest row, the selection cannot move: it keeps following
  screen.press(KEY.down);
  screen.press('j');
  screen.press(KEY.pageDown);
  await deliver(session, sendFailedLegacy);
  const frame = await screen.waitFor((f) => selected(f).includes('MESSAGE.SEND.FAILED'), 'the new event followed');
  assert.ok(frame.includes('FOLLOW') && !frame.includes('HELD'), frame);
  // When / is pressed, the footer says what the keys do while typing
  screen.press('/');
  const filter = await screen.waitFor((f) => f.includes('0 of 3 match') || f.includes('3 of 3 match'), 'the filter');
  assert.equal(frameLines(filter).at(-1)!.trimEnd(), '⏎ done  Esc clear  Tab event type  Ctrl+C quit');
  // …and q is a letter there
  screen.press('q');
  await screen.waitFor((f) => f.includes('/q'), 'q typed');
});

test('filter: / matches text in any field, Tab cycles event types, Esc clears', async (t) => {
  const { screen } = await setup(t, { seed: [receivedBoth, sentModern, sendFailedLegacy] });
  await screen.waitFor((f) => (f.match(/200 · /g) ?? []).length === 3, 'three rows');
  screen.press('/');
  screen.press('TEST_CON');
  let frame = await screen.waitFor((f) => f.includes('1 of 3 match'), 'one match');
  assert.ok(frame.includes('MESSAGE.SEND.FAILED') && !frame.includes('MESSAGE.SEND.SUCCESS'), frame);
  // Backspace edits; Tab replaces the text with the event types seen, in turn
  for (let i = 0; i < 'TEST_CON'.length; i++) screen.press(KEY.backspace);
  await screen.waitFor((f) => f.includes('3 of 3 match'), 'erased');
  screen.press(KEY.tab);
  frame = await screen.waitFor((f) => f.includes('/type:MESSAGE.RECEIVED.SUCCESS'), 'first event type');
  assert.ok(frame.includes('1 of 3 match'));
  screen.press(KEY.tab);
  await screen.waitFor((f) => f.includes('/type:MESSAGE.SEND.FAILED'), 'second event type');
  // Enter keeps the filter while browsing; Esc in the list clears it
  screen.press(KEY.enter);
  frame = await screen.waitFor((f) => f.includes('/type:MESSAGE.SEND.FAILED  1 of 3'), 'filter kept');
  assert.ok(!frame.includes('MESSAGE.RECEIVED.SUCCESS'), frame);
  screen.press(KEY.escape);
  await screen.waitFor((f) => f.includes('3 events') && f.includes('MESSAGE.RECEIVED.SUCCESS'), 'filter cleared');
});

test('keys: ? shows the key table, Esc closes it', async (t) => {
  const { screen } = await setup(t, { seed: [receivedBoth] });
  const list = await screen.waitFor((f) => f.includes('200 · '), 'the row');
  assert.ok(frameLines(list).at(-1)!.startsWith('↑↓ move  ⏎ details  r replay  c curl  / filter  f follow  ? help  q quit'), frameLines(list).at(-1));
  screen.press('?');
  const help = await screen.waitFor((f) => f.includes('mftg-hooks live view — keys'), 'help');
  assert.ok(help.includes('replay the event to the forward target'), help);
  assert.ok(!frameLines(help).at(-1)!.includes('quit'), 'q goes back from here: the bar does not say quit');
  screen.press(KEY.escape);
  await screen.waitFor((f) => f.includes('PARTNER → STATION'), 'list again');
});

test('an 80×24 terminal shows header, rows and keys in 23 lines of at most 80 cells; resizing reflows', async (t) => {
  const { screen } = await setup(t, { seed: [receivedBoth, sentModern, sendFailedLegacy], columns: 80, rows: 24 });
  const frame = await screen.waitFor((f) => (f.match(/200 · /g) ?? []).length === 3, 'three rows');
  const lines = frameLines(frame);
  assert.equal(lines.length, 23);
  for (const line of lines) assert.ok(cellsOf(line) <= 80, `${cellsOf(line)} cells: ${line}`);
  assert.match(frame, /local http:\/\/127\.0\.0\.1:\d+\/test-token-0123456789/);
  assert.ok(lineWith(frame, 'RECEIVED.SUCCESS')!.includes('ZZGLOBEXCORP → ACM…'), frame);
  assert.ok(lines.at(-1)!.includes('q quit'));
  // When the terminal grows, full event types come back and the frame fills it
  screen.resize(130, 40);
  const wide = await screen.waitFor((f) => f.includes('MESSAGE.RECEIVED.SUCCESS'), 'wide layout');
  assert.equal(frameLines(wide).length, 39);
  assert.ok(lineWith(wide, 'MESSAGE.RECEIVED.SUCCESS')!.includes('ZZGLOBEXCORP → ACME-AS2'));
  screen.resize(80, 24);
  await screen.waitFor((f) => !f.includes('MESSAGE.RECEIVED.SUCCESS') && frameLines(f).length === 23, 'narrow again');
});

test('an event with a binary body: the row names it, the detail shows a hex preview', async (t) => {
  const { screen } = await setup(t, { seed: [allBytes] });
  await screen.waitFor((f) => f.includes('512 B, application/octet-stream'), 'the binary row');
  screen.press(KEY.enter);
  const frame = await screen.waitFor((f) => f.includes('── Body'), 'the body section', 5_000);
  screen.press(KEY.end);
  const end = await screen.waitFor((f) => f.includes('bytes more]'), 'the end of the hex preview');
  assert.ok(frame.includes('not an MFTG document'));
  assert.ok(end.includes('00000000  00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f  |................|') || frame.includes('00000000  00 01 02 03'), end);
  assert.ok(end.includes('000000f0  f0 f1 f2 f3'), end);
});

test('a 1 MiB JSON body: the row appears, the detail opens fast, is bounded, and scrolls to its end', async (t) => {
  const items = Array.from({ length: 28_000 }, (_, i) => ({ line: i, sku: `SKU-${i}`, qty: i % 7 }));
  const big = { ...receivedBoth, items, eventType: 'MESSAGE.RECEIVED.SUCCESS' };
  const size = Buffer.byteLength(JSON.stringify(big));
  assert.ok(size > 1024 * 1024 && size < 2 * 1024 * 1024, `${size} bytes`);
  const { screen } = await setup(t, { seed: [big] });
  await screen.waitFor((f) => f.includes('200 · '), 'the big row');
  const started = Date.now();
  screen.press(KEY.enter);
  const frame = await screen.waitFor((f) => f.includes('── Attempts (1)'), 'the detail of the big event');
  const openedMs = Date.now() - started;
  assert.ok(frame.includes('── Request headers'), frame);
  screen.press(KEY.end);
  const end = await screen.waitFor((f) => f.includes('more lines: mftg-hooks events show'), 'the bounded end');
  // Tab after the last section wraps to the top; three more reach the body
  screen.press(KEY.tab);
  await screen.waitFor((f) => frameLines(f)[3]!.startsWith('MESSAGE.RECEIVED.SUCCESS'), 'back at the top');
  screen.press(KEY.tab + KEY.tab + KEY.tab);
  const body = await screen.waitFor((f) => frameLines(f)[3]!.startsWith('── Body'), 'the body section');
  assert.ok(body.includes(`── Body (${(size / 1024 / 1024).toFixed(1)} MiB, application/json)`), body);
  assert.ok(body.includes('"items": ['), body);
  assert.equal(frameLines(end).length, 29);
  t.diagnostic(`1 MiB JSON detail opened in ${openedMs} ms`);
});

test('row status shows retries and an unreachable handler', async (t) => {
  // Given a handler that fails with 503 and a listener that retries twice, slowly
  const { screen, handler, session } = await setup(t, { session: { retries: 2, retryBackoffMs: 60_000 } });
  handler.respond((_req, res) => void res.writeHead(503).end('busy'));
  await deliver(session, receivedBoth);
  await screen.waitFor((f) => /retry 1\/2 in \d+s/.test(selected(f)), 'retry 1/2 in …s');
  // When the handler goes away, new events wait for it
  await handler.close();
  await deliver(session, sentModern);
  await screen.waitFor((f) => selected(f).includes('waiting for handler'), 'waiting for handler');
});

test('the header follows the tunnel: connecting, online URL, reconnecting countdown, URL-changed banner', async (t) => {
  const tunnel = new HandTunnel();
  const { screen } = await setup(t, { session: { createTunnel: () => tunnel } });
  await screen.waitFor((f) => f.includes('connecting the tunnel'), 'connecting');
  tunnel.set({ state: 'online', publicUrl: 'https://quiet-otter-42.loca.lt', subdomain: 'quiet-otter-42' });
  await screen.waitFor((f) => f.includes('● online  https://quiet-otter-42.loca.lt/test-token-0123456789'), 'the public capture URL');
  tunnel.set({ state: 'reconnecting', publicUrl: null, attempt: 2, nextRetryAt: Date.now() + 2_500, reason: 'socket hang up' });
  await screen.waitFor((f) => f.includes('reconnecting (attempt 2, next try in 3 s)') && f.includes('\n  socket hang up'), 'reconnecting');
  // The countdown ticks without any new element
  await screen.waitFor((f) => f.includes('next try in 2 s'), 'the countdown');
  tunnel.set({
    state: 'online',
    publicUrl: 'https://brave-lynx-7.loca.lt',
    attempt: 0,
    nextRetryAt: null,
    reason: null,
    urlChanged: { previous: 'https://quiet-otter-42.loca.lt', current: 'https://brave-lynx-7.loca.lt' },
  });
  const frame = await screen.waitFor((f) => f.includes('THE PUBLIC URL CHANGED'), 'the banner');
  assert.ok(frame.includes('was https://quiet-otter-42.loca.lt  now https://brave-lynx-7.loca.lt/test-token-0123456789'), frame);
});

test('tunnel recovery: the remembered URL stays shown while reconnecting or offline, and t retries now', async (t) => {
  const tunnel = new HandTunnel();
  const { screen } = await setup(t, { session: { createTunnel: () => tunnel }, columns: 80, rows: 24 });
  const url = 'https://quiet-otter-42.loca.lt/test-token-0123456789';
  tunnel.set({ state: 'online', publicUrl: 'https://quiet-otter-42.loca.lt', subdomain: 'quiet-otter-42' });
  const online = await screen.waitFor((f) => f.includes(`● online  ${url}`), 'online');
  // Online, t is not offered
  assert.ok(!frameLines(online).at(-1)!.includes('t retry tunnel'), frameLines(online).at(-1));
  // When the tunnel drops, the last URL stays on screen and the help bar offers t
  tunnel.set({ state: 'reconnecting', attempt: 4, nextRetryAt: Date.now() + 30_000, reason: 'socket hang up' });
  const down = await screen.waitFor((f) => f.includes('◌ reconnecting (attempt 4, next try in 30 s)'), 'reconnecting');
  assert.ok(lineWith(down, url)!.startsWith(`  ${url}`), down);
  assert.ok(frameLines(down).at(-1)!.includes('t retry tunnel'), frameLines(down).at(-1));
  // When t is pressed, the tunnel is retried at once
  screen.press('t');
  await waitUntil(() => tunnel.retries === 1, 'retryNow');
  await screen.waitFor((f) => f.includes('retrying the tunnel now'), 'the notice');
  // Offline works the same way, also from the details
  tunnel.set({ state: 'offline', attempt: 5, nextRetryAt: Date.now() + 60_000, reason: 'the tunnel server refused the tunnel (403)' });
  const offline = await screen.waitFor((f) => f.includes('✖ offline (next try in 60 s)'), 'offline');
  assert.ok(offline.includes(url), offline);
  screen.press('t');
  await waitUntil(() => tunnel.retries === 2, 'retryNow again');
  for (const line of frameLines(offline)) assert.ok([...line].length <= 80, line);
});

test('copy as curl: a command longer than the screen is not shown cut; the view says how to run the file', async (t) => {
  const { screen } = await setup(t, { seed: [{ ...receivedBoth, messageSubject: 'x'.repeat(3_000) }], copyMethod: 'none', columns: 80, rows: 24 });
  await screen.waitFor((f) => f.includes('200 · '), 'the forward');
  screen.press('c');
  const frame = await screen.waitFor((f) => f.includes('curl command for'), 'the curl view');
  assert.match(frame, /saved to \S+\/curl\/\S+\.sh\nToo long for this screen: run the file above with sh\./);
  assert.ok(!frameLines(frame).some((line) => line.startsWith('curl http')), frame);
  for (const line of frameLines(frame)) assert.ok([...line].length <= 80 || line.startsWith('saved to '), line);
});
