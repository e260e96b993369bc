import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { ListenReconcileOptions } from '../../src/core/reconcile/scheduler.js';
import type { SessionElement } from '../../src/core/session.js';
import { attachJsonPrinter } from '../../src/output/json-printer.js';
import { startInspector, type Inspector } from '../../src/web/server.js';
import { useBrowser } from '../helpers/browser.js';
import { runCli } from '../helpers/cli.js';
import { post } from '../helpers/deliveries.js';
import { startMockMftgApi, type MockMftgApi } from '../helpers/mock-mftg-api.js';
import { startRecordingHandler, type RecordingHandler } from '../helpers/recording-handler.js';
import { startSession } from '../helpers/session.js';
import { tempDir, waitUntil } from '../helpers/temp.js';

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
    detach = attachJsonPrinter(running.session, out);
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
    assert.deepEqual(
      replays.map((a) => a.modified),
      [false, true],
    );
    for (const attempt of replays) {
      assert.ok(
        json.some((r) => r.type === 'attempt' && r.id === attempt.id),
        'in --json',
      );
      assert.ok(
        running.elements.some((e) => e.type === 'attempt' && e.attempt.id === attempt.id),
        'in the elements',
      );
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

  const idOf = (started: Awaited<ReturnType<typeof startSession>>, messageId: string) =>
    waitUntil(() => started.elements.find((e): e is Extract<SessionElement, { type: 'event' }> => e.type === 'event' && e.event.mftg?.messageId === messageId)?.event.id, messageId);

  test('a reloaded page shows all 20 events that arrived while it was closed', async () => {
    // Given a page that was open, then closed
    const first = await chromium.open(inspector.url);
    await first.page.getByTestId('connection').filter({ hasText: 'live' }).waitFor();
    await first.page.context().close();
    // When 20 deliveries reach the capture URL while it is closed
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const body = Buffer.from(JSON.stringify({ eventType: 'MESSAGE.RECEIVED.SUCCESS', messageIdentifier: `<closed-${i}@x>` }));
      assert.equal(await post(running.session.captureUrl, body), 200);
      ids.push(await idOf(running, `<closed-${i}@x>`));
    }
    // Then a new page shows all of them
    const logged = await chromium.open(inspector.url);
    await logged.page.getByTestId('filter-text').fill('closed-');
    await logged.page
      .getByTestId('list-count')
      .getByText(/^20 of \d+ events$/)
      .waitFor();
    for (const id of ids) assert.equal(await logged.page.locator(`.row[data-id="${id}"]`).count(), 1, id);
    assert.deepEqual(logged.errors, []);
    await logged.page.context().close();
  });

  test('a page left open while the listener restarts reconnects, catches up and acts with the new run', async () => {
    // Given a listener of its own with an open page
    const dir = await tempDir();
    const sessions: Array<Awaited<ReturnType<typeof startSession>>> = [];
    const inspectors: Inspector[] = [];
    try {
      const options = { storeDir: dir.path, targets: { forwardTo: handler.url, routes: {} } };
      sessions.push(await startSession(options));
      inspectors.push(await startInspector(sessions[0]!.session, { address: '127.0.0.1:0' }));
      const port = inspectors[0]!.port;
      const logged = await chromium.open(inspectors[0]!.url);
      await logged.page.getByTestId('connection').filter({ hasText: 'live' }).waitFor();
      const body = (tag: string) => Buffer.from(JSON.stringify({ eventType: 'MESSAGE.SEND.SUCCESS', messageIdentifier: `<${tag}@restart>` }));
      assert.equal(await post(sessions[0]!.session.captureUrl, body('before')), 200);
      await logged.page.locator(`.row[data-id="${await idOf(sessions[0]!, '<before@restart>')}"]`).waitFor();

      // When the listener stops and a new one starts on the same store and inspector port
      await inspectors[0]!.close();
      await sessions[0]!.session.close();
      sessions.push(await startSession(options));
      // (a delivery reaches the new listener before its inspector is up)
      assert.equal(await post(sessions[1]!.session.captureUrl, body('during')), 200);
      const during = await idOf(sessions[1]!, '<during@restart>');
      inspectors.push(await startInspector(sessions[1]!.session, { address: `127.0.0.1:${port}` }));

      // Then the page reconnects, reloads the list (a new run) and receives live records again
      await logged.page.locator(`.row[data-id="${during}"]`).waitFor({ timeout: 15_000 });
      await logged.page.getByTestId('connection').filter({ hasText: 'live' }).waitFor();
      assert.equal(await post(sessions[1]!.session.captureUrl, body('after')), 200);
      const after = await idOf(sessions[1]!, '<after@restart>');
      await logged.page.locator(`.row[data-id="${after}"]`).waitFor({ timeout: 15_000 });
      // And its state-changing calls work with the new run's secret
      await waitUntil(async () => (await sessions[1]!.session.getEvent(after)).attempts.length === 1, 'the forward');
      await logged.page.locator(`.row[data-id="${after}"]`).click();
      const before = handler.requests.length;
      await logged.page.getByTestId('details').getByTestId('replay').click();
      const [replayed] = (await handler.waitFor(before + 1)).slice(before);
      assert.ok(replayed!.body.equals(body('after')));
      assert.deepEqual(
        // (the old run's connections are refused or reset while it stops: the browser logs those)
        logged.errors.filter((e) => !/ERR_CONNECTION_REFUSED|ERR_CONNECTION_RESET|EventSource/.test(e)),
        [],
      );
      await logged.page.context().close();
    } finally {
      for (const i of inspectors) await i.close();
      for (const s of sessions) await s.close();
      await dir.cleanup();
    }
  });

  test('a reconcile run shows as a notice, and what it recovered appears live', async () => {
    // Given a listener that reconciles every second against a mock MFTG API, and an open page
    const api: MockMftgApi = await startMockMftgApi({ seed: false });
    const reconcile: ListenReconcileOptions = { api: { baseUrl: api.url, credentials: { username: api.username, password: api.password }, backoff: () => 1 }, intervalMs: 1_000 };
    const started = await startSession({ targets: { forwardTo: handler.url, routes: {} }, reconcile });
    const page = await startInspector(started.session, { address: '127.0.0.1:0' });
    try {
      await waitUntil(() => started.elements.some((e) => e.type === 'reconcile' && e.summary.state === 'done'), 'the start run');
      const logged = await chromium.open(page.url);
      await logged.page.getByTestId('connection').filter({ hasText: 'live' }).waitFor();
      // When a message that never came as a webhook is found by the next run
      api.addMessage('received', {
        as2MessageId: '<missed@edi.initech.example>',
        senderAS2Id: '081466849',
        receiverAS2Id: 'ACME-AS2',
        subject: 'missed',
        timestamp: Date.now() - 150_000,
        attachmentPaths: [],
      });
      // Then the page says so in a notice, and shows the event
      const notices = logged.page.getByTestId('notices');
      await notices.getByText(/reconcile: recovered 1 missed delivery through the MFTG API/).waitFor({ timeout: 10_000 });
      const id = await idOf(started, '<missed@edi.initech.example>');
      await logged.page.locator(`.row[data-id="${id}"]`).waitFor();
      // And a failing run is a notice too
      api.inject({ match: '/message', status: 500, times: Infinity });
      await notices.getByText(/reconcile failed: .*capture goes on/).waitFor({ timeout: 10_000 });
      // (The selected event's details ask MFTG for its files too: that answer is the API's 500, as a 502.)
      assert.deepEqual(
        logged.errors.filter((e) => !/status of 502/.test(e)),
        [],
      );
      await logged.page.context().close();
    } finally {
      await page.close();
      await started.close();
      await api.close();
    }
  });
});
