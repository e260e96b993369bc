import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { CaptureServer, type RejectReason } from '../../src/core/capture-server.js';
import { MAX_OUTSTANDING_NONCES, proveSelfCheck, SELF_CHECK_NONCE_TTL_MS, SELF_CHECK_PATH, SelfCheckNonces, newSelfCheckNonce } from '../../src/core/self-check.js';
import { TunnelSupervisor } from '../../src/core/tunnel.js';
import { sendThroughTunnel, startRealTunnelServer, waitForTunnelState, type RealTunnelServer } from '../helpers/tunnel-servers.js';

const TOKEN = 'self-check-token-42';

/** One request written as given; the raw answer with its `Date` header removed (it is the only part that varies). */
function exchange(port: number, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(head));
    let data = '';
    socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(data.replace(/\r\nDate: [^\r]*/i, '')));
  });
}
const get = (port: number, path: string, method = 'GET'): Promise<string> => exchange(port, `${method} ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);

test('a nonce is answered once, only for the token it was issued for, and only for a short time', () => {
  let now = 1_000_000;
  const nonces = new SelfCheckNonces(() => now);
  // Given an issued nonce, Then the capture server of another token cannot use it, its own can, once
  const nonce = nonces.issue(TOKEN);
  assert.equal(nonces.redeem('another-token', nonce), false);
  assert.equal(nonces.redeem(TOKEN, nonce), true);
  assert.equal(nonces.redeem(TOKEN, nonce), false, 'a reused nonce');
  // And one never issued is refused
  assert.equal(nonces.redeem(TOKEN, newSelfCheckNonce()), false);
  // And one that waited too long is refused
  const late = nonces.issue(TOKEN);
  now += SELF_CHECK_NONCE_TTL_MS;
  assert.equal(nonces.redeem(TOKEN, late), false);
  // And a withdrawn one (its check ended) is refused
  const withdrawn = nonces.issue(null);
  nonces.withdraw(withdrawn);
  assert.equal(nonces.redeem(null, withdrawn), false);
  // And only so many are outstanding: the oldest goes first
  const many = Array.from({ length: MAX_OUTSTANDING_NONCES + 1 }, () => nonces.issue(TOKEN));
  assert.equal(nonces.redeem(TOKEN, many[0]!), false);
  assert.equal(nonces.redeem(TOKEN, many.at(-1)!), true);
});

describe('the capture server answers only nonces its own listener issued', () => {
  const nonces = new SelfCheckNonces();
  const rejected: Array<{ reason: RejectReason; path: string }> = [];
  let server: CaptureServer;
  let port = 0;

  before(async () => {
    server = new CaptureServer({
      port: 0,
      bind: '127.0.0.1',
      token: TOKEN,
      maxBodyBytes: 1024,
      selfCheckNonces: nonces,
      persist: async () => assert.fail('a self-check is never stored'),
      onCaptured: () => undefined,
      onRejected: (reason, path) => rejected.push({ reason, path }),
    });
    port = await server.listen();
  });
  after(() => server.close());

  test('a foreign nonce gets exactly the plain 404 of any other path', async () => {
    const plain = await get(port, '/favicon.ico');
    assert.match(plain, /^HTTP\/1\.1 404 /);
    // Given nonces this listener never issued (any string, or one issued for another listener)
    const foreign = new SelfCheckNonces().issue(TOKEN);
    for (const nonce of [newSelfCheckNonce(), 'x', '', foreign, `${foreign}?again`]) {
      // Then the answer is byte for byte the plain 404: nothing tells it apart, no HMAC is computed
      assert.equal(await get(port, `/${SELF_CHECK_PATH}/${nonce}`), plain, nonce);
    }
    assert.ok(rejected.every((r) => r.reason === 'not-found'));
    assert.equal(rejected.length, 6, 'each is counted as rejected');
  });

  test('an issued nonce is answered with the proof once; reused, or sent with another method, it is the plain 404', async () => {
    const plain = await get(port, '/nothing-here');
    // Given a nonce issued for this token
    const nonce = nonces.issue(TOKEN);
    // When it is asked with POST first, Then 404, and it is not used up
    assert.equal(await get(port, `/${SELF_CHECK_PATH}/${nonce}`, 'POST'), plain);
    // When it is asked with GET, Then the proof
    const answer = await get(port, `/${SELF_CHECK_PATH}/${nonce}`);
    assert.match(answer, /^HTTP\/1\.1 200 /);
    assert.ok(answer.endsWith(`\r\n\r\n${proveSelfCheck(TOKEN, nonce)}`), answer);
    // When it is asked again, Then the plain 404
    assert.equal(await get(port, `/${SELF_CHECK_PATH}/${nonce}`), plain);
  });
});

describe('the tunnel self-check through the real localtunnel server, against the real capture server', () => {
  let tunnelServer: RealTunnelServer;
  let capture: CaptureServer;
  let supervisor: TunnelSupervisor;
  const captured: string[] = [];
  const subdomain = `mftg-check-${process.pid}`;

  before(async () => {
    tunnelServer = await startRealTunnelServer();
    capture = new CaptureServer({
      port: 0,
      bind: '127.0.0.1',
      token: TOKEN,
      maxBodyBytes: 1024,
      persist: async () => undefined,
      onCaptured: (event) => captured.push(event.path),
      onRejected: () => undefined,
    });
    const port = await capture.listen();
    supervisor = new TunnelSupervisor({ host: tunnelServer.url, localPort: port, subdomain, token: TOKEN, backoff: { initialMs: 50, maxMs: 400 } });
  });
  after(async () => {
    await supervisor?.close();
    await capture?.close();
    await tunnelServer?.stop();
  });

  test('goes online (its own nonces are answered), while a foreign nonce through the public URL gets 404', async () => {
    // When the supervisor starts, sharing the process's nonces with the capture server
    supervisor.start();
    // Then the self-check succeeds end to end
    await waitForTunnelState(supervisor, (s) => s.state === 'online', 'online', 10_000);
    // And anyone on the public URL asking with a nonce of their own gets the plain 404
    const answer = await sendThroughTunnel(tunnelServer.port, subdomain, `/${SELF_CHECK_PATH}/${newSelfCheckNonce()}`, { headers: { 'bypass-tunnel-reminder': '1' } });
    assert.equal(answer.status, 404);
    assert.equal(answer.body.length, 0);
    assert.deepEqual(captured, [], 'self-checks are never captured');
  });
});
