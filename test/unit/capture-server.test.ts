import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { CaptureServer, capturedPath } from '../../src/core/capture-server.js';
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
  const server = new CaptureServer({
    port: 0,
    bind: '127.0.0.1',
    token: 'tok',
    maxBodyBytes: 1024,
    persist: async () => undefined,
    onCaptured: (event) => captured.push(event),
    onRejected: () => undefined,
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
  const ok = await fetch(`http://127.0.0.1:${port}/tok`, { method: 'POST', body: '{}' });
  assert.equal(ok.status, 200);
  assert.equal(captured.length, 1);
});
