import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { InspectView } from '../../src/core/inspect-view.js';
import { replay } from '../../src/core/replay.js';
import type { ListenSession, SessionElement } from '../../src/core/session.js';
import type { AttemptKind, ForwardAttempt } from '../../src/core/types.js';
import { attachJsonPrinter } from '../../src/output/json-printer.js';
import { startInspector, type Inspector } from '../../src/web/server.js';
import { post } from '../helpers/deliveries.js';
import { startRecordingHandler, type RecordingHandler } from '../helpers/recording-handler.js';
import { startSession } from '../helpers/session.js';
import { waitUntil } from '../helpers/temp.js';

/**
 * Every kind of attempt goes through the one owner of attempts: each is stored on its event, shown
 * in the session's elements (what the terminal UI reads) and printed by a plain `--json` printer.
 */
describe('every attempt is sent and recorded through the one delivery path', () => {
  let handler: RecordingHandler;
  let running: Awaited<ReturnType<typeof startSession>>;
  let session: ListenSession;
  let inspector: Inspector;
  let json: Array<Record<string, unknown>>;
  let detach: () => void;
  /** Answers the next requests with these statuses, then 200. */
  let statuses: number[] = [];

  before(async () => {
    handler = await startRecordingHandler();
    handler.respond((_req, res) => {
      res.writeHead(statuses.shift() ?? 200, { 'content-type': 'text/plain' });
      res.end('answer');
    });
    running = await startSession({ targets: { forwardTo: handler.url, routes: {} }, retries: 2, retryBackoffMs: 20 });
    session = running.session;
    json = [];
    const out = new PassThrough();
    let buffered = '';
    out.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) if (line.trim()) json.push(JSON.parse(line) as Record<string, unknown>);
    });
    detach = attachJsonPrinter(session, out);
    inspector = await startInspector(session, { address: '127.0.0.1:0' });
  });
  after(async () => {
    await inspector.close();
    await running.close();
    detach();
    await handler.close();
  });

  /** A delivery to the capture URL, forwarded; resolves with its event id once its forward settled. */
  const deliver = async (body: string): Promise<string> => {
    assert.equal(await post(session.captureUrl, Buffer.from(body)), 200);
    const element = await waitUntil(
      () => running.elements.find((e): e is Extract<SessionElement, { type: 'event' }> => e.type === 'event' && e.event.size === body.length && !e.foreign && !seen.has(e.event.id)),
      'the event',
    );
    seen.add(element.event.id);
    return element.event.id;
  };
  const seen = new Set<string>();

  /** The attempt of `kind` on `eventId`, found in all three places; they agree. */
  const everywhere = async (eventId: string, kind: AttemptKind, nth = 0): Promise<ForwardAttempt> => {
    const stored = await waitUntil(async () => (await session.getEvent(eventId)).attempts.filter((a) => a.kind === kind)[nth], `the stored ${kind}`);
    const element = await waitUntil(() => running.elements.find((e) => e.type === 'attempt' && e.attempt.id === stored.id), `the ${kind} element`);
    const record = await waitUntil(() => json.find((r) => r.type === 'attempt' && r.id === stored.id), `the ${kind} record`);
    assert.ok(element.type === 'attempt');
    assert.deepEqual({ ...element.attempt }, stored);
    assert.deepEqual([record.eventId, record.kind, record.status, record.target], [eventId, kind, stored.status, stored.target]);
    return stored;
  };

  test('a forward', async () => {
    const id = await deliver('{"kind":"forward"}');
    const attempt = await everywhere(id, 'forward');
    assert.equal(attempt.status, 200);
    assert.equal(attempt.delivery, 'delivered');
  });

  test("a retry (after a 503), with the retry rule's decision on each attempt", async () => {
    statuses = [503];
    const id = await deliver('{"kind":"retry"}');
    const forward = await everywhere(id, 'forward');
    const retry = await everywhere(id, 'retry');
    assert.deepEqual([forward.status, forward.delivery], [503, 'pending']);
    assert.deepEqual([retry.status, retry.delivery], [200, 'delivered']);
  });

  test("the terminal UI's replay (session.replay)", async () => {
    const id = await deliver('{"kind":"ui-replay"}');
    await everywhere(id, 'forward');
    const before = handler.requests.length;
    const made = await session.replay(id);
    const attempt = await everywhere(id, 'replay');
    assert.equal(attempt.id, made.id);
    assert.equal(attempt.modified, false);
    assert.equal(attempt.delivery, undefined);
    assert.deepEqual(handler.requests[before]!.body, Buffer.from('{"kind":"ui-replay"}'));
  });

  test("the web inspector's replay with edits", async () => {
    const id = await deliver('{"kind":"web-replay"}');
    await everywhere(id, 'forward');
    const before = handler.requests.length;
    const info = (await (await request(`${inspector.url}api/session`)).body.json()) as { secret: string };
    const response = await request(`${inspector.url}api/events/${id}/replay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-mftg-hooks-secret': info.secret },
      body: JSON.stringify({
        body: '{"kind":"edited"}',
        headers: [
          ['content-type', 'application/json'],
          ['x-edited', 'yes'],
        ],
      }),
    });
    assert.equal(response.statusCode, 200, await response.body.text());
    const attempt = await everywhere(id, 'replay');
    assert.equal(attempt.modified, true);
    const got = handler.requests[before]!;
    assert.deepEqual(got.body, Buffer.from('{"kind":"edited"}'));
    assert.equal(got.headers['x-edited'], 'yes');
  });

  test('mftg-hooks replay from another terminal (the replay service on the same store)', async () => {
    const id = await deliver('{"kind":"other-terminal"}');
    await everywhere(id, 'forward');
    // When another process replays it (same store; the target is the running listener's)
    const [result] = await replay({ storeDir: running.storeDir, selection: { ids: [id] }, to: null, sets: [], headers: [], edit: false, timeoutMs: 5_000, insecure: false });
    assert.equal(result!.attempt.target, handler.url);
    // Then the listener shows it (followed from the store) like its own
    const attempt = await everywhere(id, 'replay');
    assert.equal(attempt.id, result!.attempt.id);
    const element = running.elements.find((e) => e.type === 'attempt' && e.attempt.id === attempt.id);
    assert.ok(element?.type === 'attempt' && element.foreign);
  });

  test("a replay from `mftg-hooks inspect` (the store alone), to the page's target", async () => {
    const id = await deliver('{"kind":"inspect-view"}');
    await everywhere(id, 'forward');
    const view = await InspectView.open({ storeDir: running.storeDir, timeoutMs: 5_000 });
    const seenByView: SessionElement[] = [];
    view.subscribe((element) => seenByView.push(element));
    try {
      const target = handler.url.replace('/hook', '/other');
      const before = handler.requests.length;
      const made = await view.replay(id.slice(0, 10), { target });
      assert.equal(made.target, target);
      assert.equal(handler.requests[before]!.url, '/other');
      // Then the listener (another reader of the store) shows it, and the view itself too
      const attempt = await everywhere(id, 'replay');
      assert.equal(attempt.id, made.id);
      assert.ok(seenByView.some((e) => e.type === 'attempt' && e.attempt.id === made.id && !e.foreign));
      assert.equal(view.snapshot().stats.attempts.ok, 1);
    } finally {
      await view.close();
    }
  });
});

test('only the delivery module turns HTTP requests into attempts', async () => {
  // Given every source file
  const root = fileURLToPath(new URL('../../../src/', import.meta.url));
  const files = (await readdir(root, { recursive: true })).filter((name) => /\.tsx?$/.test(name));
  // Then the one HTTP primitive is used by the delivery module, and elsewhere only for plain
  // requests that are not attempts (a trigger's post, a post through the listener)
  const users = [];
  for (const name of files) {
    if (/\bhttpRequest\(/.test(await readFile(join(root, name), 'utf8'))) users.push(name.split(sep).join('/'));
  }
  assert.deepEqual(users.sort(), ['commands/trigger.ts', 'core/delivery/attempts.ts', 'core/http-send.ts', 'core/ingest.ts']);
});
