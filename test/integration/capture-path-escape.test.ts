import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { newId } from '../../src/core/ids.js';
import { summarize } from '../../src/core/mftg.js';
import type { CapturedEvent } from '../../src/core/types.js';
import { runCli } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { startRecordingHandler } from '../helpers/recording-handler.js';
import { startSession, TEST_TOKEN } from '../helpers/session.js';

/** One request written as given (the target is not normalised by any client); resolves with the status. */
function rawRequest(port: number, target: string, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`POST ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
      socket.write(body);
    });
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)));
  });
}

/** Every spelling of "go up" or "start over" that a server, proxy or URL parser on the way may honour. */
const ESCAPES = [
  '/../../admin/delete',
  '/./../admin/delete',
  '/%2e%2e/%2e%2e/admin/delete',
  '/%2E%2e/admin/delete',
  '/.%2e/admin/delete',
  '/%2e./admin/delete',
  '/..\\..\\admin\\delete',
  '/%5c..%5cadmin',
  '/..%5cadmin',
  '//admin/delete',
  '/%2f../admin/delete',
  '/a/%2F%2E%2E/admin',
  '/%252e%252e/admin',
  '/..;/admin',
  '/sub/..',
];

const failedBody = Buffer.from(JSON.stringify({ eventType: 'MESSAGE.SEND.FAILED', messageIdentifier: '<escape@test>' }));
const receivedBody = Buffer.from(JSON.stringify({ eventType: 'MESSAGE.RECEIVED.SUCCESS', messageIdentifier: '<escape@test>' }));

test('a captured path never leaves the --forward-to or --route base path: every spelling of a dot segment gets 404 and nothing is forwarded', async (t) => {
  const handler = await startRecordingHandler({ path: '/webhooks/mftg' });
  const routed = await startRecordingHandler({ path: '/routes/failed' });
  const { session, elements, close } = await startSession({ targets: { forwardTo: handler.url, routes: { 'MESSAGE.SEND.FAILED': routed.url } } });
  t.after(async () => {
    await close();
    await Promise.all([handler.close(), routed.close()]);
  });
  const port = Number(new URL(session.captureUrl).port);

  for (const escape of ESCAPES) {
    // When a delivery's path below the token climbs out of it (to the fallback target and to a route)
    for (const body of [receivedBody, failedBody]) {
      const status = await rawRequest(port, `/${TEST_TOKEN}${escape}?x=1`, body);
      // Then it is refused before anything is stored
      assert.equal(status, 404, escape);
    }
    // And in absolute form too
    assert.equal(await rawRequest(port, `http://127.0.0.1:${port}/${TEST_TOKEN}${escape}`, receivedBody), 404, `absolute form of ${escape}`);
  }

  // When ordinary sub-paths follow (dots inside names are just names)
  assert.equal(await rawRequest(port, `/${TEST_TOKEN}/as2/a..b/c.json?x=1`, receivedBody), 200);
  assert.equal(await rawRequest(port, `/${TEST_TOKEN}/as2/%2e%2ehidden/`, failedBody), 200);
  const [plain] = await handler.waitFor(1);
  const [viaRoute] = await routed.waitFor(1);

  // Then only they were stored and forwarded, below each base path
  assert.equal(session.stats.captured, 2);
  assert.equal(plain!.url, '/webhooks/mftg/as2/a..b/c.json?x=1');
  assert.equal(viaRoute!.url, '/routes/failed/as2/%2e%2ehidden/');
  assert.equal(handler.requests.length, 1);
  assert.equal(routed.requests.length, 1);
  // And every refusal was counted as not-found, with the reason for the developer
  const refused = elements.flatMap((e) => (e.type === 'rejected' ? [e] : []));
  assert.equal(refused.length, ESCAPES.length * 3);
  assert.ok(refused.every((e) => e.reason === 'not-found'));
  assert.ok(
    refused.some((e) => /dot segment/.test(e.detail ?? '')),
    'the detail names the dot segment',
  );
});

test('replaying a stored event whose path climbs out is refused (live replay and `replay` from another terminal)', async (t) => {
  const handler = await startRecordingHandler({ path: '/webhooks/mftg' });
  const { session, storeDir, close } = await startSession({ targets: { forwardTo: handler.url, routes: {} } });
  t.after(async () => {
    await close();
    await handler.close();
  });
  // Given events stored with such paths (by an older version, or written by hand)
  const ids: string[] = [];
  for (const path of ['/../../admin/delete', '/%2e%2e/admin', '/..%5cadmin', '//admin', '/%2f../admin']) {
    const event: CapturedEvent = {
      id: newId(),
      receivedAt: new Date().toISOString(),
      method: 'POST',
      path,
      headers: [['Content-Type', 'application/json']],
      remoteAddress: '127.0.0.1',
      size: receivedBody.length,
      mftg: summarize(receivedBody),
    };
    await session.eventStore.appendEvent(event, receivedBody);
    ids.push(event.id);
  }

  for (const id of ids) {
    // When the live view replays it, Then it is refused with a reason
    await assert.rejects(session.replay(id), { code: 'E_NO_TARGET', message: /captured path .* could reach outside http:\/\/127\.0\.0\.1:\d+\/webhooks\/mftg/ });
    // When `replay` runs in another terminal, to the listener's target or with --to (the first as a
    // real process, the others in the test process)
    for (const extra of [[], ['--to', handler.url]]) {
      const run = id === ids[0] && extra.length === 0 ? runCli : runCliInProcess;
      const result = await run(['replay', id, ...extra], { env: { MFTG_HOOKS_HOME: storeDir } });
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /captured path/);
    }
  }
  // Then the handler never saw a request (every replay had finished before this point)
  assert.equal(handler.requests.length, 0);
});
