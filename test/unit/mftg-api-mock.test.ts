import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { test } from 'node:test';
import { request } from 'undici';
import { startMockMftgApi, type MockMftgApi } from '../helpers/mock-mftg-api.js';

/** A raw request, the path sent exactly as written (no client-side encoding). */
function raw(api: MockMftgApi, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${api.url}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function signIn(api: MockMftgApi): Promise<string> {
  const answer = await raw(api, 'POST', '/authorize', { 'content-type': 'application/json' }, JSON.stringify({ username: api.username, password: api.password }));
  assert.equal(answer.status, 200);
  return (JSON.parse(answer.body) as { api_token: string }).api_token;
}

const ID = '<1609934788.3185.1616041941493@as2gateway.com>';

test('the mock is strict like MFTG: raw tokens only, page limits, encoded ids', async (t) => {
  const api = await startMockMftgApi();
  t.after(() => api.close());
  const token = await signIn(api);

  // Given a valid token: raw it works, as "Bearer <token>" or absent it is refused
  assert.equal((await raw(api, 'GET', '/message/inbox?fetchAll=true', { authorization: token })).status, 200);
  assert.equal((await raw(api, 'GET', '/message/inbox?fetchAll=true', { authorization: `Bearer ${token}` })).status, 403);
  assert.equal((await raw(api, 'GET', '/message/inbox?fetchAll=true')).status, 401);

  // Then pageLength is 1..100, pageOffset a non-negative integer, sortDir asc|desc
  const auth = { authorization: token };
  assert.equal((await raw(api, 'GET', '/message/inbox?pageLength=100', auth)).status, 200);
  assert.equal((await raw(api, 'GET', '/message/inbox?pageLength=101', auth)).status, 400);
  assert.equal((await raw(api, 'GET', '/message/inbox?pageLength=0', auth)).status, 400);
  assert.equal((await raw(api, 'GET', '/message/inbox?pageOffset=-1', auth)).status, 400);
  assert.equal((await raw(api, 'GET', '/message/inbox?sortDir=newest', auth)).status, 400);

  // And an id is found only percent-encoded once: raw or doubly encoded it is a 404
  assert.equal((await raw(api, 'GET', `/message/inbox/${encodeURIComponent(ID)}?markAsRead=false`, auth)).status, 200);
  assert.equal((await raw(api, 'GET', `/message/inbox/${ID}?markAsRead=false`, auth)).status, 404);
  assert.equal((await raw(api, 'GET', `/message/inbox/${encodeURIComponent(encodeURIComponent(ID))}?markAsRead=false`, auth)).status, 404);
  assert.equal((await raw(api, 'GET', `/message/inbox/${encodeURI(ID)}?markAsRead=false`, auth)).status, 404);
  assert.equal(api.isRead(ID), false);
});

test('the mock: a retrieval without markAsRead=false marks the message read and hides it from lists without fetchAll', async (t) => {
  const api = await startMockMftgApi();
  t.after(() => api.close());
  const auth = { authorization: await signIn(api) };
  const list = async (query: string): Promise<string[]> => (JSON.parse((await raw(api, 'GET', `/message/inbox?pageLength=100${query}`, auth)).body) as { messages: string[] }).messages;
  assert.ok((await list('')).includes(ID));

  // When the message is retrieved the default way
  const answer = await raw(api, 'GET', `/message/inbox/${encodeURIComponent(ID)}`, auth);
  assert.equal(answer.status, 200);

  // Then it is read: gone from the plain list, still in the fetchAll list
  assert.equal(api.isRead(ID), true);
  assert.equal((await list('')).includes(ID), false);
  assert.equal((await list('&fetchAll=true')).includes(ID), true);
});

test('the mock: expired tokens, refresh, download links that expire and refuse a second auth mechanism', async (t) => {
  const api = await startMockMftgApi();
  t.after(() => api.close());
  const signedIn = await raw(api, 'POST', '/authorize', { 'content-type': 'application/json' }, JSON.stringify({ username: api.username, password: api.password }));
  const { api_token: token, refresh_token: refreshToken } = JSON.parse(signedIn.body) as { api_token: string; refresh_token: string };
  assert.equal((await raw(api, 'POST', '/authorize', {}, JSON.stringify({ username: api.username, password: 'wrong' }))).status, 401);

  // Given an expired api token, the api refuses it and a refresh gives a new one
  api.expireApiTokens();
  assert.equal((await raw(api, 'GET', '/message/inbox', { authorization: token })).status, 401);
  const refreshed = await raw(api, 'POST', '/refresh-session', {}, JSON.stringify({ username: api.username, refreshToken }));
  assert.equal(refreshed.status, 200);
  const fresh = (JSON.parse(refreshed.body) as { api_token: string }).api_token;
  assert.equal((await raw(api, 'GET', '/message/inbox', { authorization: fresh })).status, 200);
  api.expireRefreshTokens();
  assert.equal((await raw(api, 'POST', '/refresh-session', {}, JSON.stringify({ username: api.username, refreshToken }))).status, 401);

  // When a download link is used: with an Authorization header it is refused, without it works, expired it is 403
  const files = JSON.parse((await raw(api, 'GET', `/message/inbox/${encodeURIComponent(ID)}/attachments`, { authorization: fresh })).body) as {
    total: number;
    attachments: Array<{ name: string; url: string }>;
  };
  assert.equal(files.total, 1);
  assert.equal(files.attachments[0]!.name, 'ASN_856_000123.x12');
  const url = files.attachments[0]!.url;
  assert.equal((await request(url, { headers: { authorization: fresh } })).statusCode, 400);
  const ok = await request(url);
  assert.equal(ok.statusCode, 200);
  assert.ok((await ok.body.text()).startsWith('ISA*00*'));
  const tampered = await request(url.replace(/X-Amz-Signature=[0-9a-f]/, 'X-Amz-Signature=x'));
  assert.equal(tampered.statusCode, 403);
  await tampered.body.dump();
  api.expireDownloadLinks();
  const expired = await request(url);
  assert.equal(expired.statusCode, 403);
  assert.match(await expired.body.text(), /Request has expired/);
});
