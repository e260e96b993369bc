import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { newId } from '../../src/core/ids.js';
import { buildSample } from '../../src/core/mftg-samples.js';
import type { ForwardAttempt } from '../../src/core/types.js';
import { startInspector, type Inspector } from '../../src/web/server.js';
import { useBrowser, type LoggedPage } from '../helpers/browser.js';
import { FakeSessionView } from '../helpers/fake-session-view.js';
import { startRecordingHandler, type RecordingHandler } from '../helpers/recording-handler.js';
import { waitUntil } from '../helpers/temp.js';

/** The README's picture of the page: written where the README shows it when MFTG_HOOKS_SCREENSHOT=1. */
const SCREENSHOT = process.env.MFTG_HOOKS_SCREENSHOT === '1' ? fileURLToPath(new URL('../../../test/web/inspector-screenshot.png', import.meta.url)) : null;

/** Header pairs of a recorded request, without the ones the HTTP client sets itself. */
function sentHeaders(rawHeaders: string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (!['host', 'connection', 'content-length'].includes(rawHeaders[i]!.toLowerCase())) pairs.push([rawHeaders[i]!, rawHeaders[i + 1]!]);
  }
  return pairs;
}

/** Only requests to the inspector itself. */
function foreignRequests(logged: LoggedPage, inspector: Inspector): string[] {
  return logged.requests.filter((url) => new URL(url).origin !== new URL(inspector.url).origin);
}

const row = (logged: LoggedPage, id: string) => logged.page.locator(`.row[data-id="${id}"]`);

describe('web inspector in a real browser', () => {
  const chromium = useBrowser();
  let handler: RecordingHandler;
  let view: FakeSessionView;
  let inspector: Inspector;

  before(async () => {
    handler = await startRecordingHandler();
    view = await FakeSessionView.create({ targets: { forwardTo: handler.url, routes: {} } });
    inspector = await startInspector(view, { address: '127.0.0.1:0' });
  });
  after(async () => {
    await inspector.close();
    await view.close();
    await handler.close();
  });

  test('a delivery appears live; details show the MFTG summary, headers, pretty body and the attempt', async () => {
    // Given an open page
    const logged = await chromium.open(inspector.url);
    await logged.page.getByTestId('connection').filter({ hasText: 'live' }).waitFor();
    // When an MFTG delivery is captured and forwarded
    const doc = buildSample('MESSAGE.SEND.FAILED', { now: Date.parse('2026-03-02T10:00:00Z') });
    const event = await view.deliver({ body: doc });
    const attempt: ForwardAttempt = {
      id: newId(),
      eventId: event.id,
      kind: 'forward',
      target: handler.url,
      startedAt: new Date().toISOString(),
      status: 202,
      error: null,
      durationMs: 3.2,
      responseHeaders: [
        ['content-type', 'text/plain'],
        ['x-handler', 'yes'],
      ],
      responseSize: 8,
      modified: false,
    };
    await view.recordForeignAttempt(attempt, Buffer.from('accepted'));
    // Then it shows without a reload, within a second
    await row(logged, event.id).waitFor({ timeout: 1_000 });
    await row(logged, event.id).click();
    const details = logged.page.getByTestId('details');
    const summary = details.getByTestId('summary');
    await summary.waitFor();
    const summaryText = await summary.innerText();
    assert.ok(summaryText.includes(String(doc.messageIdentifier)), summaryText);
    assert.ok(summaryText.includes(String(doc.partnerIdentifier)) && summaryText.includes(String(doc.stationIdentifier)));
    assert.ok(summaryText.includes(String(doc.failureReason)));
    assert.ok(summaryText.includes((doc.attachments as string[])[0]!));
    assert.equal(await details.getByTestId('request-line').innerText(), 'POST /');
    assert.ok((await details.locator('table.headers').first().innerText()).includes('Apache-HttpClient/4.5.13'));
    const tree = await details.getByTestId('json-tree').innerText();
    assert.ok(tree.includes('"eventType": "MESSAGE.SEND.FAILED"'), tree);
    const attemptItem = details.getByTestId('attempt');
    assert.match(await attemptItem.innerText(), /forward\s+202\s+3\.2 ms/);
    await attemptItem.locator('button.attempt-line').click();
    await attemptItem.getByText('accepted').waitFor();
    assert.ok((await attemptItem.innerText()).includes('x-handler'));
    assert.deepEqual(foreignRequests(logged, inspector), []);
    assert.deepEqual(logged.errors, []);
    await logged.page.context().close();
  });

  test('the hex view of a binary body shows exactly its bytes', async () => {
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28, 0x41, 0x0a, 0x3c, 0x73, 0x63, 0x72, 0x69, 0x70, 0x74, 0x3e, 0x01, 0x7f, 0x20]);
    const event = await view.deliver({ body: bytes, headers: [['content-type', 'application/octet-stream']] });
    const logged = await chromium.open(inspector.url);
    await row(logged, event.id).click();
    const hex = await logged.page.getByTestId('hex').innerText();
    const shown = hex
      .split('\n')
      .flatMap((line) =>
        line
          .slice(10, 10 + 47)
          .trim()
          .split(/\s+/),
      )
      .map((pair) => Number.parseInt(pair, 16));
    assert.deepEqual(Buffer.from(shown), bytes);
    assert.ok(hex.startsWith('00000000  ff fe 00 80 c3 28 41 0a 3c 73 63 72 69 70 74 3e  |.....(A.<script>|'), hex);
    assert.equal(await logged.page.locator('script').count(), 2, 'captured text is never turned into markup');
    await logged.page.context().close();
  });

  test('control characters from the network show escaped in the list and the details', async () => {
    // Given a delivery whose fields carry a clipboard write, a screen clear, a C1 CSI and a bidi override
    const hostile = '\u001b]52;c;aGVsbG8=\u0007\u001b[2JEVIL\u009b\u202e';
    const event = await view.deliver({
      body: { eventType: hostile, messageIdentifier: `<${hostile}@x>`, partnerName: hostile, messageSubject: `line one\nline two ${hostile}` },
      headers: [
        ['content-type', 'application/json'],
        ['x-evil', hostile],
      ],
    });
    const logged = await chromium.open(inspector.url);
    await row(logged, event.id).waitFor();
    // Then the row shows the escapes, not the characters
    const rowText = await row(logged, event.id).innerText();
    assert.ok(rowText.includes('\\e]52;c;aGVsbG8=\\x07\\e[2JEVIL\\x9b\\u202e'), rowText);
    // And so do the details (summary, headers, body), and nowhere on the page is a raw control character
    await row(logged, event.id).click();
    const details = await logged.page.getByTestId('details').innerText();
    assert.ok(details.includes('x-evil') && details.includes('\\e[2JEVIL'), details);
    const text = await logged.page.locator('body').innerText();
    assert.doesNotMatch(text, /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e]/);
    await logged.page.context().close();
  });

  test('replay reaches the handler byte-identical; replay with edits reaches it exactly as edited; both show', async () => {
    // Given a captured event with a body whose bytes matter (spacing, key order, unicode)
    const original = Buffer.from('{"eventType":"MESSAGE.RECEIVED.SUCCESS",  "messageIdentifier":"<a@b>","z":1,"a":"é"}');
    const headers: Array<[string, string]> = [
      ['Content-Type', 'application/json'],
      ['X-Trace', 'one'],
      ['x-trace', 'two'],
    ];
    const event = await view.deliver({ body: original, headers, path: '/sub?x=1' });
    const logged = await chromium.open(inspector.url);
    await row(logged, event.id).click();
    const details = logged.page.getByTestId('details');
    await details.getByTestId('summary').waitFor();
    const before = handler.requests.length;
    // When Replay is pressed
    await details.getByTestId('replay').click();
    const [plain] = (await handler.waitFor(before + 1)).slice(before);
    // Then the handler got the stored bytes and headers unchanged
    assert.ok(plain!.body.equals(original));
    assert.equal(plain!.url, '/hook/sub?x=1');
    assert.deepEqual(sentHeaders(plain!.rawHeaders), headers);
    // When the body and headers are edited in the page (invalid JSON is refused first)
    await details.getByTestId('replay-edit').click();
    const bodyBox = details.getByTestId('edit-body');
    await bodyBox.fill('{"eventType": "MESSAGE.RECEIVED.SUCCESS", oops');
    await details.getByTestId('edit-error').waitFor();
    assert.equal(await details.getByTestId('send-edited').isDisabled(), true);
    const edited = '{"eventType":"MESSAGE.RECEIVED.SUCCESS","messageIdentifier":"<edited@b>","é":"ü"}';
    await bodyBox.fill(edited);
    await details.getByTestId('edit-headers').fill('Content-Type: application/json\nX-Trace: one\nx-trace: two\nX-Extra: added by hand');
    await details.getByTestId('diff-tab').click();
    const diff = await details.getByTestId('diff').innerText();
    assert.ok(diff.includes(`+ ${edited}`) && diff.includes(`- ${original.toString('utf8')}`), diff);
    await details.getByTestId('send-edited').click();
    const [changed] = (await handler.waitFor(before + 2)).slice(before + 1);
    // Then it arrives exactly as edited
    assert.ok(changed!.body.equals(Buffer.from(edited, 'utf8')));
    assert.deepEqual(sentHeaders(changed!.rawHeaders), [...headers, ['X-Extra', 'added by hand']]);
    // And both show as replay attempts, the edited one marked modified
    await waitUntil(async () => (await details.getByTestId('attempt').count()) === 2, 'two attempts in the page', 5_000);
    const texts = await details.getByTestId('attempt').allInnerTexts();
    assert.match(texts[0]!, /replay \(modified\)\s+200/);
    assert.match(texts[1]!, /replay\s+200/);
    const stored = await view.getEvent(event.id);
    assert.deepEqual(
      stored.attempts.map((a) => [a.kind, a.modified]),
      [
        ['replay', false],
        ['replay', true],
      ],
    );
    assert.deepEqual(foreignRequests(logged, inspector), []);
    await logged.page.context().close();
  });

  test('an attempt recorded elsewhere appears in the open page live', async () => {
    const event = await view.deliver({ body: buildSample('MESSAGE.RECEIVED.SUCCESS') });
    const logged = await chromium.open(inspector.url);
    await row(logged, event.id).click();
    await logged.page.getByTestId('details').getByText('none yet').waitFor();
    // When another terminal's replay is stored (the view's subscription reports it)
    await view.recordForeignAttempt({
      id: newId(),
      eventId: event.id,
      kind: 'replay',
      target: 'http://127.0.0.1:1/elsewhere',
      startedAt: new Date().toISOString(),
      status: null,
      error: 'ECONNREFUSED',
      durationMs: 1.5,
      responseHeaders: [],
      responseSize: 0,
      modified: false,
    });
    // Then the row and the details show it without a reload
    await row(logged, event.id).getByText('ECONNREFUSED').waitFor({ timeout: 2_000 });
    await logged.page.getByTestId('attempt').getByText('ECONNREFUSED').waitFor({ timeout: 2_000 });
    await logged.page.context().close();
  });

  test('with 10,000 stored events the DOM holds fewer than 300 rows', async () => {
    // Given a store of 10,000 events (not emitted one by one: they were stored before the page opened)
    const big = await FakeSessionView.create({ targets: { forwardTo: handler.url, routes: {} } });
    const bigInspector = await startInspector(big, { address: '127.0.0.1:0' });
    try {
      const body = Buffer.from(JSON.stringify(buildSample('MESSAGE.RECEIVED.SUCCESS', { attachments: 1 })));
      let last = '';
      for (let i = 0; i < 10_000; i++) last = (await big.deliver({ body }, { emit: false })).id;
      // When the page opens and scrolls
      const logged = await chromium.open(bigInspector.url);
      await logged.page.getByTestId('list-count').getByText('10000 events').waitFor({ timeout: 20_000 });
      await row(logged, last).waitFor();
      const count = async (): Promise<number> => logged.page.locator('.row').count();
      assert.ok((await count()) < 300, `rows in the DOM: ${await count()}`);
      await logged.page.getByTestId('list').evaluate((list) => {
        list.scrollTop = list.scrollHeight / 2;
      });
      await waitUntil(async () => (await count()) > 0 && !(await row(logged, last).count()), 'rows of the middle');
      assert.ok((await count()) < 300, `rows in the DOM: ${await count()}`);
      // And keys still move through the list
      await logged.page.keyboard.press('j');
      await logged.page.locator('.row.selected').waitFor();
      assert.ok((await count()) < 300, `rows in the DOM: ${await count()}`);
      await logged.page.context().close();
    } finally {
      await bigInspector.close();
      await big.close();
    }
  });

  test('a page with realistic MFTG events (and the README screenshot with MFTG_HOOKS_SCREENSHOT=1)', async () => {
    const shot = await FakeSessionView.create({
      targets: { forwardTo: 'http://localhost:3000/webhooks/mftg', routes: { 'MESSAGE.SEND.FAILED': 'http://localhost:3000/webhooks/mftg/failures' } },
      tunnel: { state: 'online', publicUrl: 'https://acme-edi-dev.loca.lt', reason: null, attempt: 0, nextRetryAt: null, subdomain: 'acme-edi-dev', urlChanged: null },
      publicCaptureUrl: 'https://acme-edi-dev.loca.lt/Yk3v9QpX2tLm',
    });
    const shotInspector = await startInspector(shot, { address: '127.0.0.1:0' });
    try {
      const types = [
        'MESSAGE.RECEIVED.SUCCESS',
        'MESSAGE.SEND.SUCCESS',
        'MESSAGE.RECEIVED.SUCCESS',
        'MESSAGE.SEND.FAILED',
        'MESSAGE.RECEIVED.SUCCESS',
        'MESSAGE.SEND.SUCCESS',
        'MESSAGE.RECEIVED.SUCCESS',
      ] as const;
      let chosen = '';
      for (const [i, type] of types.entries()) {
        const event = await shot.deliver({ body: buildSample(type, { attachments: 1 + (i % 3) }) });
        const failed = i === 3 || i === 5;
        const attempt: ForwardAttempt = {
          id: newId(),
          eventId: event.id,
          kind: 'forward',
          target: 'http://localhost:3000/webhooks/mftg',
          startedAt: new Date().toISOString(),
          status: failed ? 500 : 200,
          error: null,
          durationMs: 4 + i * 3.7,
          responseHeaders: [['content-type', 'application/json']],
          responseSize: 16,
          modified: false,
        };
        await shot.recordForeignAttempt(attempt, Buffer.from(failed ? '{"error":"boom"}' : '{"ok":true}    '));
        shot.stats.delivered += failed ? 0 : 1;
        shot.stats.failed += failed ? 1 : 0;
        if (i === 3) chosen = event.id;
      }
      shot.stats.rejected = 1;
      const logged = await chromium.open(shotInspector.url);
      await row(logged, chosen).click();
      await logged.page.getByTestId('summary').waitFor();
      await logged.page.getByTestId('attempt').first().locator('button.attempt-line').click();
      await logged.page.getByTestId('attempt').first().getByText('boom').waitFor();
      const picture = await logged.page.screenshot(SCREENSHOT ? { path: SCREENSHOT } : {});
      assert.ok(picture.length > 10_000, 'a real picture of the page');
      assert.deepEqual(foreignRequests(logged, shotInspector), []);
      await logged.page.context().close();
    } finally {
      await shotInspector.close();
      await shot.close();
    }
  });
});
