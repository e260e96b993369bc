import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allBytes, sendFailedLegacy } from '../fixtures/mftg-payloads.js';
import { runCli, startJsonListener } from '../helpers/cli.js';
import { startRecordingHandler } from '../helpers/recording-handler.js';
import { tempDir } from '../helpers/temp.js';
import { closedPort, sendThroughTunnel, startRealTunnelServer } from '../helpers/tunnel-servers.js';

test('through a real localtunnel server: online, byte-exact delivery, survives a server restart, same URL after a listener restart', async (t) => {
  const server = await startRealTunnelServer();
  const handler = await startRecordingHandler();
  const dir = await tempDir();
  t.after(async () => {
    await server.stop();
    await handler.close();
    await dir.cleanup();
  });
  const env = { MFTG_HOOKS_HOME: dir.path };
  const args = ['--tunnel-host', server.url, '--subdomain', 'acmedev', '--forward-to', handler.url];
  const listener = startJsonListener(args, env);
  t.after(() => listener.stop('SIGKILL'));
  const ready = await listener.waitForRecord((r) => r.type === 'ready', 'ready');
  const token = new URL(String(ready.localUrl)).pathname.slice(1);
  const online = await listener.waitForRecord((r) => r.type === 'tunnel' && r.state === 'online', 'tunnel online', 20_000);
  assert.equal(online.publicUrl, `http://acmedev.localhost/${token}`, 'the public URL includes the token path');
  assert.equal(online.urlChanged, null);

  // When MFTG delivers through the public URL (Host routing on the tunnel server)
  const json = Buffer.from(JSON.stringify(sendFailedLegacy));
  const viaTunnel = await sendThroughTunnel(server.port, 'acmedev', `/${token}`, { method: 'POST', body: json, headers: { 'content-type': 'application/json' } });
  assert.equal(viaTunnel.status, 200);
  const binary = await sendThroughTunnel(server.port, 'acmedev', `/${token}/bin`, { method: 'POST', body: allBytes, headers: { 'content-type': 'application/octet-stream' } });
  assert.equal(binary.status, 200);
  const wrong = await sendThroughTunnel(server.port, 'acmedev', '/guess', { method: 'POST', body: '{}' });
  assert.equal(wrong.status, 404);
  // Then both reached the handler byte for byte, and only they were stored (no self-check, no 404)
  const received = await handler.waitFor(2);
  assert.ok(received.find((r) => r.url === '/hook')!.body.equals(json));
  assert.ok(received.find((r) => r.url === '/hook/bin')!.body.equals(allBytes));
  await listener.waitForRecord((r) => r.type === 'attempt' && r.status === 200 && String(r.target).endsWith('/bin'), 'binary forwarded');
  const listed = await runCli(['events', 'list', '--json'], { env });
  assert.deepEqual(
    listed.stdout
      .toString()
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { eventType: string | null }).eventType),
    ['MESSAGE.SEND.FAILED', null],
  );

  // When the tunnel server crashes and comes back on the same port
  const before = listener.records.length;
  await server.restart();
  await listener.waitForRecord((r) => listener.records.indexOf(r) >= before && r.type === 'tunnel' && r.state === 'reconnecting', 'reconnecting', 20_000);
  // Local capture keeps working meanwhile
  const local = await fetch(String(ready.localUrl), { method: 'POST', body: '{"during":"outage"}' });
  assert.equal(local.status, 200);
  const back = await listener.waitForRecord((r) => listener.records.indexOf(r) >= before && r.type === 'tunnel' && r.state === 'online', 'online again', 30_000);
  assert.equal(back.publicUrl, online.publicUrl, 'same subdomain after the server restart');
  const after = await sendThroughTunnel(server.port, 'acmedev', `/${token}`, { method: 'POST', body: '{"after":"restart"}' });
  assert.equal(after.status, 200);
  await handler.waitFor(4);
  assert.equal(await listener.stop('SIGINT'), 0);

  // When the listener starts again without --subdomain, it asks for the remembered one with the same token
  const again = startJsonListener(['--tunnel-host', server.url, '--forward-to', handler.url], env);
  t.after(() => again.stop('SIGKILL'));
  const onlineAgain = await again.waitForRecord((r) => r.type === 'tunnel' && r.state === 'online', 'online after restart', 20_000);
  assert.equal(onlineAgain.publicUrl, online.publicUrl, 'the URL pasted into MFTG stays valid');
  assert.equal(await again.stop('SIGTERM'), 0);
});

test('an unreachable tunnel host: a clear state, local capture works, Ctrl+C exits 0 at once', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const port = await closedPort();
  const listener = startJsonListener(['--tunnel-host', `http://127.0.0.1:${port}`], { MFTG_HOOKS_HOME: dir.path });
  t.after(() => listener.stop('SIGKILL'));
  const ready = await listener.waitForRecord((r) => r.type === 'ready', 'ready');
  const down = await listener.waitForRecord((r) => r.type === 'tunnel' && r.state === 'reconnecting', 'reconnecting');
  assert.match(String(down.reason), /unreachable.*ECONNREFUSED/);
  assert.equal(typeof down.nextRetryAt, 'string');
  assert.equal((await fetch(String(ready.localUrl), { method: 'POST', body: '{}' })).status, 200);
  await listener.waitForRecord((r) => r.type === 'event', 'local event');
  const started = Date.now();
  assert.equal(await listener.stop('SIGINT'), 0);
  assert.ok(Date.now() - started < 3_000, `exited in ${Date.now() - started} ms`);
});

test('a bad subdomain is a usage error before anything starts', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const result = await runCli(['listen', '--subdomain', 'AB'], { env: { MFTG_HOOKS_HOME: dir.path } });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /subdomain "AB" must be 4 to 63 characters/);
});
