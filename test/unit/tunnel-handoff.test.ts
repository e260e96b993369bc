import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { after, afterEach, before, describe, test } from 'node:test';
import { Pool } from 'undici';
import { CaptureServer } from '../../src/core/capture-server.js';
import { TunnelSupervisor } from '../../src/core/tunnel.js';
import { closedPort, startRealTunnelServer, waitForTunnelState, type RealTunnelServer } from '../helpers/tunnel-servers.js';

// Any error escaping the supervisor would land here instead of being swallowed by the runner.
const escaped: unknown[] = [];
process.on('uncaughtException', (error) => escaped.push(error));
process.on('unhandledRejection', (reason) => escaped.push(reason));
afterEach(() => {
  assert.deepEqual(escaped, [], 'no uncaught exception or unhandled rejection');
});

const TOKEN = 'handoff-token';

describe('tunnel sockets handed to the capture server in process (real localtunnel server)', () => {
  let server: RealTunnelServer;
  let capture: CaptureServer;
  let supervisor: TunnelSupervisor;
  let publicClient: Pool;
  const stored: Buffer[] = [];
  /** Every tunnel socket the supervisor handed over. */
  const handedOver: Socket[] = [];
  const subdomain = `mftg-handoff-${process.pid}`;

  const post = async (body: Buffer, headers: Record<string, string> = {}): Promise<number> => {
    const answer = await publicClient.request({
      path: `/${TOKEN}/as2`,
      method: 'POST',
      headers: { host: `${subdomain}.localhost:${server.port}`, 'content-type': 'application/octet-stream', ...headers },
      body,
    });
    await answer.body.dump();
    return answer.statusCode;
  };

  before(async () => {
    server = await startRealTunnelServer();
    capture = new CaptureServer({
      port: 0,
      bind: '127.0.0.1',
      token: TOKEN,
      maxBodyBytes: 4 * 1024 * 1024,
      persist: async (_event, body) => {
        stored.push(body);
      },
      onCaptured: () => undefined,
      onRejected: () => undefined,
    });
    await capture.listen();
    // Given a supervisor whose local port accepts nothing: every request must come through the handoff
    supervisor = new TunnelSupervisor({
      host: server.url,
      localPort: await closedPort(),
      accept: (socket) => {
        handedOver.push(socket);
        capture.acceptConnection(socket);
      },
      subdomain,
      token: TOKEN,
      backoff: { initialMs: 50, maxMs: 400 },
    });
    supervisor.start();
    publicClient = new Pool(server.url, { connections: 1 });
  });
  after(async () => {
    await publicClient?.close();
    await supervisor?.close();
    await capture?.close();
    await server?.stop();
  });

  test('the self-check and a 1 MiB binary body arrive byte for byte without dialling the local port', async () => {
    // When the tunnel is up (its self-check went through the handed-over sockets)
    await waitForTunnelState(supervisor, (s) => s.state === 'online', 'online');
    assert.ok(handedOver.length >= 1);

    // And a 1 MiB body with bytes that are not UTF-8 is delivered through the public URL
    const body = Buffer.concat([Buffer.from([0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28, 0x41]), randomBytes(1024 * 1024 - 7)]);
    const status = await post(body);

    // Then it was stored exactly as sent
    assert.equal(status, 200);
    assert.equal(stored.length, 1);
    assert.equal(stored[0]!.length, body.length);
    assert.ok(stored[0]!.equals(body), 'the stored body equals the sent bytes');
  });

  test('sequential keep-alive deliveries reuse the tunnel socket instead of opening new ones', async () => {
    // Given an online tunnel whose socket pool is complete
    await waitForTunnelState(supervisor, (s) => s.state === 'online', 'online');
    await post(Buffer.from('{"warm":"up"}'));
    const before = handedOver.length;
    const storedBefore = stored.length;

    // When 20 deliveries are sent one after the other
    for (let index = 0; index < 20; index++) assert.equal(await post(Buffer.from(`{"n":${index}}`)), 200);

    // Then they were all stored, and the tunnel server's one kept-alive socket carried them (none replaced)
    assert.deepEqual(
      stored.slice(storedBefore).map((b) => b.toString()),
      Array.from({ length: 20 }, (_, index) => `{"n":${index}}`),
    );
    assert.equal(handedOver.length, before, 'no tunnel socket was opened for these deliveries');
  });

  test('close() destroys the handed-over sockets', async () => {
    // Given an online tunnel, When the supervisor closes
    await waitForTunnelState(supervisor, (s) => s.state === 'online', 'online');
    await supervisor.close();

    // Then no handed-over socket is left open in the capture server
    assert.ok(
      handedOver.every((socket) => socket.destroyed),
      'every handed-over socket is destroyed',
    );
  });
});

test('a capture server that is closing does not serve a socket handed to it', async (t) => {
  // Given a capture server that was closed, and a connected socket
  const capture = new CaptureServer({
    port: 0,
    bind: '127.0.0.1',
    token: TOKEN,
    maxBodyBytes: 1024,
    persist: async () => undefined,
    onCaptured: () => undefined,
    onRejected: () => undefined,
  });
  await capture.listen();
  await capture.close();
  const accepted: Socket[] = [];
  const peer = createServer((other) => accepted.push(other.on('error', () => undefined)));
  await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
  const socket = connect((peer.address() as AddressInfo).port, '127.0.0.1');
  t.after(async () => {
    socket.destroy();
    for (const other of accepted) other.destroy();
    await new Promise<void>((resolve) => peer.close(() => resolve()));
  });
  await new Promise<void>((resolve) => socket.once('connect', resolve));

  // When the socket is handed over, Then it is destroyed, not served
  capture.acceptConnection(socket);
  assert.equal(socket.destroyed, true);
});
