import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { CaptureServer, capturedPath, originForm } from '../../src/core/capture-server.js';
import { forwardableHeaders, joinTarget } from '../../src/core/http-send.js';
import type { CapturedEvent } from '../../src/core/types.js';

test('only the token path (and below) is the capture URL; the query is kept', () => {
  assert.equal(capturedPath('/tok', 'tok'), '/');
  assert.equal(capturedPath('/tok/', 'tok'), '/');
  assert.equal(capturedPath('/tok?a=1', 'tok'), '/?a=1');
  assert.equal(capturedPath('/tok/as2/in?a=1&b', 'tok'), '/as2/in?a=1&b');
  assert.equal(capturedPath('/tokx', 'tok'), null);
  assert.equal(capturedPath('/', 'tok'), null);
  assert.equal(capturedPath('/other/tok', 'tok'), null);
  assert.equal(capturedPath('/anything?x', null), '/anything?x');
});

/** Sub-paths that a URL parser, proxy or framework on the way may read as "go up" or "start over". */
const ESCAPES = [
  '/..',
  '/../admin',
  '/./admin',
  '/%2e%2e/admin',
  '/%2E%2e/admin',
  '/.%2e/admin',
  '/%2e./admin',
  '/..\\admin',
  '/%5c..',
  '/%5C..%5Cadmin',
  '//admin',
  '/a//b',
  '/%2f../admin',
  '/%2F',
  '/%252e%252e/admin',
  '/..;x/admin',
  '/a/b/../../..',
];

test('a sub-path with a dot segment in any spelling is not the capture URL, with or without a token', () => {
  for (const escape of ESCAPES) {
    assert.equal(capturedPath(`/tok${escape}`, 'tok'), null, escape);
    assert.equal(capturedPath(`/tok${escape}?q=1`, 'tok'), null, escape);
    assert.equal(capturedPath(`${escape}`, null), null, escape);
  }
  // Dots inside names, a trailing slash and dots in the query are fine
  assert.equal(capturedPath('/tok/a..b/.well/c.json', 'tok'), '/a..b/.well/c.json');
  assert.equal(capturedPath('/tok/a/', 'tok'), '/a/');
  assert.equal(capturedPath('/tok/a?next=../../x', 'tok'), '/a?next=../../x');
});

test('joinTarget keeps every target below its base path, whatever path a stored event has', () => {
  for (const base of ['http://localhost:3000/webhooks/mftg', 'http://localhost:3000/webhooks/mftg/', 'http://127.0.0.1:4000/routes/failed?k=v', 'http://localhost:3000']) {
    for (const escape of ESCAPES) {
      // Given a stored path that climbs out (or would be rewritten by new URL()), Then no target is made
      assert.throws(() => joinTarget(base, `${escape}?x=1`), { code: 'E_NO_TARGET', message: /captured path/ }, `${base} + ${escape}`);
    }
  }
  assert.throws(() => joinTarget('http://localhost:3000/hook', 'admin'), { code: 'E_NO_TARGET' }, 'a path must start below the base');
  assert.equal(joinTarget('http://localhost:3000/hook', '/a..b/c.d?next=../x'), 'http://localhost:3000/hook/a..b/c.d?next=../x');
});

test('the origin form of absolute-form request targets (RFC 9112 §3.2.2) keeps the path as sent', () => {
  assert.equal(originForm('/tok/a?x'), '/tok/a?x');
  assert.equal(originForm('http://example.com/tok/a?x=1'), '/tok/a?x=1');
  assert.equal(originForm('HTTPS://user@example.com:8443/tok'), '/tok');
  assert.equal(originForm('http://example.com'), '/');
  assert.equal(originForm('http://example.com?x'), '/?x');
  assert.equal(originForm('http://example.com/tok/../admin'), '/tok/../admin', 'dot segments are left for the check to refuse');
  assert.equal(originForm('*'), null);
  assert.equal(originForm('ftp://example.com/tok'), null);
});

test('targets get the sub-path and query; hop-by-hop headers are dropped', () => {
  assert.equal(joinTarget('http://localhost:3000/hook', '/'), 'http://localhost:3000/hook');
  assert.equal(joinTarget('http://localhost:3000/hook/', '/a/b?x=1'), 'http://localhost:3000/hook/a/b?x=1');
  assert.equal(joinTarget('http://localhost:3000/hook?k=v', '/?x=1'), 'http://localhost:3000/hook?k=v&x=1');
  const headers: Array<[string, string]> = [
    ['Host', 'abc.loca.lt'],
    ['Content-Type', 'application/json'],
    ['Connection', 'keep-alive, X-Trace'],
    ['X-Trace', '1'],
    ['Transfer-Encoding', 'chunked'],
    ['Keep-Alive', 'timeout=5'],
    ['X-Forwarded-For', '1.2.3.4'],
    ['Content-Length', '10'],
  ];
  assert.deepEqual(forwardableHeaders(headers, 10), ['Content-Type', 'application/json', 'X-Forwarded-For', '1.2.3.4', 'Content-Length', '10']);
  assert.deepEqual(forwardableHeaders(headers, 11), ['Content-Type', 'application/json', 'X-Forwarded-For', '1.2.3.4'], 'a wrong content-length is left to undici to compute');
});

test('stalled clients time out; the server keeps capturing', async (t) => {
  const captured: CapturedEvent[] = [];
  const rejected: string[] = [];
  const server = new CaptureServer({
    port: 0,
    bind: '127.0.0.1',
    token: 'tok',
    maxBodyBytes: 1024,
    persist: async () => undefined,
    onCaptured: (event) => captured.push(event),
    onRejected: (reason) => rejected.push(reason),
    headersTimeoutMs: 200,
    requestTimeoutMs: 400,
  });
  const port = await server.listen();
  t.after(() => server.close());
  const stall = (first: string): Promise<string> =>
    new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1', () => socket.write(first));
      let data = '';
      socket.on('data', (d) => (data += d.toString()));
      socket.on('close', () => resolve(data));
      socket.on('error', () => resolve(data));
    });
  // Given a client that never finishes its headers, and one that never finishes its body
  const [headers, body] = await Promise.all([stall('POST /tok HTTP/1.1\r\nHost: x\r\n'), stall('POST /tok HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"partial":')]);
  // Then both are cut off with 408 and nothing was captured from them
  assert.match(headers, /^HTTP\/1\.1 408/);
  assert.match(body, /^HTTP\/1\.1 408/);
  assert.equal(captured.length, 0);
  // And each is counted once, as a timeout
  assert.deepEqual(rejected, ['timeout', 'timeout']);
  const ok = await fetch(`http://127.0.0.1:${port}/tok`, { method: 'POST', body: '{}' });
  assert.equal(ok.status, 200);
  assert.equal(captured.length, 1);
});

/** Writes `bytes` in one write and collects everything the server sends until it closes. */
function exchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    let data = '';
    socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(data));
  });
}

async function startCapture(t: { after: (fn: () => Promise<void>) => void }) {
  const stored: CapturedEvent[] = [];
  const bodies: Buffer[] = [];
  const rejected: string[] = [];
  const server = new CaptureServer({
    port: 0,
    bind: '127.0.0.1',
    token: 'tok',
    maxBodyBytes: 1024,
    persist: async (event, body) => {
      stored.push(event);
      bodies.push(body);
    },
    onCaptured: () => undefined,
    onRejected: (reason) => rejected.push(reason),
  });
  const port = await server.listen();
  t.after(() => server.close());
  return { port, stored, bodies, rejected };
}

const pipelined = (path: string, body: string): string => `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
const statusLines = (answer: string): string[] => answer.match(/HTTP\/1\.1 \d{3}/g) ?? [];

test('a complete request pipelined with garbage is answered 200 before the 400, and stored once', async (t) => {
  const { port, stored, bodies, rejected } = await startCapture(t);
  // Given a valid POST and unparsable bytes in one write on one connection
  const answer = await exchange(port, 'POST /tok/first HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}GARBAGE \x01\r\n\r\n');
  // Then the client reads the 200 first, then the 400, and the event was stored once
  assert.deepEqual(statusLines(answer), ['HTTP/1.1 200', 'HTTP/1.1 400']);
  assert.match(answer, /^HTTP\/1\.1 200 OK\r\n/);
  assert.equal(stored.length, 1);
  assert.equal(stored[0]!.path, '/first');
  assert.equal(bodies[0]!.toString(), '{}');
  // And the garbage is counted as rejected, once
  assert.deepEqual(rejected, ['malformed']);
});

test('several pipelined requests before the garbage are each answered, in order, before the 400', async (t) => {
  const { port, stored } = await startCapture(t);
  // Given two captures pipelined, then a request line that is not HTTP
  const answer = await exchange(port, pipelined('/tok/a', '{"n":1}') + pipelined('/tok/b', '{"n":2}') + 'NOT HTTP AT ALL\r\n\r\n');
  // Then 200, 200 come back in order and the 400 last; both captures are stored once
  assert.deepEqual(statusLines(answer), ['HTTP/1.1 200', 'HTTP/1.1 200', 'HTTP/1.1 400']);
  assert.deepEqual(
    stored.map((event) => event.path),
    ['/a', '/b'],
  );
});

test('requests pipelined behind a 404 (which closes the connection) are not stored unanswered', async (t) => {
  const { port, stored } = await startCapture(t);
  // Given a wrong path, then two deliveries, on one connection in one write
  const answer = await exchange(port, pipelined('/wrong', 'x') + pipelined('/tok/a', '{"n":1}') + pipelined('/tok/b', '{"n":2}'));
  // Then only the 404 is answered, and nothing is stored that the sender will send again
  assert.deepEqual(statusLines(answer), ['HTTP/1.1 404']);
  assert.equal(stored.length, 0);
});

test('garbage inside a request still gets a 400 at once, and nothing is stored', async (t) => {
  const { port, stored, rejected } = await startCapture(t);
  // Given a chunked body with a chunk size that is not hexadecimal
  const answer = await exchange(port, 'POST /tok HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n');
  assert.deepEqual(statusLines(answer), ['HTTP/1.1 400']);
  assert.equal(stored.length, 0);
  assert.deepEqual(rejected, ['malformed'], 'counted once, not also as aborted');
});

test('absolute-form request targets are accepted: the path comes from the URL', async (t) => {
  const { port, stored } = await startCapture(t);
  // Given a POST whose request target is an absolute URL (as a proxy would send it)
  const answer = await exchange(port, 'POST http://hooks.example.com/tok/as2/in?x=1 HTTP/1.1\r\nHost: hooks.example.com\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}');
  // Then it is captured with the path below the token
  assert.match(answer, /^HTTP\/1\.1 200 /);
  assert.equal(stored.length, 1);
  assert.equal(stored[0]!.path, '/as2/in?x=1');
  // And an absolute URL outside the token, or of another scheme, is the plain 404
  for (const target of ['http://hooks.example.com/other', 'http://hooks.example.com/tok/../x', 'ftp://hooks.example.com/tok']) {
    assert.match(await exchange(port, `POST ${target} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`), /^HTTP\/1\.1 404 /, target);
  }
  assert.equal(stored.length, 1);
});
