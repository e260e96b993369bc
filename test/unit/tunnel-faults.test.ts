import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { SELF_CHECK_PATH } from '../../src/core/self-check.js';
import { TunnelSupervisor, type TunnelOptions, type TunnelState } from '../../src/core/tunnel.js';
import {
  sendThroughTunnel,
  startCaptureStandIn,
  startMockTunnelServer,
  superviseInChildProcess,
  waitFor,
  waitForTunnelState,
  type CaptureStandIn,
  type MockTunnelServer,
} from '../helpers/tunnel-servers.js';

// Any error escaping the supervisor would land here instead of being swallowed by the runner.
const escaped: unknown[] = [];
process.on('uncaughtException', (error) => escaped.push(error));
process.on('unhandledRejection', (reason) => escaped.push(reason));

const TOKEN = 'f00d-token';

describe('faults injected by a mock tunnel server', () => {
  let mock: MockTunnelServer;
  let capture: CaptureStandIn;
  let supervisor: TunnelSupervisor | null = null;
  let states: TunnelState[] = [];

  const supervise = (subdomain: string, options: Partial<TunnelOptions> = {}): TunnelSupervisor => {
    const created = new TunnelSupervisor({
      host: mock.url,
      localPort: capture.port,
      subdomain,
      token: TOKEN,
      registerTimeoutMs: 2000,
      selfCheckTimeoutMs: 1000,
      backoff: { initialMs: 50, maxMs: 200 },
      ...options,
    });
    created.onState((state) => states.push(state));
    supervisor = created;
    created.start();
    return created;
  };

  /** A delivery through the tunnel reaches the capture stand-in (retried until the deadline). */
  const deliver = async (subdomain: string, body: Buffer): Promise<void> => {
    const before = capture.requests.length;
    await waitFor(
      async () => {
        const answer = await sendThroughTunnel(mock.port, subdomain, `/${TOKEN}`, { method: 'POST', body, timeoutMs: 1500 }).catch(() => null);
        return answer?.status === 200;
      },
      'a delivery through the tunnel',
      5000,
    );
    assert.ok(
      capture.requests.slice(before).some((r) => r.body.equals(body)),
      'the delivery arrived byte for byte',
    );
  };

  before(async () => {
    [mock, capture] = await Promise.all([startMockTunnelServer(), startCaptureStandIn(TOKEN)]);
  });
  beforeEach(() => {
    mock.resetSwitches();
    states = [];
  });
  afterEach(async () => {
    await supervisor?.close();
    supervisor = null;
    assert.deepEqual(escaped, [], 'no uncaught exception or unhandled rejection');
    assert.ok(!capture.requests.some((r) => r.url.includes(SELF_CHECK_PATH)), 'self-checks are never recorded');
  });
  after(async () => {
    await Promise.all([mock?.stop(), capture?.close()]);
  });

  test('a registration that hangs times out, is retried, and the reason says so', async () => {
    // Given a server that never answers registrations
    mock.switches.hangRegistration = true;

    // When the supervisor starts with a 300 ms registration bound
    const tunnel = supervise('hang-test', { registerTimeoutMs: 300 });

    // Then it reports the timeout and keeps trying
    const down = await waitForTunnelState(tunnel, (s) => s.state === 'reconnecting', 'reconnecting');
    assert.equal(down.reason, 'registration timed out after 0.3 s');
    assert.ok(down.nextRetryAt !== null);
    await waitFor(() => mock.registrations.filter((r) => r === '/hang-test').length >= 2, 'a second registration');

    // When the server answers again, Then it ends online
    mock.switches.hangRegistration = false;
    await waitForTunnelState(tunnel, (s) => s.state === 'online', 'online');
    await deliver('hang-test', Buffer.from('{"after":"hang"}'));
  });

  test('a 403 answer fails fast with the server message, and recovers when the server accepts', async () => {
    // Given a server that refuses the tunnel
    mock.switches.rejectRegistration = { status: 403, message: 'Invalid subdomain.' };

    // When the supervisor starts with a registration bound far beyond the test's deadline
    const tunnel = supervise('refused-test', { registerTimeoutMs: 600_000 });
    let registrationsWhenOffline = -1;
    tunnel.onState((s) => {
      if (s.state === 'offline' && registrationsWhenOffline < 0) {
        registrationsWhenOffline = mock.registrations.filter((r) => r === '/refused-test').length;
      }
    });

    // Then it is offline on the first answer (not after the bound, not after retries), with the status and message
    const down = await waitForTunnelState(tunnel, (s) => s.state === 'offline', 'offline');
    assert.equal(registrationsWhenOffline, 1, 'offline after the first registration');
    assert.equal(down.attempt, 1);
    assert.equal(down.reason, 'tunnel server refused the tunnel: 403 Invalid subdomain.');
    assert.ok(down.nextRetryAt !== null, 'it still tries again later');

    // When the server accepts again, Then it ends online
    mock.switches.rejectRegistration = null;
    await waitForTunnelState(tunnel, (s) => s.state === 'online', 'online');
  });

  test('a subdomain given to someone else is asked for again, then the new URL is reported as changed', async () => {
    // Given a server that always hands out another subdomain
    mock.switches.swapSubdomain = Infinity;

    // When the supervisor asks for one
    const tunnel = supervise('wanted-name');

    // Then it retries for its name, then accepts the other one and says the URL changed
    const online = await waitForTunnelState(tunnel, (s) => s.state === 'online', 'online');
    assert.ok(states.some((s) => s.reason?.includes('subdomain "wanted-name" is taken')));
    assert.notEqual(online.subdomain, 'wanted-name');
    assert.equal(online.publicUrl, `http://${online.subdomain}.localhost`);
    assert.deepEqual(online.urlChanged, { previous: 'http://wanted-name.localhost', current: online.publicUrl });
    assert.equal(mock.registrations.filter((r) => r === '/wanted-name').length, 4);
    await deliver(online.subdomain ?? '', Buffer.from('{"swapped":true}'));
  });

  test('a subdomain still held for a moment (quick restart) is reclaimed: no URL change', async () => {
    // Given a server that gives the name away once
    mock.switches.swapSubdomain = 1;

    // When the supervisor asks for it
    const tunnel = supervise('reclaim-name');

    // Then it ends online on its own name
    const online = await waitForTunnelState(tunnel, (s) => s.state === 'online', 'online');
    assert.equal(online.subdomain, 'reclaim-name');
    assert.equal(online.urlChanged, null);
    assert.ok(states.every((s) => s.urlChanged === null));
  });

  test('all sockets dropped at once: the tunnel comes back and deliveries arrive', async () => {
    // Given an online tunnel
    const tunnel = supervise('drop-test');
    await waitForTunnelState(tunnel, (s) => s.state === 'online', 'online');
    await waitFor(() => mock.connectedSockets('drop-test') === 4, 'all four sockets');

    const accepted = mock.acceptedSockets('drop-test');

    // When the server drops every socket
    mock.dropAllSockets();

    // Then all four sockets are replaced on the same tunnel, deliveries arrive, and the tunnel is online
    await waitFor(() => mock.acceptedSockets('drop-test') >= accepted + 4, 'four new sockets');
    await deliver('drop-test', Buffer.from('{"after":"drop"}'));
    await waitForTunnelState(tunnel, (s) => s.state === 'online', 'online');
    assert.equal(mock.registrations.filter((r) => r === '/drop-test').length, 1, 'no rebuild was needed');
  });

  test('sockets that silently carry nothing: the self-check fails and the tunnel is rebuilt', async () => {
    // Given an online tunnel checked every 200 ms
    const tunnel = supervise('blackhole-test', { selfCheckIntervalMs: 200, selfCheckTimeoutMs: 300 });
    await waitForTunnelState(tunnel, (s) => s.state === 'online', 'online');
    const registrations = mock.registrations.length;

    // When its sockets stop carrying anything (but stay open)
    mock.blackholeSockets();

    // Then the self-check notices, and a new tunnel on the same name is online
    const down = await waitForTunnelState(tunnel, (s) => s.state === 'reconnecting', 'reconnecting');
    assert.equal(down.reason, 'self-check timed out after 0.3 s');
    const online = await waitForTunnelState(tunnel, (s) => s.state === 'online', 'online again');
    assert.equal(online.subdomain, 'blackhole-test');
    assert.equal(online.urlChanged, null);
    assert.ok(mock.registrations.length > registrations, 'registered anew');
    await deliver('blackhole-test', Buffer.from('{"after":"blackhole"}'));
  });

  test('a tunnel forgotten by the server is registered anew on the same name', async () => {
    // Given an online tunnel
    const tunnel = supervise('forgotten-test');
    await waitForTunnelState(tunnel, (s) => s.state === 'online', 'online');

    // When the server forgets it
    mock.forgetTunnel('forgotten-test');

    // Then the supervisor says so, rebuilds, and deliveries arrive again
    const down = await waitForTunnelState(tunnel, (s) => s.state === 'reconnecting', 'reconnecting');
    assert.match(down.reason ?? '', /tunnel server dropped the tunnel \(ECONNREFUSED 127\.0\.0\.1:\d+\)/);
    const online = await waitForTunnelState(tunnel, (s) => s.state === 'online', 'online again');
    assert.equal(online.subdomain, 'forgotten-test');
    await deliver('forgotten-test', Buffer.from('{"after":"forgotten"}'));
  });

  test('an interstitial page or a 503 on the public URL is named in the reason, never online', async () => {
    // Given a public side that shows the reminder page of the hosted service
    mock.switches.publicAnswer = { status: 401, body: '<html><h1>Friendly Reminder</h1>This website is served via a localtunnel.</html>' };

    // When the supervisor starts, Then it is not online, and says why
    const tunnel = supervise('interstitial-test');
    const reminder = await waitForTunnelState(tunnel, (s) => s.state === 'reconnecting', 'reconnecting');
    assert.equal(reminder.reason, 'self-check failed: 401 the tunnel service shows its reminder page instead of forwarding');

    // When the public side answers 503, Then the reason says no client is connected
    mock.switches.publicAnswer = { status: 503, body: 'Tunnel Unavailable' };
    await waitForTunnelState(tunnel, (s) => s.reason === 'self-check failed: 503 no tunnel client connected', '503 reason');
    assert.ok(states.every((s) => s.state !== 'online'));

    // When the public side works, Then it ends online
    mock.switches.publicAnswer = null;
    await waitForTunnelState(tunnel, (s) => s.state === 'online', 'online');
  });

  test('a self-check answered by something else is not accepted', async () => {
    // Given a public side that answers 200 with a wrong proof
    mock.switches.publicAnswer = { status: 200, body: 'deadbeef' };

    // When the supervisor starts, Then it never calls that online
    const tunnel = supervise('impostor-test');
    const down = await waitForTunnelState(tunnel, (s) => s.state === 'reconnecting', 'reconnecting');
    assert.match(down.reason ?? '', /^self-check failed: the public URL is answered by something else/);
    mock.switches.publicAnswer = null;
    await waitForTunnelState(tunnel, (s) => s.state === 'online', 'online');
    assert.equal(states.filter((s) => s.state === 'online').length, 1);
  });

  test('after close() of an online tunnel nothing keeps the process alive', async () => {
    // Given a process whose supervisor is online through the mock, When it closes the supervisor
    const run = await superviseInChildProcess({ host: mock.url, localPort: capture.port, subdomain: 'exit-probe', token: TOKEN, backoff: { initialMs: 50, maxMs: 200 } }, { state: 'online' });

    // Then it exits on its own right after (no socket, keep-alive connection or timer left), code 0
    assert.equal(run.stderr, '');
    // (No bound on how soon: the child is killed only at the harness's deadline, so exit code 0 is the proof.)
    assert.equal(run.code, 0, `exited by itself (not killed), ${run.exitAfterCloseMs} ms after close()`);
    assert.ok(mock.registrations.includes('/exit-probe'));
  });
});
