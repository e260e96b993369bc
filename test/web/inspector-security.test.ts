import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { MftgHooksError } from '../../src/core/errors.js';
import { candidatePorts, parseInspectAddress } from '../../src/web/address.js';
import { startInspector, type Inspector } from '../../src/web/server.js';
import { FakeSessionView } from '../helpers/fake-session-view.js';
import { startRecordingHandler, type RecordingHandler } from '../helpers/recording-handler.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw request with exactly these headers (Host included), as a browser or an attacker sends it. */
function call(port: number, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, setHost: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('web inspector security', () => {
  let view: FakeSessionView;
  let handler: RecordingHandler;
  let inspector: Inspector;
  let host: string;
  let secret: string;
  let eventId: string;

  before(async () => {
    handler = await startRecordingHandler();
    view = await FakeSessionView.create({ targets: { forwardTo: handler.url, routes: {} } });
    inspector = await startInspector(view, { address: '127.0.0.1:0' });
    host = `127.0.0.1:${inspector.port}`;
    eventId = (await view.deliver({ body: { eventType: 'MESSAGE.RECEIVED.SUCCESS', messageIdentifier: '<m1@x>' } })).id;
    secret = String(JSON.parse((await call(inspector.port, 'GET', '/api/session', { host })).body).secret);
  });
  after(async () => {
    await inspector.close();
    await view.close();
    await handler.close();
  });

  test('a foreign Host (DNS rebinding) is refused; the served host and localhost:port are answered', async () => {
    // Given the inspector on 127.0.0.1:PORT
    // When a request names another host
    const evil = await call(inspector.port, 'GET', '/api/events', { host: 'evil.example' });
    const evilWithPort = await call(inspector.port, 'GET', '/', { host: `evil.example:${inspector.port}` });
    // Then it is refused, and the real names work
    assert.equal(evil.status, 421);
    assert.equal(evilWithPort.status, 421);
    assert.doesNotMatch(evil.body, /m1@x/);
    assert.equal((await call(inspector.port, 'GET', '/api/events', { host })).status, 200);
    assert.equal((await call(inspector.port, 'GET', '/api/events', { host: `localhost:${inspector.port}` })).status, 200);
  });

  test('a replay POST from a foreign Origin or without the secret gets 403 and sends nothing', async () => {
    // Given a handler that has received nothing
    assert.equal(handler.requests.length, 0);
    // When replays are posted without the secret, with a wrong one, and from another origin with the right one
    const path = `/api/events/${eventId}/replay`;
    const json = { host, 'content-type': 'application/json' };
    const noSecret = await call(inspector.port, 'POST', path, { ...json, origin: `http://${host}` }, '{}');
    const wrongSecret = await call(inspector.port, 'POST', path, { ...json, 'x-mftg-hooks-secret': 'x'.repeat(secret.length) }, '{}');
    const foreign = await call(inspector.port, 'POST', path, { ...json, origin: 'http://evil.example', 'x-mftg-hooks-secret': secret }, '{}');
    const trigger = await call(inspector.port, 'POST', '/api/trigger', { ...json, origin: 'http://evil.example' }, '{"eventType":"received"}');
    // Then all are refused and the handler still has nothing
    assert.deepEqual([noSecret.status, wrongSecret.status, foreign.status, trigger.status], [403, 403, 403, 403]);
    assert.equal(handler.requests.length, 0);
    assert.equal((await view.getEvent(eventId)).attempts.length, 0);
    // And the page's own call (its origin, the secret) goes through
    const ok = await call(inspector.port, 'POST', path, { ...json, origin: `http://${host}`, 'x-mftg-hooks-secret': secret }, '{}');
    assert.equal(ok.status, 200, ok.body);
    assert.equal(handler.requests.length, 1);
  });

  test('every answer has a strict CSP, nosniff, no framing and never a CORS header', async () => {
    for (const path of ['/', '/api/events', `/api/events/${eventId}/body`, '/assets/app.js', '/nope']) {
      const answer = await call(inspector.port, 'GET', path, { host, origin: `http://${host}` });
      const csp = String(answer.headers['content-security-policy']);
      assert.match(csp, /default-src 'self'/, path);
      assert.match(csp, /frame-ancestors 'none'/, path);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, path);
      assert.equal(answer.headers['x-content-type-options'], 'nosniff', path);
      assert.equal(Object.keys(answer.headers).filter((name) => name.startsWith('access-control-')).length, 0, path);
    }
    // The captured body is never served as something a browser would render
    const body = await call(inspector.port, 'GET', `/api/events/${eventId}/body`, { host });
    assert.equal(body.headers['content-type'], 'application/octet-stream');
    assert.match(String(body.headers['content-disposition']), /^attachment/);
  });

  test("the page embeds the per-run secret and allows only its nonce'd import map inline", async () => {
    const page = await call(inspector.port, 'GET', '/', { host });
    assert.ok(page.body.includes(`content="${secret}"`));
    const nonce = /'nonce-([^']+)'/.exec(String(page.headers['content-security-policy']))?.[1];
    assert.ok(nonce);
    assert.ok(page.body.includes(`<script type="importmap" nonce="${nonce}">`));
    assert.equal(page.body.match(/<script/g)?.length, 2, 'the import map and the module, nothing else');
  });

  test('a non-loopback address is refused with a usage error (exit 2) and the reason', async () => {
    for (const address of ['0.0.0.0:4141', '192.168.1.10', 'example.com:80', '[::]:4141']) {
      await assert.rejects(startInspector(view, { address }), (error: unknown) => {
        assert.ok(error instanceof MftgHooksError);
        assert.equal(error.code, 'E_USAGE');
        assert.equal(error.exitCode, 2);
        assert.match(error.message, /loopback only/);
        return true;
      });
    }
  });

  test('port rules: [host:]port parsing, 4141…4150 then any free port, an explicit busy port is an error', async () => {
    assert.deepEqual(parseInspectAddress(undefined), { host: '127.0.0.1', port: null });
    assert.deepEqual(parseInspectAddress('4242'), { host: '127.0.0.1', port: 4242 });
    assert.deepEqual(parseInspectAddress('localhost:4242'), { host: '127.0.0.1', port: 4242 });
    assert.deepEqual(parseInspectAddress('[::1]:4242'), { host: '::1', port: 4242 });
    assert.deepEqual(parseInspectAddress('127.0.0.2'), { host: '127.0.0.2', port: null });
    assert.throws(() => parseInspectAddress('127.0.0.1:99999'), /port must be a number/);
    assert.deepEqual(candidatePorts({ host: '127.0.0.1', port: null }), [4141, 4142, 4143, 4144, 4145, 4146, 4147, 4148, 4149, 4150, 0]);
    await assert.rejects(startInspector(view, { address: `127.0.0.1:${inspector.port}` }), (error: unknown) => error instanceof MftgHooksError && error.code === 'E_PORT_IN_USE');
  });
});
