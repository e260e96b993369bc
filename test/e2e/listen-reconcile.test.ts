import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { BIN, runCli, startJsonListener } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { startMockMftgApi, type MockMftgApi } from '../helpers/mock-mftg-api.js';
import { startRecordingHandler } from '../helpers/recording-handler.js';
import { nextWake, tempDir, waitUntil } from '../helpers/temp.js';
import { startMockTunnelServer } from '../helpers/tunnel-servers.js';

function apiEnv(api: MockMftgApi, home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { MFTG_HOOKS_HOME: home, MFTG_HOOKS_API_URL: api.url, MFTG_API_USERNAME: api.username, MFTG_API_PASSWORD: api.password, ...extra };
}

async function fixtures(t: { after: (fn: () => Promise<void>) => void }) {
  const api = await startMockMftgApi();
  const handler = await startRecordingHandler();
  const dir = await tempDir();
  t.after(async () => {
    await handler.close();
    await api.close();
    await dir.cleanup();
  });
  return { api, handler, home: dir.path };
}

test('listen --json with credentials: missed messages come as reconcile events, a done record lists them, each is forwarded once', async (t) => {
  // Given MFTG holds 4 received/failed messages older than 2 minutes that never reached the store
  const { api, handler, home } = await fixtures(t);
  // When listen starts with credentials
  const listener = startJsonListener(['--no-tunnel', '--no-inspect', '--forward-to', handler.url], apiEnv(api, home));
  t.after(() => listener.stop('SIGKILL'));
  // Then a reconcile record says running, then done with the event ids it recovered
  await listener.waitForRecord((r) => r.type === 'reconcile' && r.state === 'running', 'running');
  const done = await listener.waitForRecord((r) => r.type === 'reconcile' && r.state === 'done', 'done');
  const recovered = done.recovered as string[];
  assert.equal(recovered.length, 4);
  assert.deepEqual(done.checked, { received: 3, sent: 0, failed: 1 });
  assert.equal(done.alreadyCaptured, 0);
  assert.equal(done.error, null);
  // And each is an event record with source reconcile, forwarded once with the source header
  const events = listener.records.filter((r) => r.type === 'event');
  assert.deepEqual(events.map((r) => r.id).sort(), [...recovered].sort());
  assert.deepEqual([...new Set(events.map((r) => r.source))], ['reconcile']);
  const requests = await handler.waitFor(4);
  assert.deepEqual(
    requests.map((r) => r.headers['x-mftg-hooks-source']),
    ['reconcile', 'reconcile', 'reconcile', 'reconcile'],
  );
  for (const id of recovered) await listener.waitForRecord((r) => r.type === 'attempt' && r.eventId === id && r.status === 200, `the forward of ${id}`);
  assert.equal(await listener.stop('SIGINT'), 0);
  assert.equal(handler.requests.length, 4);
  // And `events list` shows the source too
  const listed = await runCliInProcess(['events', 'list', '--json'], { env: { MFTG_HOOKS_HOME: home } });
  assert.deepEqual(
    [
      ...new Set(
        listed.stdout
          .toString()
          .trim()
          .split('\n')
          .map((line) => (JSON.parse(line) as { source: string }).source),
      ),
    ],
    ['reconcile'],
  );
});

test('plain output: a refused login is a reconcile line; a delivery meanwhile is acked and forwarded', async (t) => {
  const { api, handler, home } = await fixtures(t);
  // Given credentials MFTG refuses
  const child = spawn(process.execPath, [BIN, 'listen', '--no-tunnel', '--no-inspect', '--forward-to', handler.url], {
    env: { ...process.env, NO_COLOR: '1', ...apiEnv(api, home, { MFTG_API_PASSWORD: 'wrong-password' }) },
    stdio: 'pipe',
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  t.after(() => void child.kill('SIGKILL'));
  let out = '';
  const wakers = new Set<() => void>();
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    for (const wake of wakers) wake();
  });
  const waitForText = async (pattern: RegExp, what: string): Promise<RegExpMatchArray> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const match = pattern.exec(out);
      if (match) return match;
      if (Date.now() > deadline) throw new Error(`no ${what} in: ${out}`);
      await nextWake(wakers, 100);
    }
  };
  const [, localUrl] = await waitForText(/capturing at (\S+)/, 'the capture URL');
  // When it reconciles, Then the failure is one line, without the password
  const [line] = await waitForText(/^reconcile failed: .*$/m, 'the reconcile line');
  assert.match(line!, /MFTG refused the credentials/);
  assert.match(line!, /capture goes on/);
  assert.ok(!out.includes('wrong-password'));
  // And a delivery is still acked and forwarded
  const response = await fetch(localUrl!, { method: 'POST', body: '{"eventType":"MESSAGE.RECEIVED.SUCCESS"}' });
  assert.equal(response.status, 200);
  await handler.waitFor(1);
  child.kill('SIGINT');
  assert.equal(await exited, 0);
});

test('after the tunnel drops and comes back, listen reconciles again (through a mock tunnel server)', async (t) => {
  const { api, handler, home } = await fixtures(t);
  const server = await startMockTunnelServer();
  t.after(() => server.stop());
  const listener = startJsonListener(['--no-inspect', '--tunnel-host', server.url, '--subdomain', 'acmerecon', '--forward-to', handler.url], apiEnv(api, home));
  t.after(() => listener.stop('SIGKILL'));
  await listener.waitForRecord((r) => r.type === 'tunnel' && r.state === 'online', 'online', 20_000);
  await listener.waitForRecord((r) => r.type === 'reconcile' && r.state === 'done' && r.reason === 'start', 'the start run');
  // When the tunnel server forgets the tunnel (an outage: the listener must register anew)
  const mark = listener.records.length;
  server.forgetTunnel('acmerecon');
  await listener.waitForRecord((r) => listener.records.indexOf(r) >= mark && r.type === 'tunnel' && r.state === 'reconnecting', 'reconnecting', 20_000);
  await listener.waitForRecord((r) => listener.records.indexOf(r) >= mark && r.type === 'tunnel' && r.state === 'online', 'online again', 30_000);
  // Then a run follows the outage
  const after = await listener.waitForRecord((r) => listener.records.indexOf(r) >= mark && r.type === 'reconcile' && r.state === 'done', 'the run after the outage');
  assert.equal(after.reason, 'tunnel');
  assert.deepEqual(after.recovered, []);
  assert.equal(await listener.stop('SIGINT'), 0);
  assert.equal(handler.requests.length, 4);
});

test('--reconcile: bad intervals and missing credentials are usage errors; --no-reconcile never asks the API', async (t) => {
  const { api, handler, home } = await fixtures(t);
  const bare = { MFTG_HOOKS_HOME: home, MFTG_API_USERNAME: '', MFTG_API_PASSWORD: '', MFTG_API_TOKEN: '' };
  for (const [args, env, pattern] of [
    [['--reconcile', '5s'], apiEnv(api, home), /--reconcile.*5s.*too often/],
    [['--reconcile', 'soon'], apiEnv(api, home), /soon.*not an interval/],
    [['--reconcile'], bare, /--reconcile needs MFTG API credentials/],
    [[], { ...bare, MFTG_HOOKS_RECONCILE: '1m' }, /--reconcile needs MFTG API credentials/],
    [[], { ...bare, MFTG_API_USERNAME: 'edi-api@acmecorp.example' }, /MFTG_API_PASSWORD is not set.*--no-reconcile/],
  ] as Array<[string[], NodeJS.ProcessEnv, RegExp]>) {
    // The first as a real process, the others in the test process
    const result = await (args[1] === '5s' ? runCli : runCliInProcess)(['listen', '--no-tunnel', '--no-inspect', ...args], { env });
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, pattern);
    assert.equal(result.stderr.trim().split('\n').length <= 2, true, result.stderr);
  }
  // Given credentials and --no-reconcile (or MFTG_HOOKS_RECONCILE=off)
  for (const [args, env] of [
    [['--no-reconcile'], apiEnv(api, home)],
    [[], apiEnv(api, home, { MFTG_HOOKS_RECONCILE: 'off' })],
  ] as Array<[string[], NodeJS.ProcessEnv]>) {
    const listener = startJsonListener(['--no-tunnel', '--no-inspect', '--forward-to', handler.url, ...args], env);
    t.after(() => listener.stop('SIGKILL'));
    const ready = await listener.waitForRecord((r) => r.type === 'ready', 'ready');
    // When a delivery goes through
    const before = handler.requests.length;
    assert.equal((await fetch(String(ready.localUrl), { method: 'POST', body: '{}' })).status, 200);
    await waitUntil(() => handler.requests.length > before, 'the forward');
    assert.equal(await listener.stop('SIGINT'), 0);
    // Then the API was never asked and no reconcile record came
    assert.deepEqual(api.log, []);
    assert.equal(listener.records.filter((r) => r.type === 'reconcile').length, 0);
  }
});
