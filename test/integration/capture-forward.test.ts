import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { test } from 'node:test';
import type { SessionElement } from '../../src/core/session.js';
import { EventStore } from '../../src/core/store/store.js';
import type { ForwardAttempt } from '../../src/core/types.js';
import { fixtures, largeBody } from '../fixtures/mftg-payloads.js';
import { runCli } from '../helpers/cli.js';
import { startRecordingHandler } from '../helpers/recording-handler.js';
import { startSession, TEST_TOKEN } from '../helpers/session.js';
import { waitUntil } from '../helpers/temp.js';

/**
 * A POST written byte by byte on a socket, so header order, case and framing are exactly as given
 * (Node's client and fetch add and reorder headers). Content-Length is added unless given.
 */
function post(url: string, body: Buffer, headers: Array<[string, string]> = []): Promise<{ status: number; body: Buffer; at: number }> {
  const target = new URL(url);
  const all = headers.some(([name]) => name.toLowerCase() === 'content-length') ? headers : [...headers, ['Content-Length', String(body.length)] as [string, string]];
  const head = [`POST ${target.pathname}${target.search} HTTP/1.1`, `Host: ${target.host}`, ...all.map(([n, v]) => `${n}: ${v}`), 'Connection: close', '', ''].join('\r\n');
  return new Promise((resolve, reject) => {
    const socket = connect(Number(target.port), target.hostname, () => {
      socket.write(head);
      socket.write(body);
    });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const raw = Buffer.concat(chunks);
      const split = raw.indexOf('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(raw.toString('latin1'))?.[1] ?? 0);
      resolve({ status, body: split < 0 ? Buffer.alloc(0) : raw.subarray(split + 4), at: Date.now() });
    });
  });
}

const attemptsOf = (elements: SessionElement[], eventId: string): ForwardAttempt[] => elements.flatMap((e) => (e.type === 'attempt' && e.attempt.eventId === eventId ? [e.attempt] : []));

test('MFTG payloads, text, binary, empty and 5 MiB bodies reach the handler byte for byte', async (t) => {
  const handler = await startRecordingHandler();
  const { session, elements, storeDir, close } = await startSession({ targets: { forwardTo: handler.url, routes: {} } });
  t.after(async () => {
    await close();
    await handler.close();
  });
  const cases = [
    ...fixtures(),
    { name: '5 MiB JSON', body: largeBody(), contentType: 'application/json', eventType: 'MESSAGE.RECEIVED.SUCCESS', messageId: '<1609934788.3185.1616041941493@as2gateway.com>' },
  ];
  // When each is delivered to a sub-path with a query string and a custom header
  for (const [i, c] of cases.entries()) {
    const headers: Array<[string, string]> = [
      ['X-Case', String(i)],
      ['Connection', 'keep-alive, X-Hop'],
      ['X-Hop', 'drop me'],
    ];
    if (c.contentType) headers.push(['Content-Type', c.contentType]);
    headers.push(['Content-Length', String(c.body.length)]);
    const ack = await post(`${session.captureUrl}/inbound/as2?case=${i}`, c.body, headers);
    assert.equal(ack.status, 200, c.name);
    assert.equal(ack.body.length, 0, 'the ack has an empty body');
  }
  const received = await handler.waitFor(cases.length);
  // Then the handler got exact bytes, the original headers minus hop-by-hop ones, and the sub-path
  for (const [i, c] of cases.entries()) {
    const got = received.find((r) => r.headers['x-case'] === String(i));
    assert.ok(got, `${c.name} reached the handler`);
    assert.ok(got.body.equals(c.body), `${c.name}: body bytes identical`);
    assert.equal(got.url, `/hook/inbound/as2?case=${i}`);
    assert.equal(got.headers['content-type'], c.contentType ?? undefined);
    assert.equal(got.headers['x-hop'], undefined, 'headers named in Connection are dropped');
    assert.equal(got.headers.host, `127.0.0.1:${handler.port}`, 'host is the target');
    const names = got.rawHeaders.filter((_, k) => k % 2 === 0).filter((n) => !['host', 'connection'].includes(n));
    // undici writes content-length itself (lower case); every other header keeps its case and order
    assert.deepEqual(names, ['X-Case', ...(c.contentType ? ['Content-Type'] : []), 'content-length'], 'original names, case and order');
  }
  // And every attempt is recorded as a 200 forward
  await waitUntil(() => elements.filter((e) => e.type === 'attempt').length === cases.length, 'all attempts');
  // And `events list --json` (another process) names the eventType and message id of each
  const listed = await runCli(['events', 'list', '--json', '--store', storeDir]);
  assert.equal(listed.code, 0, listed.stderr);
  const records = listed.stdout
    .toString()
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.deepEqual(
    records.map((r) => [r.eventType, r.messageId, r.size]),
    cases.map((c) => [c.eventType, c.messageId, c.body.length]),
  );
  const store = await EventStore.open(storeDir);
  for (const r of records)
    assert.deepEqual(
      (await store.get(String(r.id))).attempts.map((a) => [a.kind, a.status]),
      [['forward', 200]],
    );
});

test('500 concurrent deliveries: each acked one is stored exactly once and forwarded once', async (t) => {
  const handler = await startRecordingHandler();
  const { session, storeDir, close } = await startSession({ targets: { forwardTo: handler.url, routes: {} } });
  t.after(async () => {
    await close();
    await handler.close();
  });
  const count = 500;
  const acks = await Promise.all(Array.from({ length: count }, (_, i) => post(`${session.captureUrl}?n=${i}`, Buffer.from(JSON.stringify({ eventType: 'MESSAGE.SEND.SUCCESS', n: i })))));
  assert.ok(acks.every((a) => a.status === 200));
  await handler.waitFor(count);
  const store = await EventStore.open(storeDir);
  await waitUntil(async () => (await store.list({ limit: count + 10 })).every((e) => e.attempts.length === 1), 'all attempts stored');
  const stored = await store.list({ limit: count + 10 });
  assert.equal(stored.length, count);
  assert.equal(new Set(stored.map((e) => e.path)).size, count, 'each delivery stored once');
  assert.equal(new Set(handler.requests.map((r) => r.url)).size, count, 'each delivery forwarded once');
  assert.equal(handler.requests.length, count);
});

test('the ack never waits for a slow handler; a timeout, a 500 and a 302 are recorded as they were', async (t) => {
  const handler = await startRecordingHandler();
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  handler.respond(async (req, res) => {
    const mode = new URL(req.url, 'http://x').searchParams.get('mode');
    if (mode === 'slow') {
      await released;
      res.end('late');
    } else if (mode === 'error') {
      res.writeHead(500, { 'x-why': 'boom' }).end('handler crashed');
    } else if (mode === 'redirect') {
      res.writeHead(302, { location: '/elsewhere' }).end();
    } else res.end('ok');
  });
  const { session, elements, close } = await startSession({ targets: { forwardTo: handler.url, routes: {} }, timeoutMs: 300 });
  t.after(async () => {
    release();
    await close();
    await handler.close();
  });
  // When the handler hangs, the capture is acked before the handler answers
  const slowAck = await post(`${session.captureUrl}?mode=slow`, Buffer.from('{}'));
  assert.equal(slowAck.status, 200);
  assert.equal(handler.requests.length <= 1, true);
  await post(`${session.captureUrl}?mode=error`, Buffer.from('{}'));
  await post(`${session.captureUrl}?mode=redirect`, Buffer.from('{}'));
  await waitUntil(() => elements.filter((e) => e.type === 'attempt').length === 3, 'three attempts');
  const events = elements.flatMap((e) => (e.type === 'event' ? [e.event] : []));
  const [slow, error, redirect] = events.map((e) => attemptsOf(elements, e.id)[0]!);
  assert.equal(slow!.error, 'TIMEOUT');
  assert.equal(slow!.status, null);
  assert.ok(slow!.durationMs >= 250, `timed out after ${slow!.durationMs} ms`);
  assert.equal(error!.status, 500);
  assert.deepEqual(
    error!.responseHeaders.find(([n]) => n === 'x-why'),
    ['x-why', 'boom'],
  );
  assert.equal(redirect!.status, 302);
  assert.deepEqual(
    redirect!.responseHeaders.find(([n]) => n === 'location'),
    ['location', '/elsewhere'],
  );
  assert.equal(handler.requests.filter((r) => r.url === '/elsewhere').length, 0, 'redirects are not followed');
  const store = session.eventStore;
  const errorBody = await store.attemptBody(error!.eventId, error!.id);
  assert.equal(errorBody.toString(), 'handler crashed');
});

test('a handler that is down, then up: the ack is unaffected and waiting events are re-delivered in order', async (t) => {
  // Given a port where nothing listens yet
  const probe = await startRecordingHandler();
  const port = probe.port;
  await probe.close();
  const { session, elements, close } = await startSession({ targets: { forwardTo: `http://127.0.0.1:${port}/hook`, routes: {} }, retries: 3, retryBackoffMs: 50 });
  t.after(close);
  for (let i = 0; i < 5; i++) assert.equal((await post(`${session.captureUrl}?n=${i}`, Buffer.from(`{"n":${i}}`))).status, 200);
  await waitUntil(() => elements.filter((e) => e.type === 'attempt' && e.attempt.error === 'ECONNREFUSED').length >= 1, 'a refused attempt');
  // When the handler comes up on that port
  const handler = await startRecordingHandler({ port });
  t.after(() => handler.close());
  const received = await handler.waitFor(5);
  assert.deepEqual(
    received.map((r) => r.body.toString()),
    ['{"n":0}', '{"n":1}', '{"n":2}', '{"n":3}', '{"n":4}'],
  );
  await waitUntil(() => elements.filter((e) => e.type === 'attempt' && e.attempt.status === 200).length === 5, 'five successful attempts');
  assert.equal(handler.requests.length, 5, 'once each');
});

test('wrong paths get a bare 404, oversized bodies 413, garbage bytes no crash', async (t) => {
  const handler = await startRecordingHandler();
  const { session, elements, close } = await startSession({ targets: { forwardTo: handler.url, routes: {} }, maxBodyBytes: 1024 });
  t.after(async () => {
    await close();
    await handler.close();
  });
  const base = session.captureUrl.replace(`/${TEST_TOKEN}`, '');
  const wrong = await post(`${base}/not-the-token`, Buffer.from('{}'));
  assert.equal(wrong.status, 404);
  assert.equal(wrong.body.length, 0);
  const prefix = await post(`${base}/${TEST_TOKEN}x`, Buffer.from('{}'));
  assert.equal(prefix.status, 404, 'a longer first segment is not the token');
  // Declared too large, and chunked past the limit
  assert.equal((await post(session.captureUrl, Buffer.alloc(2048, 1), [['content-length', '2048']])).status, 413);
  const chunked = await new Promise<number>((resolve, reject) => {
    const req = httpRequest(session.captureUrl, { method: 'POST', agent: false }, (res) => resolve(res.statusCode ?? 0));
    req.on('error', reject);
    for (let i = 0; i < 4; i++) req.write(Buffer.alloc(512, 2));
    req.end();
  });
  assert.equal(chunked, 413);
  // Garbage on a raw socket
  const answer = await new Promise<string>((resolve) => {
    const socket = connect(Number(new URL(base).port), '127.0.0.1', () => socket.write(Buffer.from([0x16, 0x03, 0x01, 0xff, 0x00, 0x0d, 0x0a, 0x0d, 0x0a])));
    let data = '';
    socket.on('data', (d) => (data += d.toString()));
    socket.on('close', () => resolve(data));
    socket.on('error', () => resolve(data));
  });
  assert.match(answer, /^HTTP\/1\.1 400/);
  // The server still captures afterwards, and nothing rejected was stored or forwarded
  assert.equal((await post(session.captureUrl, Buffer.from('{"ok":true}'))).status, 200);
  await handler.waitFor(1);
  assert.equal(handler.requests.length, 1);
  assert.equal((await session.eventStore.list({ limit: 10 })).length, 1);
  // And each refusal was counted, the garbage too
  assert.deepEqual(session.stats.rejectedByReason, { 'not-found': 2, 'too-large': 2, malformed: 1 });
  assert.deepEqual(
    elements.flatMap((e) => (e.type === 'rejected' ? [e.reason] : [])),
    ['not-found', 'not-found', 'too-large', 'too-large', 'malformed'],
  );
});
