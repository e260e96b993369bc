import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, afterEach, before, describe, test } from 'node:test';
import { SELF_CHECK_PATH } from '../../src/core/self-check.js';
import { TunnelSupervisor, validateSubdomain, type TunnelState } from '../../src/core/tunnel.js';
import {
  closedPort,
  sendThroughTunnel,
  startCaptureStandIn,
  startRealTunnelServer,
  superviseInChildProcess,
  waitForTunnelState,
  type CaptureStandIn,
  type RealTunnelServer,
} from '../helpers/tunnel-servers.js';

// Any error escaping the supervisor would land here instead of being swallowed by the runner.
const escaped: unknown[] = [];
process.on('uncaughtException', (error) => escaped.push(error));
process.on('unhandledRejection', (reason) => escaped.push(reason));
afterEach(() => {
  assert.deepEqual(escaped, [], 'no uncaught exception or unhandled rejection');
});

const TOKEN = 'c0ffee-token';
const FAST = { backoff: { initialMs: 50, maxMs: 400 }, registerTimeoutMs: 3000, selfCheckTimeoutMs: 2000 };

test('validateSubdomain follows the rules of localtunnel servers', () => {
  // Given names the server accepts, Then no message
  for (const name of ['abcd', 'mftg-dev-1', 'a1b2c3', 'x'.repeat(63)]) assert.equal(validateSubdomain(name), null, name);
  // Given names the server answers 403 for, Then a message naming the rule
  assert.match(validateSubdomain('abc') ?? '', /4 to 63/);
  assert.match(validateSubdomain('x'.repeat(64)) ?? '', /4 to 63/);
  assert.match(validateSubdomain('MyHooks') ?? '', /lowercase/);
  assert.match(validateSubdomain('my_hooks') ?? '', /lowercase/);
  assert.match(validateSubdomain('-abcd') ?? '', /start and end/);
  assert.match(validateSubdomain('abcd-') ?? '', /start and end/);
  assert.match(validateSubdomain('ab-cd') ?? '', /at least 6/);
});

test('the constructor rejects a host that is not an http(s) URL and an invalid subdomain', () => {
  assert.throws(() => new TunnelSupervisor({ host: 'not a url', localPort: 1, token: null }), { code: 'E_USAGE' });
  assert.throws(() => new TunnelSupervisor({ host: 'ftp://x', localPort: 1, token: null }), { code: 'E_USAGE' });
  assert.throws(() => new TunnelSupervisor({ host: 'http://x', localPort: 1, token: null, subdomain: 'AB' }), {
    code: 'E_USAGE',
  });
});

describe('against the real localtunnel server', () => {
  let server: RealTunnelServer;
  let capture: CaptureStandIn;
  let supervisor: TunnelSupervisor;
  const states: TunnelState[] = [];
  const subdomain = `mftg-real-${process.pid}`;

  before(async () => {
    [server, capture] = await Promise.all([startRealTunnelServer(), startCaptureStandIn(TOKEN)]);
  });
  after(async () => {
    await supervisor?.close();
    await Promise.all([server?.stop(), capture?.close()]);
  });

  test('reaches online after a self-check, and a POST arrives byte for byte', async () => {
    // Given a supervisor for the capture stand-in, asking for a subdomain
    supervisor = new TunnelSupervisor({ host: server.url, localPort: capture.port, subdomain, token: TOKEN, ...FAST });
    supervisor.onState((state) => states.push(state));

    // When it starts
    supervisor.start();

    // Then it goes connecting → online on the requested subdomain, only after a self-check
    const online = await waitForTunnelState(supervisor, (s) => s.state === 'online', 'online', 8000);
    assert.equal(states[0]?.state, 'connecting');
    assert.equal(online.subdomain, subdomain);
    assert.equal(online.publicUrl, `http://${subdomain}.localhost`);
    assert.equal(online.urlChanged, null);
    assert.equal(online.reason, null);
    assert.ok(capture.selfChecks >= 1, 'a self-check reached the capture server');

    // When a delivery with a binary body is sent through the tunnel
    const body = Buffer.concat([Buffer.from('{"eventType":"MESSAGE.RECEIVED.SUCCESS","subject":"Grüße"}'), Buffer.from([0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28])]);
    const answer = await sendThroughTunnel(server.port, subdomain, `/${TOKEN}/hooks?x=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'x-mftg-test': 'kept' },
      body,
    });

    // Then it arrives at the capture server unchanged, and self-checks were never recorded
    assert.equal(answer.status, 200);
    assert.equal(capture.requests.length, 1);
    const [received] = capture.requests;
    assert.equal(received?.method, 'POST');
    assert.equal(received?.url, `/${TOKEN}/hooks?x=1`);
    assert.equal(received?.headers['x-mftg-test'], 'kept');
    assert.equal(received?.headers['content-type'], 'application/octet-stream');
    assert.ok(received?.body.equals(body), `body bytes ${received?.body.toString('hex')}`);
    assert.ok(!capture.requests.some((r) => r.url.includes(SELF_CHECK_PATH)), 'no self-check among recorded requests');

    // When a body of 1 MiB of random bytes is sent (many chunks), Then it arrives unchanged too
    const large = randomBytes(1024 * 1024);
    const largeAnswer = await sendThroughTunnel(server.port, subdomain, `/${TOKEN}`, { method: 'PUT', body: large });
    assert.equal(largeAnswer.status, 200);
    assert.ok(capture.requests.at(-1)?.body.equals(large), 'large body byte for byte');
  });

  test('the server killed and restarted on the same port: reconnecting, then online on the same subdomain', async () => {
    const previous = supervisor.state;
    assert.equal(previous.state, 'online');
    const seen = states.length;

    // When the tunnel server dies and comes back
    const reconnecting = waitForTunnelState(supervisor, (s) => s.state === 'reconnecting', 'reconnecting', 8000);
    await server.restart();

    // Then the supervisor notices, rebuilds, and is online again on the same URL
    const down = await reconnecting;
    assert.ok(down.reason, 'a reason is given');
    assert.ok(down.nextRetryAt !== null && down.attempt >= 1);
    const online = await waitForTunnelState(supervisor, (s) => s.state === 'online', 'online again', 10_000);
    assert.equal(online.subdomain, subdomain);
    assert.equal(online.publicUrl, previous.publicUrl);
    assert.equal(online.attempt, 0);
    assert.ok(
      states.slice(seen).every((s) => s.urlChanged === null),
      'the URL never changed',
    );

    // And deliveries after that arrive
    const body = Buffer.from(JSON.stringify({ eventType: 'MESSAGE.SEND.SUCCESS', n: 2 }));
    const answer = await sendThroughTunnel(server.port, subdomain, `/${TOKEN}`, { method: 'POST', body });
    assert.equal(answer.status, 200);
    assert.ok(capture.requests.at(-1)?.body.equals(body));
    assert.ok(!capture.requests.some((r) => r.url.includes(SELF_CHECK_PATH)));
  });

  test('a listener restarted at once gets its subdomain back (the server still holds it for a second)', async () => {
    // Given the running supervisor is closed, and a new one starts right away with the same subdomain
    await supervisor.close();
    const restarted = new TunnelSupervisor({
      host: server.url,
      localPort: capture.port,
      subdomain,
      token: TOKEN,
      ...FAST,
      // Retries for the name must outlast the server's 1 s grace: 250 + 500 + 1000 ms at the least.
      backoff: { initialMs: 500, maxMs: 2000 },
    });
    supervisor = restarted;
    const seen: TunnelState[] = [];
    restarted.onState((state) => seen.push(state));

    // When it starts
    restarted.start();

    // Then it is online on the same subdomain, with no URL change
    const online = await waitForTunnelState(restarted, (s) => s.state === 'online', 'online', 8000);
    assert.equal(online.subdomain, subdomain);
    assert.ok(
      seen.every((s) => s.urlChanged === null),
      JSON.stringify(seen),
    );
    assert.ok(
      seen.some((s) => s.reason?.includes(`subdomain "${subdomain}" is taken`)),
      'the name was asked for again',
    );
  });
});

describe('an unreachable tunnel host', () => {
  test('aborting the signal closes the supervisor', async () => {
    // Given a supervisor retrying an unreachable host, with a signal
    const controller = new AbortController();
    const supervisor = new TunnelSupervisor({
      host: `http://127.0.0.1:${await closedPort()}`,
      localPort: 9,
      token: null,
      backoff: { initialMs: 50, maxMs: 100 },
      signal: controller.signal,
    });
    supervisor.start();
    await waitForTunnelState(supervisor, (s) => s.state === 'reconnecting', 'reconnecting');

    // When the signal aborts, Then it is offline for good
    controller.abort();
    const closed = await waitForTunnelState(supervisor, (s) => s.state === 'offline', 'offline');
    assert.equal(closed.reason, 'tunnel closed');
    assert.equal(closed.nextRetryAt, null);
  });

  test('reports reconnecting with the reason, keeps retrying, and close() stops promptly', async () => {
    // Given a host where nothing listens
    const port = await closedPort();
    const supervisor = new TunnelSupervisor({
      host: `http://127.0.0.1:${port}`,
      localPort: 9,
      subdomain: 'nowhere',
      token: TOKEN,
      backoff: { initialMs: 50, maxMs: 200 },
    });

    // When it starts
    supervisor.start();

    // Then it says why, with the next try, and tries again
    const first = await waitForTunnelState(supervisor, (s) => s.state === 'reconnecting', 'reconnecting');
    assert.equal(first.reason, `tunnel server unreachable (ECONNREFUSED 127.0.0.1:${port})`);
    assert.equal(first.attempt, 1);
    assert.ok(first.nextRetryAt !== null && first.nextRetryAt >= Date.now() - 1000);
    assert.equal(first.publicUrl, null);
    await waitForTunnelState(supervisor, (s) => s.attempt >= 3, 'a third attempt');

    // When it is closed, Then it resolves promptly and reports offline, once
    const started = Date.now();
    await supervisor.close();
    await supervisor.close();
    assert.ok(Date.now() - started < 500, `close took ${Date.now() - started} ms`);
    assert.equal(supervisor.state.state, 'offline');
    assert.equal(supervisor.state.nextRetryAt, null);
  });

  test('after close() nothing keeps the process alive', async () => {
    // Given a process that supervises an unreachable host, When it closes the supervisor after 3 attempts
    const port = await closedPort();
    const run = await superviseInChildProcess({ host: `http://127.0.0.1:${port}`, localPort: 9, subdomain: 'nowhere', token: null, backoff: { initialMs: 30, maxMs: 60 } }, { attempt: 3 });

    // Then it exits on its own right after, with code 0 and nothing on stderr
    assert.equal(run.stderr, '');
    assert.equal(run.code, 0, 'exited by itself (not killed)');
    assert.ok(run.exitAfterCloseMs < 1000, `exit took ${run.exitAfterCloseMs} ms after close()`);
  });
});
