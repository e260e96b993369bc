import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { createElement } from 'react';
import { toWebhookPayload } from '../../src/core/mftg-api/to-webhook.js';
import { LiveModel } from '../../src/live/model.js';
import { App } from '../../src/ui/App.js';
import { receivedBoth } from '../fixtures/mftg-payloads.js';
import { FakeSessionView } from '../helpers/fake-session-view.js';
import { seedBinary, startMockMftgApi, type MockMftgApi } from '../helpers/mock-mftg-api.js';
import { tempDir, waitUntil } from '../helpers/temp.js';
import { setup } from './fixture.js';
import { KEY, renderScreen } from './helpers.js';
import { helpDoc } from '../../src/ui/help.js';
import { lineText } from '../../src/ui/segments.js';

const PO_ID = '<OPENAS2-20240301101500-4821@ZZGLOBEXCORP_ACME-AS2>';

/** The mock MFTG API, a listener holding the webhook of its received PO, the UI on its details. */
async function onDetails(t: TestContext, credentials: boolean) {
  const api = await startMockMftgApi();
  const dir = await tempDir();
  t.after(async () => {
    await api.close();
    await dir.cleanup();
  });
  const { box, ...message } = api.messages.get(PO_ID)!;
  const env = credentials ? { MFTG_HOOKS_API_URL: api.url, MFTG_API_USERNAME: api.username, MFTG_API_PASSWORD: api.password } : { MFTG_HOOKS_API_URL: api.url };
  const fixture = await setup(t, { seed: [toWebhookPayload(message, box)], session: { env }, app: { cwd: dir.path } });
  await fixture.screen.waitFor((f) => f.includes('200 · '), 'the row');
  fixture.screen.press(KEY.enter);
  await fixture.screen.waitFor((f) => f.includes('── Attempts (1)'), 'the details');
  return { ...fixture, api, cwd: dir.path };
}

const notices = (fixture: { model: { getSnapshot(): { notices: readonly { text: string }[] } } }): string[] => fixture.model.getSnapshot().notices.map((n) => n.text);

test('a in the details lists the message files through the MFTG API, above the attempts', async (t) => {
  const fixture = await onDetails(t, true);
  const { screen, api } = fixture;
  // When a is pressed
  screen.press('a');
  // Then it says it is fetching, then lists the files of the message's inbox
  const frame = await screen.waitFor((f) => f.includes('s saves them into') && f.includes('2 files in the MFTG inbox'), 'the list');
  await waitUntil(() => notices(fixture).includes('fetching attachments…'), 'the fetching notice first');
  assert.match(frame, /── Attachments ─+\n {2}PO_850_4500012345\.edi\n {2}Attachment\.raw\n {2}s saves them into \.\/mftg-attachments\/<event id>\//);
  assert.ok(frame.includes('2 files in the MFTG inbox — s saves them'), frame);
  assert.ok(frame.indexOf('── Attachments') < frame.indexOf('── Attempts (1)'), frame);
  assert.ok(api.apiRequests().some((r) => r.path === `/message/inbox/${encodeURIComponent(PO_ID)}/attachments`));
});

test('while MFTG is slow to answer, the details say fetching… and the keys keep working', async (t) => {
  const fixture = await onDetails(t, true);
  const { screen, api } = fixture;
  // Given an API that does not answer the listing (until it closes)
  api.inject({ match: (r) => r.path.endsWith('/attachments'), hang: true });
  // When a is pressed
  screen.press('a');
  // Then the details say so, and Esc still goes back to the list and Enter to the details
  await screen.waitFor((f) => /── Attachments ─+\n {2}fetching attachments…/.test(f), 'fetching…');
  screen.press(KEY.escape);
  await screen.waitFor((f) => f.includes('PARTNER → STATION'), 'the list');
  screen.press(KEY.enter);
  await screen.waitFor((f) => f.includes('── Attempts (1)') && f.includes('fetching attachments…'), 'the details again');
  // And a second a does not start a second run
  screen.press('a');
  await waitUntil(() => notices(fixture).includes('attachments: still busy with the last request for this event'), 'still busy');
  // (The notice comes before the request reaches the mock: wait for the first, then make sure it is the only one.)
  await waitUntil(() => api.log.some((r) => r.path.endsWith('/attachments')), 'the listing request at the mock');
  assert.equal(api.log.filter((r) => r.path.endsWith('/attachments')).length, 1);
});

test('s in the details saves the files byte for byte into ./mftg-attachments/<event id>/ and says where', async (t) => {
  const fixture = await onDetails(t, true);
  const { screen, api, cwd, ids } = fixture;
  const dir = join(cwd, 'mftg-attachments', ids[0]!);
  // When s is pressed
  screen.press('s');
  // Then both files land there, byte-identical, and the details and the status line say where
  const frame = await screen.waitFor((f) => f.includes(`saved 2 files into ${dir}`), 'the saved notice', 15_000);
  assert.ok(frame.includes(`saved into ${dir}`), frame);
  assert.match(frame, /Attachment\.raw {2}4\.0 KiB {2}saved/);
  assert.deepEqual((await readdir(dir)).sort(), ['Attachment.raw', 'PO_850_4500012345.edi']);
  assert.ok((await readFile(join(dir, 'Attachment.raw'))).equals(seedBinary()));
  const key = api.messages.get(PO_ID)!.attachmentPaths[0]!;
  assert.ok((await readFile(join(dir, 'PO_850_4500012345.edi'))).equals(api.files.get(key)!));
  // When s is pressed again, the files already there are kept, not duplicated
  screen.press('s');
  await screen.waitFor((f) => (f.match(/already there, identical/g) ?? []).length === 2, 'identical');
  assert.deepEqual((await readdir(dir)).sort(), ['Attachment.raw', 'PO_850_4500012345.edi']);
});

test('without credentials, a says which variables to set and asks MFTG nothing', async (t) => {
  const fixture = await onDetails(t, false);
  const { screen, api } = fixture;
  screen.press('a');
  const frame = await screen.waitFor((f) => f.includes('set MFTG_API_USERNAME and MFTG_API_PASSWORD'), 'the hint');
  assert.ok(frame.includes('no MFTG API credentials in the environment'), frame);
  assert.ok(frame.includes('or MFTG_API_TOKEN'), frame);
  await waitUntil(() => notices(fixture).some((n) => n.startsWith('attachments: no MFTG API credentials')), 'the notice');
  assert.equal(api.apiRequests().length, 0);
});

test('the help lists a and s; a on a request that is not an MFTG delivery says why', async (t) => {
  const api: MockMftgApi = await startMockMftgApi();
  t.after(() => api.close());
  const { screen } = await setup(t, { seed: [Buffer.from('plain bytes')], session: { env: { MFTG_HOOKS_API_URL: api.url, MFTG_API_USERNAME: api.username, MFTG_API_PASSWORD: api.password } } });
  await screen.waitFor((f) => f.includes('200 · '), 'the row');
  screen.press(KEY.enter);
  await screen.waitFor((f) => f.includes('── Attempts (1)'), 'the details');
  assert.ok(screen.lastFrame().includes('a files'), 'the help bar names a');
  screen.press('a');
  await screen.waitFor((f) => f.includes('has no MFTG message id'), 'why not');
  assert.equal(api.apiRequests().length, 0);
  // The help screen has both keys
  const help = helpDoc().lines.map(lineText).join('\n');
  assert.match(help, /^ {2}a +list the MFTG message's files through the MFTG API/m);
  assert.match(help, /^ {2}s +save the MFTG message's files, byte for byte, into \.\/mftg-attachments\/<event id>\//m);
});

test('a and s ask the session through the view port: the face opens no MFTG API client of its own', async (t) => {
  // Given a session view whose attachment intents answer with two files, and no MFTG API anywhere
  const files = [
    { name: 'PO_850_4500012345.edi', bytes: Buffer.from('ISA*00*~') },
    { name: 'Attachment1.raw', bytes: seedBinary() },
  ];
  const view = await FakeSessionView.create({ attachments: files });
  const cwd = await tempDir();
  const event = await view.deliver({ body: receivedBoth });
  const model = new LiveModel(view);
  const screen = renderScreen(createElement(App, { model, view, onQuit: () => undefined, cwd: cwd.path }), 100, 30);
  t.after(async () => {
    screen.unmount();
    model.dispose();
    await view.close();
    await cwd.cleanup();
  });
  await screen.waitFor((f) => f.includes('ZZGLOBEXCORP → ACME-AS2'), 'the row');
  screen.press(KEY.enter);
  await screen.waitFor((f) => f.includes('── Attempts (0)'), 'the details');
  // When a is pressed, Then the listing comes from the port
  screen.press('a');
  await screen.waitFor((f) => f.includes('2 files in the MFTG inbox — s saves them'), 'the list');
  // When s is pressed, Then the port saves into ./mftg-attachments/<event id>/ and the details show each file
  screen.press('s');
  const dir = join(cwd.path, 'mftg-attachments', event.id);
  const frame = await screen.waitFor((f) => f.includes(`saved 2 files into ${dir}`), 'the saved notice');
  assert.match(frame, /Attachment1\.raw {2}4\.0 KiB {2}saved/);
  assert.deepEqual(view.attachmentCalls, [
    { intent: 'list', id: event.id },
    { intent: 'save', id: event.id, dir },
  ]);
  assert.ok((await readFile(join(dir, 'Attachment1.raw'))).equals(seedBinary()));
});
