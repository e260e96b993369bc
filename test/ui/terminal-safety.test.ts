import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { createElement } from 'react';
import type { ListenSession } from '../../src/core/session.js';
import { ScreenLine } from '../../src/ui/components/ScreenLine.js';
import { lineText, lineWidth, padLine, truncateLine, wrapLine } from '../../src/ui/segments.js';
import { setup } from './fixture.js';
import { frameLines, KEY, lineWith, renderScreen } from './helpers.js';

/** Sets the clipboard (OSC 52), rings the bell, clears the screen: what a hostile sender would try. */
const HOSTILE = '\u001b]52;c;SGVsbG8=\u0007\u001b[2J';
const SHOWN = '\\e]52;c;SGVsbG8=\\x07\\e[2J';
/** A C1 CSI: a control sequence introducer on its own on some terminals. */
const C1 = '\u009b';

// Colour codes are Ink's own; anything else that is a control character came from captured text.
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
function assertNothingRaw(frame: string, where: string): void {
  const text = frame.replace(/\u001b\[[0-9;]*m/g, '');
  const found = RAW_CONTROL.exec(text);
  assert.equal(found, null, `${where}: raw U+${found?.[0].charCodeAt(0).toString(16).padStart(4, '0')} at ${found?.index}:\n${text}`);
}

/** A request written byte by byte, so a header value can carry a C1 byte (latin1 on the wire). */
function rawPost(session: ListenSession, headers: Buffer, body: Buffer): Promise<string> {
  const url = new URL(session.captureUrl);
  const captured = new Promise<string>((resolve) => {
    const off = session.on((element) => {
      if (element.type === 'event' && !element.foreign) {
        off();
        resolve(element.event.id);
      }
    });
  });
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => {
      socket.end(Buffer.concat([Buffer.from(`POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n`), headers, Buffer.from('\r\n'), body]));
    });
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => (answer.startsWith('HTTP/1.1 200') ? resolve(captured) : reject(new Error(`capture answered ${answer.split('\r\n')[0]}`))));
  });
}

test('escape sequences in captured text are shown escaped: list, details, response, text body, curl view, notices', async (t) => {
  // Given a handler that answers with escape sequences, and a listener that shows the curl view
  const { screen, session, handler, model } = await setup(t, { copyMethod: 'none' });
  handler.respond((_req, res) => void res.writeHead(200, { 'content-type': 'text/plain', 'x-reply': `r${C1}r` }).end(`handled ${HOSTILE}`));
  // When an MFTG document carries them in every field, and a header value carries a C1 byte
  const doc = { eventType: `EVIL${HOSTILE}`, messageIdentifier: `<m${HOSTILE}@x>`, partnerIdentifier: `P${HOSTILE}`, stationIdentifier: `S${C1}`, subject: `subj ${C1}[2J` };
  await rawPost(session, Buffer.concat([Buffer.from('content-type: application/json\r\nx-evil: a'), Buffer.from([0x9b]), Buffer.from('b\r\n')]), Buffer.from(JSON.stringify(doc)));
  await handler.waitFor(1);

  // Then the list row shows them escaped
  const list = await screen.waitFor((f) => f.includes('200 · '), 'the forwarded row');
  assertNothingRaw(list, 'list');
  assert.ok(list.includes(`EVIL${SHOWN}`.slice(0, 12)), list);

  // And the details show every field escaped: summary, attempt, response headers and body, request headers, body
  screen.press(KEY.enter);
  const detail = await screen.waitFor((f) => f.includes('── Attempts (1)'), 'the detail view');
  assertNothingRaw(detail, 'details');
  assert.ok(detail.includes(`EVIL${SHOWN}`), detail);
  assert.ok(detail.includes(`<m${SHOWN}@x>`), detail);
  assert.ok(detail.includes(`handled ${SHOWN}`), detail);
  assert.ok(detail.includes('x-reply: r\\x9br'), detail);
  screen.press(KEY.tab + KEY.tab);
  const headers = await screen.waitFor((f) => f.includes('x-evil: '), 'the request headers');
  assertNothingRaw(headers, 'request headers');
  assert.ok(headers.includes('x-evil: a\\x9bb'), headers);
  screen.press(KEY.end);
  const body = await screen.waitFor((f) => f.includes('"subject"'), 'the body');
  assertNothingRaw(body, 'pretty body');
  assert.ok(body.includes('"subject": "subj \\x9b[2J"'), body);

  // And the curl view shows the command without a raw byte
  screen.press('c');
  const curl = await screen.waitFor((f) => f.includes('curl command for'), 'the curl view');
  assertNothingRaw(curl, 'curl view');
  screen.press(KEY.escape);
  await screen.waitFor((f) => f.includes('── Body (') && !f.includes('curl command for'), 'back to the details');
  screen.press(KEY.escape);
  await screen.waitFor((f) => f.includes('PARTNER → STATION'), 'back to the list');

  // And a text body and a notice with captured text are escaped too
  await rawPost(session, Buffer.from('content-type: text/plain\r\n'), Buffer.from(`line one\n${HOSTILE} two${C1}\n`));
  await handler.waitFor(2);
  model.notify(`rejected not-found: /x${HOSTILE}`, 'warn');
  const notice = await screen.waitFor((f) => f.includes('rejected not-found'), 'the notice');
  assertNothingRaw(notice, 'notice');
  assert.ok(notice.includes(`rejected not-found: /x${SHOWN}`), notice);
  screen.press(KEY.enter);
  const text = await screen.waitFor((f) => f.includes('── Body') && f.includes('two'), 'the text body');
  assertNothingRaw(text, 'text body');
  assert.ok(lineWith(text, 'two')!.includes(`${SHOWN} two\\x9b`), text);
  assert.ok(frameLines(text).every((line) => [...line].length <= 100));
});

test('the choke point: ScreenLine escapes any segment, and layout measures the escaped text', async (t) => {
  // Given a line built without any layout function
  const screen = renderScreen(createElement(ScreenLine, { line: [{ text: `a${HOSTILE}b` }, { text: C1, bold: true }] }), 80, 5);
  t.after(() => screen.unmount());
  // Then it reaches the terminal escaped
  const frame = await screen.waitFor((f) => f.includes('a\\e'), 'the line');
  assertNothingRaw(frame, 'ScreenLine');
  assert.ok(frame.includes(`a${SHOWN}b`), frame);
  // And widths, cuts and padding count what is shown, so a row stays exactly as wide as the screen
  assert.equal(lineWidth([{ text: HOSTILE }]), [...SHOWN].length);
  const padded = padLine([{ text: `x${HOSTILE}` }], 40);
  assert.equal(lineText(padded), `x${SHOWN}`.padEnd(40));
  assert.equal(lineText(truncateLine([{ text: HOSTILE }], 6)), '\\e]52…');
  assert.deepEqual(wrapLine([{ text: `\u001b\u001b\u001b` }], 4).map(lineText), ['\\e\\e', '\\e']);
});
