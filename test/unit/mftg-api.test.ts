import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inspect } from 'node:util';
import { MftgHooksError } from '../../src/core/errors.js';
import { MftgApiClient, retryAfterMs, type MftgApiClientOptions } from '../../src/core/mftg-api/client.js';
import { seedBinary, startMockMftgApi, type MockMftgApi, type MockMftgApiOptions } from '../helpers/mock-mftg-api.js';
import { waitUntil } from '../helpers/temp.js';
import { closedPort } from '../helpers/tunnel-servers.js';

const RECEIVED_ID = '<1609934788.3185.1616041941493@as2gateway.com>';
const MINUTE = 60_000;

interface Setup {
  api: MockMftgApi;
  client: MftgApiClient;
  sleeps: number[];
}

/** A mock API and a client signed in with its username and password; sleeps are recorded, not waited. */
async function setup(t: { after: (fn: () => Promise<void>) => void }, options: Partial<MftgApiClientOptions> = {}, mock: MockMftgApiOptions = {}): Promise<Setup> {
  const api = await startMockMftgApi(mock);
  const sleeps: number[] = [];
  const client = new MftgApiClient({
    baseUrl: api.url,
    credentials: { username: api.username, password: api.password },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    backoff: (attempt) => attempt * 10,
    ...options,
  });
  t.after(async () => {
    await client.close();
    await api.close();
  });
  return { api, client, sleeps };
}

/** The error a promise rejects with, which must be an MftgHooksError. */
async function failure(promise: Promise<unknown>): Promise<MftgHooksError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof MftgHooksError, `expected an MftgHooksError, got ${inspect(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}

/** Everything an error shows or carries, as text: message, hint, stack, enumerable fields, cause chain. */
function everything(error: unknown): string {
  return [String(error), (error as Error).stack, JSON.stringify(error), inspect(error, { depth: 10, showHidden: true }), (error as MftgHooksError).hint].join('\n');
}

function assertNoSecret(error: unknown, secrets: string[]): void {
  const text = everything(error);
  for (const secret of secrets) assert.ok(!text.includes(secret), `a secret appears in: ${text}`);
}

function addMany(api: MockMftgApi, count: number, now: number): string[] {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    // Newest first: message i is i minutes old.
    const id = `<${1_700_000_000 + i}.${4000 + i}.${now - i * MINUTE}@edi.initech.example>`;
    api.addMessage('received', { as2MessageId: id, senderAS2Id: '081466849', timestamp: now - i * MINUTE - 30_000 });
    ids.push(id);
  }
  return ids;
}

test('inbox listing: newest first, page by page, fetchAll=true and pageLength ≤ 100 on every list, token raw', async (t) => {
  // Given 250 received messages
  const now = Date.now();
  const { api, client } = await setup(t, {}, { seed: false });
  const ids = addMany(api, 250, now);

  // When every id is listed
  const pages: number[] = [];
  const listing = client.listMessages('received');
  for await (const page of listing) pages.push(page.ids.length);
  const all = (await client.listMessageIds('received')).ids;

  // Then all came, newest first, in pages of 100
  assert.deepEqual(pages, [100, 100, 50]);
  assert.equal(listing.end, 'end');
  assert.deepEqual(all, ids);
  const lists = api.apiRequests('/message/inbox');
  assert.equal(lists.length, 6);
  for (const entry of lists) {
    assert.equal(entry.query.fetchAll, 'true');
    assert.equal(entry.query.sortDir, 'desc');
    assert.ok(Number(entry.query.pageLength) <= 100);
  }
  assert.deepEqual(
    lists.slice(0, 3).map((entry) => entry.query.pageOffset),
    ['0', '1', '2'],
  );
  // And the token went raw in Authorization, the one /authorize handed out
  const token = api.tokensIssued[0]!;
  assert.ok(token.length > 20);
  for (const entry of lists) assert.equal(entry.headers.authorization, token);
  assert.equal(api.apiRequests('/authorize').length, 1);
  assert.throws(() => client.listMessages('received', { pageLength: 101 }), RangeError);
});

test('listing stops at `since` and at the page limit; boundary retrievals do not mark anything read', async (t) => {
  const now = Date.now();
  const { api, client } = await setup(t, {}, { seed: false });
  const ids = addMany(api, 250, now);

  // When listing down to 130.5 minutes ago (messages 0..130 are younger)
  const since = now - 130 * MINUTE - 45_000;
  const listing = client.listMessages('received', { since });
  const seen: string[] = [];
  let reused = 0;
  for await (const page of listing) {
    seen.push(...page.ids);
    reused += page.retrieved.size;
  }

  // Then exactly the messages inside the window came, and the listing says why it stopped
  assert.deepEqual(seen, ids.slice(0, 131));
  assert.equal(listing.end, 'since');
  assert.ok(reused > 0, 'boundary messages are handed over for reuse');
  // And every retrieval said markAsRead=false: nothing is read
  const retrievals = api.apiRequests('/message/inbox/');
  assert.ok(retrievals.length > 0);
  for (const entry of retrievals) assert.equal(entry.query.markAsRead, 'false');
  for (const id of ids) assert.equal(api.isRead(id), false);

  // When the page limit is smaller than the listing
  const limited = client.listMessages('received', { maxPages: 2 });
  let count = 0;
  for await (const page of limited) count += page.ids.length;
  assert.equal(count, 200);
  assert.equal(limited.end, 'page-limit');
});

test('one message by its URL-encoded id, with markAsRead=false; sent and failed come from the outbox', async (t) => {
  const { api, client } = await setup(t);

  // When a received message with <, > and @ in its id is retrieved
  const message = await client.getMessage('received', RECEIVED_ID);

  // Then the path had them percent-encoded and the message is not marked read
  assert.equal(message.as2MessageId, RECEIVED_ID);
  assert.equal(message.senderAS2Id, 'UMBRELLA_AS2');
  const [entry] = api.apiRequests('/message/inbox/');
  assert.equal(entry!.path, '/message/inbox/%3C1609934788.3185.1616041941493%40as2gateway.com%3E');
  assert.equal(entry!.rawQuery, 'markAsRead=false');
  assert.equal(api.isRead(RECEIVED_ID), false);

  // And the outbox lists have their own paths, without fetchAll
  assert.deepEqual((await client.listMessageIds('sent')).ids, ['<516327493100432@mftgateway.com>']);
  assert.deepEqual((await client.listMessageIds('failed')).ids, ['<720784109397786.as2@mftgateway.com>']);
  const failed = await client.getMessage('failed', '<720784109397786.as2@mftgateway.com>');
  assert.equal(failed.receiverAS2Id, 'TEST_CON');
  assert.deepEqual(
    api.apiRequests('/message/outbox').map((e) => `${e.path}?${e.rawQuery}`),
    [
      '/message/outbox?sortDir=desc&pageLength=100&pageOffset=0',
      '/message/outbox/failed?sortDir=desc&pageLength=100&pageOffset=0',
      '/message/outbox/%3C720784109397786.as2%40mftgateway.com%3E?markAsRead=false',
    ],
  );

  // And an unknown id is a clear not-found
  const missing = await failure(client.getMessage('received', '<nope@example.com>'));
  assert.equal(missing.code, 'E_MFTG_NOT_FOUND');
  assert.match(missing.message, /<nope@example\.com>/);
});

test('a token that expires mid-run is refreshed once and the run completes', async (t) => {
  const now = Date.now();
  const { api, client } = await setup(t, {}, { seed: false });
  const ids = addMany(api, 250, now);

  // When the api token expires after the first page
  const seen: string[] = [];
  for await (const page of client.listMessages('received')) {
    seen.push(...page.ids);
    if (page.pageOffset === 0) api.expireApiTokens();
  }

  // Then one refresh renewed it, no second sign-in, and nothing was missed
  assert.deepEqual(seen, ids);
  assert.equal(api.apiRequests('/refresh-session').length, 1);
  assert.equal(api.apiRequests('/authorize').length, 1);
  const statuses = api.apiRequests('/message/inbox').map((entry) => entry.status);
  assert.deepEqual(statuses, [200, 401, 200, 200]);
});

test('when the refresh token expired too, the client signs in again once', async (t) => {
  const { api, client } = await setup(t);
  await client.getMessage('received', RECEIVED_ID);

  // Given both tokens expired
  api.expireApiTokens();
  api.expireRefreshTokens();

  // When a message is retrieved, Then it works after a failed refresh and a new sign-in
  const message = await client.getMessage('received', RECEIVED_ID);
  assert.equal(message.as2MessageId, RECEIVED_ID);
  assert.deepEqual(
    api.apiRequests('/refresh-session').map((e) => e.status),
    [401],
  );
  assert.deepEqual(
    api.apiRequests('/authorize').map((e) => e.status),
    [200, 200],
  );
});

test('bad credentials: the clear error, and no password in it', async (t) => {
  const api = await startMockMftgApi();
  const client = new MftgApiClient({ baseUrl: api.url, credentials: { username: api.username, password: 'not-the-password-8Qz' } });
  t.after(async () => {
    await client.close();
    await api.close();
  });

  const error = await failure(client.listMessageIds('received'));

  assert.equal(error.code, 'E_MFTG_AUTH');
  assert.equal(error.message, 'MFTG refused the credentials in MFTG_API_USERNAME/MFTG_API_PASSWORD');
  assertNoSecret(error, ['not-the-password-8Qz', api.username]);
  assert.equal(api.apiRequests('/message').length, 0);
  // And the client itself shows no credential when logged or serialised
  for (const shown of [inspect(client, { showHidden: true, depth: 10 }), JSON.stringify(client)]) assert.ok(!shown.includes('not-the-password-8Qz'));
});

test('a token refused even after one refresh and one sign-in gives up with the clear error', async (t) => {
  const { api, client } = await setup(t);
  // Given MFTG refuses every token for the inbox (a revoked API user, say)
  api.inject({ match: '/message/', times: Infinity, status: 403, body: { message: 'User is not authorized' } });

  const error = await failure(client.getMessage('received', RECEIVED_ID));

  assert.equal(error.code, 'E_MFTG_AUTH');
  assert.equal(error.message, 'MFTG refused the credentials in MFTG_API_USERNAME/MFTG_API_PASSWORD');
  assert.equal(api.apiRequests('/refresh-session').length, 1);
  assert.equal(api.apiRequests('/authorize').length, 2);
  assert.equal(api.apiRequests('/message/').length, 3);
  assertNoSecret(error, [api.password, ...api.tokensIssued]);
});

test('MFTG_API_TOKEN is used as is; refused, it says so', async (t) => {
  const api = await startMockMftgApi();
  t.after(() => api.close());
  const token = api.issueToken();
  const client = new MftgApiClient({ baseUrl: api.url, credentials: { token } });
  t.after(() => client.close());

  // When a message is retrieved with a given token
  await client.getMessage('received', RECEIVED_ID);

  // Then no sign-in happened and the token went raw
  assert.equal(api.apiRequests('/authorize').length, 0);
  assert.equal(api.apiRequests('/message/')[0]!.headers.authorization, token);

  // When it expires, Then the error names the variable and shows no token
  api.expireApiTokens();
  const error = await failure(client.getMessage('received', RECEIVED_ID));
  assert.equal(error.code, 'E_MFTG_AUTH');
  assert.equal(error.message, 'MFTG refused the token in MFTG_API_TOKEN');
  assertNoSecret(error, [token]);

  assert.equal(
    (() => {
      try {
        new MftgApiClient({ baseUrl: api.url, credentials: { username: 'only-a-name' } });
      } catch (e) {
        return (e as MftgHooksError).code;
      }
      return null;
    })(),
    'E_MFTG_NO_CREDENTIALS',
  );
});

test('429 with Retry-After is honoured (seconds or an HTTP date); a wait beyond the cap fails instead', async (t) => {
  const { api, client, sleeps } = await setup(t);
  await client.authorize();
  // Given MFTG rate-limits the next request for 1 s
  api.inject({ match: '/message/inbox/', status: 429, headers: { 'retry-after': '1' }, body: { message: 'Too Many Requests' } });

  // When a message is retrieved
  const message = await client.getMessage('received', RECEIVED_ID);

  // Then the client waited the 1000 ms asked for and tried again
  assert.equal(message.as2MessageId, RECEIVED_ID);
  assert.deepEqual(sleeps, [1000]);
  assert.deepEqual(
    api.apiRequests('/message/inbox/').map((e) => e.status),
    [429, 200],
  );

  // And an HTTP-date Retry-After is read too; a wait beyond the cap fails instead of stalling
  assert.equal(retryAfterMs('Wed, 21 Oct 2015 07:28:05 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT')), 5000);
  api.inject({ match: '/message/inbox/', status: 429, headers: { 'retry-after': '3600' } });
  const error = await failure(client.getMessage('received', RECEIVED_ID));
  assert.equal(error.code, 'E_MFTG_API');
  assert.match(error.message, /rate limit asks to wait 3600 s/);
});

test('a 429 holds back the requests that start while it waits', async (t) => {
  // Given a real clock and a real (short) wait
  const api = await startMockMftgApi();
  const waits: number[] = [];
  const client = new MftgApiClient({
    baseUrl: api.url,
    credentials: { username: api.username, password: api.password },
    sleep: (ms) => {
      waits.push(ms);
      return new Promise((resolve) => setTimeout(resolve, ms));
    },
  });
  t.after(async () => {
    await client.close();
    await api.close();
  });
  await client.authorize();
  api.inject({ match: '/message/inbox/', status: 429, headers: { 'retry-after': '1' } });

  // When the first request is rate-limited and a second one starts during its wait
  const first = client.getMessage('received', RECEIVED_ID);
  await waitUntil(() => waits.length === 1, 'the client waiting out the 429');
  const second = client.getMessage('received', '<OPENAS2-20240301101500-4821@ZZGLOBEXCORP_ACME-AS2>');
  await Promise.all([first, second]);

  // Then the second one waited too: both retrievals after the 429 came after its pause
  assert.equal(waits.length, 2);
  assert.equal(waits[0], 1000);
  assert.ok(waits[1]! > 0 && waits[1]! <= 1000);
  const [limited, ...after] = api.apiRequests('/message/inbox/');
  for (const entry of after) assert.ok(entry.at - limited!.at >= 900, 'no retrieval inside the pause');
});

test('500 once, then 200: retried after the backoff', async (t) => {
  const { api, client, sleeps } = await setup(t);
  api.inject({ match: '/message/inbox', status: 500 });
  api.inject({ match: '/message/inbox', status: 503 });

  const { ids } = await client.listMessageIds('received');

  assert.equal(ids.length, 3);
  assert.deepEqual(sleeps, [10, 20]);
  assert.deepEqual(
    api.apiRequests('/message/inbox').map((e) => e.status),
    [500, 503, 200],
  );

  // When 5xx never stops, Then it gives up after the bounded tries with a clear error
  api.inject({ match: '/message/inbox', status: 502, times: Infinity });
  const error = await failure(client.listMessageIds('received'));
  assert.equal(error.code, 'E_MFTG_API');
  assert.equal(error.message, 'MFTG answered 502 to GET /message/inbox 4 times (Internal server error)');
});

test('a hanging API ends in the timeout error after the bounded tries', async (t) => {
  const { api, client } = await setup(t, { timeoutMs: 150, maxTries: 2 });
  await client.authorize();
  api.inject({ match: '/message/inbox', hang: true, times: Infinity });

  const error = await failure(client.listMessageIds('received'));

  assert.equal(error.code, 'E_MFTG_TIMEOUT');
  assert.equal(error.message, 'MFTG did not answer GET /message/inbox within 150 ms');
  assert.equal(api.apiRequests('/message/inbox').length, 2);
});

test('an unreachable API is a clear error with a hint', async (t) => {
  const port = await closedPort();
  const client = new MftgApiClient({ baseUrl: `http://127.0.0.1:${port}`, credentials: { username: 'edi-api@acmecorp.example', password: 'pw-unreachable-1' } });
  t.after(() => client.close());

  const error = await failure(client.listMessageIds('received'));

  assert.equal(error.code, 'E_MFTG_UNREACHABLE');
  assert.equal(error.message, `cannot reach the MFTG API at http://127.0.0.1:${port} (ECONNREFUSED)`);
  assert.equal(error.hint, 'check your network connection, or MFTG_HOOKS_API_URL if you set it');
  assertNoSecret(error, ['pw-unreachable-1']);
});

test('at most 4 requests are in flight', async (t) => {
  const now = Date.now();
  const { api, client } = await setup(t, {}, { seed: false, latencyMs: 25 });
  const ids = addMany(api, 16, now);
  await client.authorize();

  // When 16 messages are retrieved at once
  const messages = await Promise.all(ids.map((id) => client.getMessage('received', id)));

  // Then they all came, never more than 4 at a time (and 4 at a time, so it is not serial)
  assert.deepEqual(
    messages.map((m) => m.as2MessageId),
    ids,
  );
  assert.equal(api.maxInFlight, 4);
});

test('attachments: listed, downloaded byte for byte (binary) without the API token', async (t) => {
  const { api, client } = await setup(t);
  const id = '<OPENAS2-20240301101500-4821@ZZGLOBEXCORP_ACME-AS2>';

  // When the files of a message are listed and downloaded
  const links = await client.listAttachments('received', id);
  const edi = await client.downloadAttachment(links[0]!);
  const binary = await client.downloadAttachment(links[1]!);
  const chunks: Buffer[] = [];
  for await (const chunk of await client.openAttachment(links[1]!)) chunks.push(chunk as Buffer);

  // Then the names and bytes are MFTG's exactly
  assert.deepEqual(
    links.map((l) => l.name),
    ['PO_850_4500012345.edi', 'Attachment.raw'],
  );
  const message = api.messages.get(id)!;
  assert.ok(edi.equals(api.files.get(message.attachmentPaths[0]!)!));
  assert.ok(binary.equals(seedBinary()));
  assert.ok(Buffer.concat(chunks).equals(seedBinary()));
  // And the listing said markAsRead=false, the downloads carried no Authorization
  assert.equal(api.apiRequests('/message/inbox/')[0]!.query.markAsRead, 'false');
  const downloads = api.log.filter((entry) => entry.path.startsWith('/s3/'));
  assert.equal(downloads.length, 3);
  for (const entry of downloads) {
    assert.equal(entry.status, 200);
    assert.equal(entry.headers.authorization, undefined);
  }
  assert.equal(api.isRead(id), false);
});

test('an expired download link: "the download links expired; ask again", without the signature', async (t) => {
  const { api, client } = await setup(t);
  const links = await client.listAttachments('received', RECEIVED_ID);
  api.expireDownloadLinks();

  const error = await failure(client.downloadAttachment(links[0]!));

  assert.equal(error.code, 'E_MFTG_LINK_EXPIRED');
  assert.equal(error.message, 'the download links expired; ask again');
  const signature = new URL(links[0]!.url).searchParams.get('X-Amz-Signature')!;
  assertNoSecret(error, [signature, api.password, ...api.tokensIssued]);
});

test('no credential or token in any error the client throws', async (t) => {
  const { api, client } = await setup(t, { timeoutMs: 150, maxTries: 1 });
  const errors: unknown[] = [];
  const collect = async (promise: Promise<unknown>): Promise<void> => {
    errors.push(await failure(promise));
  };
  await client.authorize();
  // An error answer that echoes what it was sent must not carry it through.
  api.inject({ match: '/message/inbox', status: 400, body: { message: `bad request from ${api.username} with ${api.tokensIssued[0]}` } });
  await collect(client.listMessageIds('received'));
  api.inject({ match: '/message/inbox', status: 500 });
  await collect(client.listMessageIds('received'));
  api.inject({ match: '/message/inbox', hang: true });
  await collect(client.listMessageIds('received'));
  await collect(client.getMessage('received', '<missing@example.com>'));
  api.inject({ match: '/message/', times: Infinity, status: 401 });
  await collect(client.getMessage('received', RECEIVED_ID));

  assert.equal(errors.length, 5);
  assert.match(String((errors[0] as Error).message), /bad request from \*\*\* with \*\*\*/);
  for (const error of errors) assertNoSecret(error, [api.password, api.username, ...api.tokensIssued]);
  assert.ok(api.tokensIssued.length >= 2);
});
