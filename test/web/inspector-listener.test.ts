import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { SessionElement } from '../../src/core/session.js';
import { attachJsonPrinter } from '../../src/output/json-printer.js';
import { startInspector, type Inspector } from '../../src/web/server.js';
import { useBrowser } from '../helpers/browser.js';
import { runCli } from '../helpers/cli.js';
import { post } from '../helpers/deliveries.js';
import { startRecordingHandler, type RecordingHandler } from '../helpers/recording-handler.js';
import { startSession } from '../helpers/session.js';
import { waitUntil } from '../helpers/temp.js';

/** The inspector on a real in-process listener: real POSTs to the capture URL, a real handler. */
describe('web inspector on a real listener', () => {
  const chromium = useBrowser();
  let handler: RecordingHandler;
  let running: Awaited<ReturnType<typeof startSession>>;
  let inspector: Inspector;
  const json: Array<Record<string, unknown>> = [];
  let detach: () => void;

  before(async () => {
    handler = await startRecordingHandler();
    running = await startSession({ targets: { forwardTo: handler.url, routes: {} } });
    const out = new PassThrough();
    let buffered = '';
    out.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) if (line.trim()) json.push(JSON.parse(line) as Record<string, unknown>);
    });
    detach = attachJsonPrinter((listener) => running.session.subscribe(listener), out);
    inspector = await startInspector(running.session, { address: '127.0.0.1:0' });
  });
  after(async () => {
    await inspector.close();
    await running.close();
    detach();
    await handler.close();
  });

  const eventOf = (size: number) => waitUntil(() => running.elements.find((e): e is Extract<SessionElement, { type: 'event' }> => e.type === 'event' && e.event.size === size), 'the captured event');

  test('a delivery shows within a second; replay and edited replay reach the handler and show in every face', async () => {
    // Given an open page
    const logged = await chromium.open(inspector.url);
    await logged.page.getByTestId('connection').filter({ hasText: 'live' }).waitFor();
    // When a delivery reaches the capture URL
    const original = Buffer.from('{"eventType":"MESSAGE.RECEIVED.SUCCESS",  "messageIdentifier":"<live@b>","z":1,"a":"é"}');
    assert.equal(await post(running.session.captureUrl, original, ['Content-Type', 'application/json', 'X-Trace', 'one']), 200);
    const { event } = await eventOf(original.length);
    // Then it shows in the open page within a second, with its source
    const row = logged.page.locator(`.row[data-id="${event.id}"]`);
    await row.waitFor({ timeout: 1_000 });
    await row.click();
    const details = logged.page.getByTestId('details');
    await details.getByTestId('summary').waitFor();
    await handler.waitFor(1);
    const before = handler.requests.length;
    // When Replay is pressed
    await details.getByTestId('replay').click();
    const [plain] = (await handler.waitFor(before + 1)).slice(before);
    // Then the handler got the captured bytes
    assert.ok(plain!.body.equals(original));
    assert.equal(plain!.headers['x-trace'], 'one');
    // When the body is edited and sent
    await details.getByTestId('replay-edit').click();
    const edited = '{"eventType":"MESSAGE.RECEIVED.SUCCESS","messageIdentifier":"<edited@b>"}';
    await details.getByTestId('edit-body').fill(edited);
    await details.getByTestId('send-edited').click();
    const [changed] = (await handler.waitFor(before + 2)).slice(before + 1);
    // Then it arrives exactly as edited
    assert.ok(changed!.body.equals(Buffer.from(edited)));
    // And both replays show as attempts in the page, in --json and in the session's elements
    await waitUntil(async () => (await details.getByTestId('attempt').count()) === 3, 'three attempts in the page', 5_000);
    const replays = (await running.session.getEvent(event.id)).attempts.filter((a) => a.kind === 'replay');
    assert.deepEqual(replays.map((a) => a.modified), [false, true]);
    for (const attempt of replays) {
      assert.ok(json.some((r) => r.type === 'attempt' && r.id === attempt.id), 'in --json');
      assert.ok(running.elements.some((e) => e.type === 'attempt' && e.attempt.id === attempt.id), 'in the elements');
    }
    assert.deepEqual(logged.errors, []);
    await logged.page.context().close();
  });

  test('a `mftg-hooks replay` from another process appears in the open page live', async () => {
    const body = Buffer.from('{"eventType":"MESSAGE.SEND.SUCCESS","other":"process"}');
    assert.equal(await post(running.session.captureUrl, body), 200);
    const { event } = await eventOf(body.length);
    await waitUntil(async () => (await running.session.getEvent(event.id)).attempts.length === 1, 'the forward');
    const logged = await chromium.open(inspector.url);
    await logged.page.locator(`.row[data-id="${event.id}"]`).click();
    const details = logged.page.getByTestId('details');
    await waitUntil(async () => (await details.getByTestId('attempt').count()) === 1, 'the forward in the page', 5_000);
    // When another process replays it
    const result = await runCli(['replay', event.id, '--store', running.storeDir]);
    assert.equal(result.code, 0, result.stderr);
    // Then the page shows the replay without a reload
    await waitUntil(async () => (await details.getByTestId('attempt').count()) === 2, 'the replay in the page', 5_000);
    assert.match((await details.getByTestId('attempt').allInnerTexts()).join('\n'), /replay\s+200/);
    await logged.page.context().close();
  });
});
