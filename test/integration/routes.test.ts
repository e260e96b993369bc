import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { attemptsOf, capturedIds, post, startListener } from '../helpers/deliveries.js';
import { startRecordingHandler, type RecordingHandler } from '../helpers/recording-handler.js';
import { tempDir } from '../helpers/temp.js';

const typesOf = (handler: RecordingHandler): unknown[] =>
  handler.requests.map((req) => (req.body.length > 0 ? ((JSON.parse(req.body.toString()) as { eventType?: unknown }).eventType ?? null) : null));

test('--route sends each eventType to its own handler, others to --forward-to; replays honour routes', async () => {
  const [fallback, failed, received] = await Promise.all([startRecordingHandler(), startRecordingHandler({ path: '/failed' }), startRecordingHandler({ path: '/received' })]);
  const home = await tempDir();
  const running = await startListener(home.path, ['--forward-to', fallback.url, '--route', `MESSAGE.SEND.FAILED=${failed.url}`, '--route', `MESSAGE.RECEIVED.SUCCESS=${received.url}`]);
  try {
    // Given one sample of each type, and a request that is not MFTG's
    for (const type of ['MESSAGE.RECEIVED.SUCCESS', 'MESSAGE.SEND.SUCCESS', 'MESSAGE.SEND.FAILED']) {
      const result = await runCliInProcess(['trigger', type], { env: running.env });
      assert.equal(result.code, 0, result.stderr);
    }
    assert.equal(await post(running.captureUrl, Buffer.from('{"hello":"world"}')), 200);
    const ids = await capturedIds(running.listener, 4);
    // Then each went to its route, the rest to --forward-to
    await Promise.all([fallback.waitFor(2), failed.waitFor(1), received.waitFor(1)]);
    assert.deepEqual(typesOf(received), ['MESSAGE.RECEIVED.SUCCESS']);
    assert.deepEqual(typesOf(failed), ['MESSAGE.SEND.FAILED']);
    assert.deepEqual(typesOf(fallback), ['MESSAGE.SEND.SUCCESS', null]);
    assert.equal(failed.requests[0]!.url, '/failed');
    // When the failed event is replayed from another terminal without --to
    const replayed = await runCliInProcess(['replay', ids[2]!, '--json'], { env: running.env });
    // Then it goes to its route again
    assert.equal(replayed.code, 0, replayed.stderr);
    assert.equal((JSON.parse(replayed.stdout.toString()) as { target: string }).target, failed.url);
    await failed.waitFor(2);
    assert.ok(failed.requests[1]!.body.equals(failed.requests[0]!.body));
    // And --to overrides the routes
    const redirected = await runCliInProcess(['replay', ids[2]!, '--to', fallback.url], { env: running.env });
    assert.equal(redirected.code, 0, redirected.stderr);
    await fallback.waitFor(3);
    assert.deepEqual(typesOf(fallback).at(-1), 'MESSAGE.SEND.FAILED');
  } finally {
    await running.listener.stop();
    await Promise.all([fallback.close(), failed.close(), received.close()]);
    await home.cleanup();
  }
});

test('with routes only, an eventType without a route is captured but not forwarded, and replay says why', async () => {
  const failed = await startRecordingHandler();
  const home = await tempDir();
  const running = await startListener(home.path, ['--route', `MESSAGE.SEND.FAILED=${failed.url}`]);
  try {
    for (const type of ['sent', 'failed']) assert.equal((await runCliInProcess(['trigger', type], { env: running.env })).code, 0);
    const [sentId] = await capturedIds(running.listener, 2);
    await failed.waitFor(1);
    assert.deepEqual(typesOf(failed), ['MESSAGE.SEND.FAILED']);
    assert.deepEqual(attemptsOf(running.listener, sentId!), [], 'the unrouted event was not forwarded');
    const result = await runCliInProcess(['replay', sentId!], { env: running.env });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /no route or --forward-to of the running listener covers event .* \(MESSAGE\.SEND\.SUCCESS\)/);
  } finally {
    await running.listener.stop();
    await failed.close();
    await home.cleanup();
  }
});
