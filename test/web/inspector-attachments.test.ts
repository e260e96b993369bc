import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { InspectView } from '../../src/core/inspect-view.js';
import { newId } from '../../src/core/ids.js';
import { toWebhookPayload } from '../../src/core/mftg-api/to-webhook.js';
import { summarize } from '../../src/core/mftg.js';
import { EventStore } from '../../src/core/store/store.js';
import { startInspector, type Inspector } from '../../src/web/server.js';
import { useBrowser, type LoggedPage } from '../helpers/browser.js';
import { seedBinary, startMockMftgApi, type MockMftgApi } from '../helpers/mock-mftg-api.js';
import { startSession } from '../helpers/session.js';
import { tempDir, waitUntil } from '../helpers/temp.js';

const PO_ID = '<OPENAS2-20240301101500-4821@ZZGLOBEXCORP_ACME-AS2>';
const ODD_ID = '<1709290000.77.1709290000001@edi.hooli.example>';
const ODD_NAME = '..\\..\\startup.bat';

const s3Requests = (api: MockMftgApi) => api.log.filter((r) => r.path.startsWith('/s3/'));
const attachmentListings = (api: MockMftgApi) => api.apiRequests().filter((r) => r.path.endsWith('/attachments'));
const onlyOwnOrigin = (logged: LoggedPage, inspector: Inspector) => logged.requests.filter((url) => !url.startsWith('blob:') && new URL(url).origin !== new URL(inspector.url).origin);

describe("web inspector: a message's files through the MFTG API", () => {
  const chromium = useBrowser();
  let api: MockMftgApi;
  let dir: { path: string; cleanup: () => Promise<void> };
  const eventOf = new Map<string, string>();
  const views: InspectView[] = [];
  const inspectors: Inspector[] = [];

  /** `mftg-hooks inspect` on the store, with `env` as its environment. */
  async function inspect(env: NodeJS.ProcessEnv): Promise<Inspector> {
    const view = await InspectView.open({ storeDir: join(dir.path, 'store'), env });
    views.push(view);
    const inspector = await startInspector(view, { address: '127.0.0.1:0' });
    inspectors.push(inspector);
    return inspector;
  }
  const credentials = (): NodeJS.ProcessEnv => ({ MFTG_API_USERNAME: api.username, MFTG_API_PASSWORD: api.password, MFTG_HOOKS_API_URL: api.url });

  async function openDetails(inspector: Inspector, messageId: string): Promise<LoggedPage> {
    const logged = await chromium.open(inspector.url);
    await logged.page.locator(`.row[data-id="${eventOf.get(messageId)}"]`).click();
    await logged.page.getByTestId('details').waitFor();
    return logged;
  }

  before(async () => {
    // Given the webhooks of two received messages: a PO with an EDI file and a binary part, and one
    // whose file MFTG names with path separators
    api = await startMockMftgApi();
    api.addMessage('received', {
      as2MessageId: ODD_ID,
      senderAS2Id: 'HOOLI',
      subject: 'odd name',
      attachmentPaths: [`AS2/files/ACME-AS2/HOOLI/inbox/1709290000001-0/${ODD_NAME}`, 'AS2/files/ACME-AS2/HOOLI/inbox/1709290000001-0/fine.edi'],
    });
    dir = await tempDir();
    const store = await EventStore.open(join(dir.path, 'store'));
    await store.openForWriting();
    for (const id of [PO_ID, ODD_ID]) {
      const { box, ...message } = api.messages.get(id)!;
      const body = Buffer.from(JSON.stringify(toWebhookPayload(message, box)));
      const eventId = newId();
      await store.appendEvent(
        {
          id: eventId,
          receivedAt: new Date().toISOString(),
          method: 'POST',
          path: '/',
          headers: [['content-type', 'application/json']],
          remoteAddress: null,
          size: body.length,
          mftg: summarize(body),
        },
        body,
      );
      eventOf.set(id, eventId);
    }
    await store.close();
  });
  after(async () => {
    for (const inspector of inspectors) await inspector.close();
    for (const view of views) await view.close();
    await api.close();
    await dir.cleanup();
  });

  test("the details list the files; a binary one downloads through the page's link byte-identical, never from S3", async () => {
    const inspector = await inspect(credentials());
    // When the PO's details are open
    const logged = await openDetails(inspector, PO_ID);
    const files = logged.page.getByTestId('file');
    await files.first().waitFor();
    // Then both files are listed by name
    assert.deepEqual(await files.locator('code.name').allInnerTexts(), ['PO_850_4500012345.edi', 'Attachment.raw']);
    // When the binary one's link is clicked
    const [download] = await Promise.all([logged.page.waitForEvent('download'), files.nth(1).getByTestId('file-download').click()]);
    // Then the browser saves exactly its bytes under its name
    assert.equal(download.suggestedFilename(), 'Attachment.raw');
    assert.ok((await readFile((await download.path())!)).equals(seedBinary()));
    await files.nth(1).getByTestId('file-done').waitFor();
    // And the page asked only its own origin (the pre-signed URL stayed on the server), without errors
    assert.deepEqual(onlyOwnOrigin(logged, inspector), []);
    assert.ok(logged.requests.some((url) => url.endsWith(`/api/events/${eventOf.get(PO_ID)}/attachments/1`)));
    assert.deepEqual(logged.errors, []);
    const listing = await (await fetch(`${inspector.url}api/events/${eventOf.get(PO_ID)}/attachments`)).text();
    assert.ok(!listing.includes('X-Amz-Signature') && !listing.includes('/s3/'), listing);
    // And MFTG was asked with markAsRead=false, the file fetched from its storage by the inspector
    assert.ok(attachmentListings(api).every((r) => r.query.markAsRead === 'false'));
    assert.ok(s3Requests(api).some((r) => r.status === 200 && r.path.endsWith('/Attachment.raw')));
    assert.ok(!api.isRead(PO_ID));
    await logged.page.context().close();
  });

  test('the download answer streams the exact bytes with a safe Content-Disposition, as an octet stream', async () => {
    const inspector = await inspect(credentials());
    const response = await fetch(`${inspector.url}api/events/${eventOf.get(PO_ID)}/attachments/1`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/octet-stream');
    assert.equal(response.headers.get('content-disposition'), 'attachment; filename="Attachment.raw"; filename*=UTF-8\'\'Attachment.raw');
    assert.ok(response.headers.get('content-security-policy'));
    assert.ok(Buffer.from(await response.arrayBuffer()).equals(seedBinary()));
  });

  test('a name with path separators is shown refused, with no link, and its download is refused', async () => {
    const inspector = await inspect(credentials());
    const logged = await openDetails(inspector, ODD_ID);
    const files = logged.page.getByTestId('file');
    await files.first().waitFor();
    // Then the odd name shows (as text), refused and without a link; the other file is offered
    assert.equal(await files.first().locator('code.name').innerText(), ODD_NAME);
    assert.match(await files.first().getByTestId('file-refused').innerText(), /path separator/);
    assert.equal(await files.first().getByTestId('file-download').count(), 0);
    assert.equal(await files.nth(1).getByTestId('file-download').count(), 1);
    // And asking for it anyway is refused before anything is fetched from storage
    const before = s3Requests(api).length;
    const response = await fetch(`${inspector.url}api/events/${eventOf.get(ODD_ID)}/attachments/0`);
    assert.equal(response.status, 422);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'E_UNSAFE_NAME');
    assert.equal(s3Requests(api).length, before);
    await logged.page.context().close();
  });

  test('an expired link is asked for again once; when the fresh one expired too, the page says so', async () => {
    const inspector = await inspect(credentials());
    const logged = await openDetails(inspector, PO_ID);
    const file = logged.page.getByTestId('file').nth(1);
    await file.waitFor();
    // When the listed link expired (403 from storage) and the fresh one works
    api.inject({ match: '/s3/', status: 403, body: { message: 'Request has expired' }, times: 1 });
    const listedBefore = attachmentListings(api).length;
    const [download] = await Promise.all([logged.page.waitForEvent('download'), file.getByTestId('file-download').click()]);
    // Then the file still arrives whole, through a fresh listing
    assert.ok((await readFile((await download.path())!)).equals(seedBinary()));
    assert.equal(attachmentListings(api).length, listedBefore + 1);
    // When the fresh link expires too
    api.inject({ match: '/s3/', status: 403, body: { message: 'Request has expired' }, times: 2 });
    await file.getByTestId('file-download').click();
    // Then the page says that the link expired, and what to do
    const error = file.getByTestId('file-error');
    await error.waitFor();
    assert.match(await error.innerText(), /download link of Attachment\.raw expired, and so did a fresh one.*try again/);
    await logged.page.context().close();
  });

  test('without credentials the section says how to set them, and MFTG is not asked', async () => {
    const inspector = await inspect({});
    const before = api.log.length;
    const logged = await openDetails(inspector, PO_ID);
    const note = logged.page.getByTestId('files-note');
    await note.waitFor();
    const text = await note.innerText();
    assert.ok(text.includes('MFTG_API_USERNAME') && text.includes('MFTG_API_PASSWORD') && text.includes('MFTG_API_TOKEN'), text);
    assert.equal(api.log.length, before);
    assert.deepEqual(logged.errors, []);
    // And the API itself says the same to a script
    const response = await fetch(`${inspector.url}api/events/${eventOf.get(PO_ID)}/attachments`);
    assert.equal(response.status, 409);
    assert.equal(((await response.json()) as { error: { code: string; hint: string } }).error.code, 'E_MFTG_NO_CREDENTIALS');
    await logged.page.context().close();
  });

  test('the listing and a download need no secret, but a foreign Origin is refused and MFTG not asked', async () => {
    const inspector = await inspect(credentials());
    const before = api.log.length;
    for (const path of ['attachments', 'attachments/1']) {
      const response = await fetch(`${inspector.url}api/events/${eventOf.get(PO_ID)}/${path}`, { headers: { origin: 'http://evil.example' } });
      assert.equal(response.status, 403, path);
      await response.arrayBuffer();
    }
    assert.equal(api.log.length, before);
    const own = await fetch(`${inspector.url}api/events/${eventOf.get(PO_ID)}/attachments`, { headers: { origin: inspector.url.replace(/\/$/, '') } });
    assert.equal(own.status, 200);
    const listing = (await own.json()) as { messageId: string; box: string; files: Array<{ name: string; href: string }> };
    assert.equal(listing.messageId, PO_ID);
    assert.equal(listing.box, 'inbox');
    assert.deepEqual(
      listing.files.map((f) => f.href),
      [`/api/events/${eventOf.get(PO_ID)}/attachments/0`, `/api/events/${eventOf.get(PO_ID)}/attachments/1`],
    );
    await waitUntil(() => api.log.length > before, 'the listing reached MFTG');
  });

  test("a listener's inspector serves the files with the credentials its reconcile uses", async () => {
    // Given a listener that reconciles against the mock (and so recovered the PO's delivery)
    const started = await startSession({ reconcile: { api: { baseUrl: api.url, credentials: { username: api.username, password: api.password }, backoff: () => 1 }, intervalMs: 3_600_000 } });
    const inspector = await startInspector(started.session, { address: '127.0.0.1:0' });
    try {
      await waitUntil(() => started.elements.some((e) => e.type === 'reconcile' && e.summary.state === 'done'), 'the start run');
      const event = (await started.session.listEvents({ limit: 100 })).find((e) => e.mftg?.messageId === PO_ID);
      assert.ok(event, 'the PO was recovered');
      // When the page's calls are made
      const session = (await (await fetch(`${inspector.url}api/session`)).json()) as { attachments: { ready: boolean } };
      const listing = (await (await fetch(`${inspector.url}api/events/${event.id}/attachments`)).json()) as { files: Array<{ name: string; href: string }> };
      const file = await fetch(new URL(listing.files[1]!.href, inspector.url));
      // Then the files are there, the binary one byte for byte
      assert.equal(session.attachments.ready, true);
      assert.deepEqual(
        listing.files.map((f) => f.name),
        ['PO_850_4500012345.edi', 'Attachment.raw'],
      );
      assert.ok(Buffer.from(await file.arrayBuffer()).equals(seedBinary()));
    } finally {
      await inspector.close();
      await started.close();
    }
  });
});
