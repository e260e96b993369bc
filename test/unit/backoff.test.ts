import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay } from '../../src/core/backoff.js';
import { defaultTunnelBackoff, LOCAL_TUNNEL_BACKOFF, PUBLIC_TUNNEL_BACKOFF } from '../../src/core/tunnel.js';

test('backoff doubles from the first delay up to the cap', () => {
  const exact = { initialMs: 1000, maxMs: 5000, jitter: 0 };
  assert.deepEqual(
    [1, 2, 3, 4, 5, 50, 5000].map((attempt) => backoffDelay(attempt, exact)),
    [1000, 2000, 4000, 5000, 5000, 5000, 5000],
  );
  // A nonsensical attempt number is the first one
  assert.equal(backoffDelay(0, exact), 1000);
});

test('jitter takes a random share off each delay: half at most by default, all of it with full jitter', () => {
  const policy = { initialMs: 1000, maxMs: 8000 };
  // Given the random source at its extremes, Then the delay spans half to all of the capped value
  assert.equal(
    backoffDelay(4, policy, () => 0),
    8000,
  );
  assert.equal(
    backoffDelay(4, policy, () => 0.999_999),
    4000,
  );
  assert.equal(
    backoffDelay(2, policy, () => 0.5),
    1500,
  );
  assert.equal(
    backoffDelay(3, { ...policy, jitter: 1 }, () => 0.75),
    1000,
  );
  // And with Math.random, every delay stays within those bounds
  for (let attempt = 1; attempt <= 10; attempt++) {
    const delay = backoffDelay(attempt, policy);
    const capped = Math.min(8000, 1000 * 2 ** (attempt - 1));
    assert.ok(delay >= capped / 2 && delay <= capped, `attempt ${attempt}: ${delay}`);
  }
});

test('a tunnel server on your own network is retried within 5 s; one on the internet within 15 s', () => {
  for (const host of [
    'http://127.0.0.1:4000',
    'http://localhost:4000',
    'https://tunnels.localhost',
    'http://10.1.2.3',
    'http://172.20.0.5',
    'http://192.168.1.10',
    'http://[::1]:4000',
    'http://[::ffff:127.0.0.1]',
    'http://[fd00::1]',
    'http://lt-box.local',
  ]) {
    assert.equal(defaultTunnelBackoff(new URL(host)), LOCAL_TUNNEL_BACKOFF, host);
  }
  for (const host of ['https://localtunnel.me', 'https://tunnels.example.com', 'http://8.8.8.8', 'http://172.32.0.1', 'http://[2001:db8::1]']) {
    assert.equal(defaultTunnelBackoff(new URL(host)), PUBLIC_TUNNEL_BACKOFF, host);
  }
  assert.equal(LOCAL_TUNNEL_BACKOFF.maxMs, 5000);
  assert.equal(PUBLIC_TUNNEL_BACKOFF.maxMs, 15_000);
  // The first minute of an outage stays polite to the public service: 1, 2, 4, 8 s, then at most every 15 s
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, PUBLIC_TUNNEL_BACKOFF, () => 0)),
    [1000, 2000, 4000, 8000, 15_000, 15_000],
  );
});
