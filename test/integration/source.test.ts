import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SOURCE_HEADER, SOURCE_SECRET_HEADER } from '../../src/core/events.js';
import { eventRecord } from '../../src/output/records.js';
import type { CapturedEvent } from '../../src/core/types.js';
import { runCli } from '../helpers/cli.js';
import { headerPairs, post, startListener, type RunningListener } from '../helpers/deliveries.js';
import { startRecordingHandler, type RecordingHandler } from '../helpers/recording-handler.js';
import { startSession } from '../helpers/session.js';
import { tempDir } from '../helpers/temp.js';

describe('every event has a source', () => {
  let handler: RecordingHandler;
  let home: { path: string; cleanup: () => Promise<void> };
  let running: RunningListener;

  before(async () => {
    handler = await startRecordingHandler();
    home = await tempDir();
    running = await startListener(home.path, ['--forward-to', handler.url, '--no-inspect']);
  });
  after(async () => {
    await running.listener.stop();
    await handler.close();
    await home.cleanup();
  });

  const listed = async (id: string): Promise<Record<string, unknown>> => {
    const result = await runCli(['events', 'list', '--json'], { env: running.env });
    const records = result.stdout
      .toString()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    return records.find((r) => r.id === id)!;
  };

  test('a delivery to the capture URL is a webhook', async () => {
    // When a request reaches the capture URL
    assert.equal(await post(running.captureUrl, Buffer.from('{"eventType":"MESSAGE.RECEIVED.SUCCESS"}')), 200);
    // Then its event record says webhook, live and in the store
    const shown = await running.listener.waitForRecord((r) => r.type === 'event' && r.foreign === false, 'the event');
    assert.equal(shown.source, 'webhook');
    assert.equal((await listed(String(shown.id))).source, 'webhook');
  });

  test('a trigger through the listener is a trigger; the handler sees its source header, never the secret', async () => {
    const before = handler.requests.length;
    // When `trigger` sends a sample through the running listener
    const result = await runCli(['trigger', 'received'], { env: running.env });
    assert.equal(result.code, 0, result.stderr.toString());
    const eventId = /captured as event (\w+)/.exec(result.stdout.toString())?.[1];
    assert.ok(eventId, result.stdout.toString());
    // Then it is shown and stored with source trigger
    const shown = await running.listener.waitForRecord((r) => r.type === 'event' && r.id === eventId, 'the trigger event');
    assert.equal(shown.source, 'trigger');
    assert.equal((await listed(eventId)).source, 'trigger');
    // And the stored headers and the forwarded request carry the source header once, never the secret
    const show = JSON.parse((await runCli(['events', 'show', eventId, '--json'], { env: running.env })).stdout.toString()) as { headers: Array<[string, string]>; source: string };
    assert.equal(show.source, 'trigger');
    assert.deepEqual(
      show.headers.filter(([name]) => name.toLowerCase().startsWith('x-mftg-hooks')),
      [[SOURCE_HEADER, 'trigger']],
    );
    const forwarded = (await handler.waitFor(before + 1))[before]!;
    assert.deepEqual(
      headerPairs(forwarded).filter(([name]) => name.toLowerCase().startsWith('x-mftg-hooks')),
      [[SOURCE_HEADER, 'trigger']],
    );
    assert.equal(forwarded.headers['user-agent'], 'mftg-hooks-trigger');
  });

  test('a stranger who forges the source mark sends a webhook, kept exactly as sent', async () => {
    const before = handler.requests.length;
    const forged = ['content-type', 'application/json', SOURCE_HEADER, 'trigger', SOURCE_SECRET_HEADER, 'guessed-secret-0123456789abcdef'];
    // When a request claims to be a trigger with a wrong secret, and another with none
    assert.equal(await post(running.captureUrl, Buffer.from('{"forged":1}'), forged), 200);
    assert.equal(await post(running.captureUrl, Buffer.from('{"forged":2}'), ['content-type', 'application/json', SOURCE_HEADER, 'reconcile']), 200);
    // Then both are webhooks
    await running.listener.waitForRecord(() => running.listener.records.filter((r) => r.type === 'event' && r.size === 12 && r.source === 'webhook').length === 2, 'two forged events');
    const events = running.listener.records.filter((r) => r.type === 'event' && r.size === 12);
    assert.deepEqual(
      events.map((r) => r.source),
      ['webhook', 'webhook'],
    );
    // And their headers reach the handler as they came (they are the sender's)
    const [first] = (await handler.waitFor(before + 2)).slice(before);
    assert.deepEqual(headerPairs(first!, ['host', 'connection', 'content-length']), [
      ['content-type', 'application/json'],
      [SOURCE_HEADER, 'trigger'],
      [SOURCE_SECRET_HEADER, 'guessed-secret-0123456789abcdef'],
    ]);
  });

  test('the secret is in listener.json, readable only by the user', async () => {
    const info = JSON.parse(await readFile(join(home.path, 'listener.json'), 'utf8')) as { sourceSecret?: string };
    assert.ok(info.sourceSecret && info.sourceSecret.length >= 32);
    const { stat } = await import('node:fs/promises');
    assert.equal((await stat(join(home.path, 'listener.json'))).mode & 0o777, 0o600);
  });
});

test("a face's Trigger goes down the same ingest path: stored, shown and forwarded as a trigger", async (t) => {
  const handler = await startRecordingHandler();
  const { session, elements, close } = await startSession({ targets: { forwardTo: handler.url, routes: {} } });
  t.after(async () => {
    await close();
    await handler.close();
  });
  // When the session view is asked for a sample
  const id = await session.trigger({ eventType: 'failed' });
  // Then it is stored with source trigger
  const stored = await session.getEvent(id);
  assert.equal(stored.source, 'trigger');
  assert.equal(stored.mftg?.eventType, 'MESSAGE.SEND.FAILED');
  // And shown, and forwarded byte for byte
  const shown = elements.find((e) => e.type === 'event' && e.event.id === id);
  assert.ok(shown && shown.type === 'event' && shown.event.source === 'trigger');
  const [got] = await handler.waitFor(1);
  assert.deepEqual(got!.body, await session.getBody(id));
});

test('events stored before sources existed read as webhooks', () => {
  // Given an event record of an earlier version (no source field)
  const old: CapturedEvent = { id: '01abcdefghjkmn', receivedAt: '2026-01-01T00:00:00.000Z', method: 'POST', path: '/', headers: [], remoteAddress: null, size: 0, mftg: null };
  // Then its record says webhook
  assert.equal(eventRecord(old).source, 'webhook');
});
