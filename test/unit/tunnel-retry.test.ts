import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { TunnelSupervisor, type TunnelState } from '../../src/core/tunnel.js';
import { startCaptureStandIn, startMockTunnelServer, waitForTunnelState, type CaptureStandIn, type MockTunnelServer } from '../helpers/tunnel-servers.js';

const TOKEN = 'retry-now-token';
let mock: MockTunnelServer;
let capture: CaptureStandIn;

before(async () => {
  [mock, capture] = await Promise.all([startMockTunnelServer(), startCaptureStandIn(TOKEN)]);
});
after(async () => {
  await Promise.all([mock?.stop(), capture?.close()]);
});

test('retryNow skips the backoff wait: the next attempt runs at once and goes online', async (t) => {
  // Given a server that refuses the tunnel, and a backoff far longer than this test may take
  mock.switches.rejectRegistration = { status: 503, message: 'down for maintenance' };
  const supervisor = new TunnelSupervisor({ host: mock.url, localPort: capture.port, subdomain: 'retry-now', token: TOKEN, backoff: { initialMs: 600_000, maxMs: 600_000 } });
  t.after(() => supervisor.close());
  const states: TunnelState[] = [];
  supervisor.onState((state) => states.push(state));
  supervisor.start();
  const waiting = await waitForTunnelState(supervisor, (s) => s.state === 'reconnecting', 'reconnecting');
  assert.ok(waiting.nextRetryAt !== null && waiting.nextRetryAt - Date.now() > 60_000, 'the next try is minutes away');
  const registrations = mock.registrations.length;

  // When the server is back and retryNow is called
  mock.resetSwitches();
  supervisor.retryNow();

  // Then an attempt runs at once (long before nextRetryAt) and the tunnel is online
  const online = await waitForTunnelState(supervisor, (s) => s.state === 'online', 'online', 5000);
  assert.equal(mock.registrations.length, registrations + 1, 'one registration, made by retryNow');
  assert.equal(online.nextRetryAt, null);
  assert.equal(online.attempt, 0);

  // When retryNow is called while online, Then nothing happens
  supervisor.retryNow();
  assert.equal(mock.registrations.length, registrations + 1);
  assert.equal(supervisor.state.state, 'online');
});

test('retryNow on a supervisor that was closed, or not started, does nothing', async () => {
  const supervisor = new TunnelSupervisor({ host: mock.url, localPort: capture.port, subdomain: 'retry-idle', token: TOKEN });
  const registrations = mock.registrations.length;
  supervisor.retryNow();
  await supervisor.close();
  supervisor.retryNow();
  assert.equal(mock.registrations.length, registrations);
  assert.equal(supervisor.state.state, 'connecting');
});
