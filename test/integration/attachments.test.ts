import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { newId } from '../../src/core/ids.js';
import { MftgApiClient, type MftgApiClientOptions } from '../../src/core/mftg-api/client.js';
import { toWebhookPayload } from '../../src/core/mftg-api/to-webhook.js';
import { summarize } from '../../src/core/mftg.js';
import { eventMessage, saveAttachments, unsafeFileName } from '../../src/core/reconcile/attachments.js';
import { EventStore } from '../../src/core/store/store.js';
import { seedBinary, startMockMftgApi, type MockMftgApi, type MockMftgApiOptions } from '../helpers/mock-mftg-api.js';
import { tempDir } from '../helpers/temp.js';

const PO_ID = '<OPENAS2-20240301101500-4821@ZZGLOBEXCORP_ACME-AS2>';
const FAILED_ID = '<720784109397786.as2@mftgateway.com>';

interface Setup {
  api: MockMftgApi;
  client: MftgApiClient;
  store: EventStore;
  /** The stored event of each seeded message id. */
  eventOf: Map<string, string>;
  saveDir: string;
  root: string;
}

/** The seeded mock, a store holding the webhook of the PO (received) and of the failed message. */
async function setup(t: { after: (fn: () => Promise<void>) => void }, mock: MockMftgApiOptions = {}, options: Partial<MftgApiClientOptions> = {}): Promise<Setup> {
  const api = await startMockMftgApi(mock);
  const dir = await tempDir();
  const store = await EventStore.open(join(dir.path, 'store'));
  await store.openForWriting();
  const eventOf = new Map<string, string>();
  for (const id of [PO_ID, FAILED_ID]) {
    const { box, ...message } = api.messages.get(id)!;
    const body = Buffer.from(JSON.stringify(toWebhookPayload(message, box)));
    const eventId = newId();
    await store.appendEvent(
      { id: eventId, receivedAt: new Date().toISOString(), method: 'POST', path: '/', headers: [['content-type', 'application/json']], remoteAddress: null, size: body.length, mftg: summarize(body) },
      body,
    );
    eventOf.set(id, eventId);
  }
  const client = new MftgApiClient({ baseUrl: api.url, credentials: { username: api.username, password: api.password }, backoff: () => 1, ...options });
  t.after(async () => {
    await client.close();
    await store.close();
    await api.close();
    await dir.cleanup();
  });
  return { api, client, store, eventOf, saveDir: join(dir.path, 'files'), root: dir.path };
}

test('--save: every file of a received message arrives byte-identical, binary included, under its name', async (t) => {
  // Given the stored webhook of a received message with an EDI file and a binary part
  const { api, client, store, eventOf, saveDir } = await setup(t);
  const message = await eventMessage(store, eventOf.get(PO_ID)!.slice(0, 12));
  assert.equal(message.type, 'received');
  // When its files are saved
  const files = await saveAttachments(client, message, saveDir);
  // Then both are there, byte for byte, and nothing else (no temp file left)
  assert.deepEqual(
    files.map((f) => [f.name, f.state]),
    [
      ['PO_850_4500012345.edi', 'saved'],
      ['Attachment.raw', 'saved'],
    ],
  );
  assert.deepEqual((await readdir(saveDir)).sort(), ['Attachment.raw', 'PO_850_4500012345.edi']);
  assert.ok((await readFile(join(saveDir, 'Attachment.raw'))).equals(seedBinary()));
  const key = api.messages.get(PO_ID)!.attachmentPaths[0]!;
  assert.ok((await readFile(join(saveDir, 'PO_850_4500012345.edi'))).equals(api.files.get(key)!));
  assert.equal(files[1]!.size, seedBinary().length);
  // And the listing went to the inbox with markAsRead=false, the download without the API token
  const listing = api.apiRequests().find((r) => r.path.endsWith('/attachments'))!;
  assert.equal(listing.path, `/message/inbox/${encodeURIComponent(PO_ID)}/attachments`);
  assert.ok(api.log.filter((r) => r.path.startsWith('/s3/')).every((r) => r.headers.authorization === undefined && r.status === 200));
  assert.ok(!api.isRead(PO_ID));
});

test("a failed message's files come from the outbox", async (t) => {
  const { api, client, store, eventOf, saveDir } = await setup(t);
  const message = await eventMessage(store, eventOf.get(FAILED_ID)!);
  assert.equal(message.type, 'failed');
  const files = await saveAttachments(client, message, saveDir);
  assert.deepEqual(
    files.map((f) => f.state),
    ['saved'],
  );
  assert.ok(api.apiRequests().some((r) => r.path === `/message/outbox/${encodeURIComponent(FAILED_ID)}/attachments`));
});

test('names that would escape the directory are refused; the safe files are still saved', async (t) => {
  // Given MFTG listing hostile names next to a real file
  const { api, client, store, eventOf, saveDir, root } = await setup(t);
  const real = await client.listAttachments('received', PO_ID);
  const hostile = ['../../x', '/etc/passwd-x', '..\\..\\x', 'a\0b', '.', '..', 'C:evil', ''];
  api.inject({ match: (r) => r.path.endsWith('/attachments'), status: 200, body: { total: hostile.length + 1, attachments: [...hostile.map((name) => ({ name, url: real[0]!.url })), real[0]] } });
  // When they are saved
  const files = await saveAttachments(client, await eventMessage(store, eventOf.get(PO_ID)!), saveDir);
  // Then every hostile name is refused, only the real file is written, and nothing outside the directory
  assert.deepEqual(
    files.map((f) => f.state),
    [...hostile.map(() => 'refused'), 'saved'],
  );
  assert.ok(files.slice(0, -1).every((f) => f.path === null && /refused/.test(f.error ?? '')));
  assert.deepEqual(await readdir(saveDir), ['PO_850_4500012345.edi']);
  assert.deepEqual((await readdir(root)).sort(), ['files', 'store']);
  for (const name of hostile) assert.ok(unsafeFileName(name), name);
  assert.equal(unsafeFileName('PO 850 (v2).edi'), null);
});

test('an existing file is never overwritten: identical is left alone, different keeps both', async (t) => {
  // Given the directory already holding the EDI file with other content, and the binary with the same bytes
  const { client, store, eventOf, saveDir } = await setup(t);
  await saveAttachments(client, await eventMessage(store, eventOf.get(PO_ID)!), saveDir);
  await writeFile(join(saveDir, 'PO_850_4500012345.edi'), "mine, not MFTG's");
  // When the files are saved again
  const files = await saveAttachments(client, await eventMessage(store, eventOf.get(PO_ID)!), saveDir);
  // Then the user's file is untouched, MFTG's goes beside it, and the identical one is not duplicated
  assert.deepEqual(
    files.map((f) => [f.state, f.path?.slice(saveDir.length + 1)]),
    [
      ['renamed', 'PO_850_4500012345-1.edi'],
      ['identical', 'Attachment.raw'],
    ],
  );
  assert.equal(await readFile(join(saveDir, 'PO_850_4500012345.edi'), 'utf8'), "mine, not MFTG's");
  assert.deepEqual((await readdir(saveDir)).sort(), ['Attachment.raw', 'PO_850_4500012345-1.edi', 'PO_850_4500012345.edi']);
});

test('an expired link is asked for again once by itself', async (t) => {
  // Given the first download answering 403 (expired)
  const { api, client, store, eventOf, saveDir } = await setup(t);
  api.inject({ match: '/s3/', status: 403, body: { message: 'Request has expired' } });
  // When the files are saved
  const files = await saveAttachments(client, await eventMessage(store, eventOf.get(PO_ID)!), saveDir);
  // Then fresh links were fetched and both files saved
  assert.deepEqual(
    files.map((f) => f.state),
    ['saved', 'saved'],
  );
  assert.equal(api.apiRequests().filter((r) => r.path.endsWith('/attachments')).length, 2);
  assert.ok((await readFile(join(saveDir, 'Attachment.raw'))).equals(seedBinary()));
});

test('links that keep expiring are reported as expired, and nothing half-written is left', async (t) => {
  // Given links that are expired as soon as they are issued
  const { client, store, eventOf, saveDir } = await setup(t, { linkTtlMs: -1 });
  // When the files are saved
  const files = await saveAttachments(client, await eventMessage(store, eventOf.get(PO_ID)!), saveDir);
  // Then each says the link expired, and the directory stays empty
  assert.deepEqual(
    files.map((f) => f.state),
    ['expired', 'expired'],
  );
  assert.match(files[0]!.error!, /expired/);
  assert.deepEqual(await readdir(saveDir), []);
});

test('an event that is not an MFTG delivery is a clear usage error', async (t) => {
  const { store } = await setup(t);
  const body = Buffer.from('ping');
  const id = newId();
  await store.appendEvent({ id, receivedAt: new Date().toISOString(), method: 'POST', path: '/', headers: [], remoteAddress: null, size: 4, mftg: summarize(body) }, body);
  await assert.rejects(eventMessage(store, id), (error: Error & { code?: string }) => error.code === 'E_USAGE' && /no MFTG message id/.test(error.message));
});
