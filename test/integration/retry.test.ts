import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { attemptsOf, capturedIds, post, startListener, type RunningListener } from '../helpers/deliveries.js';
import { startRecordingHandler, type RecordedRequest, type RecordingHandler } from '../helpers/recording-handler.js';
import { tempDir, waitUntil } from '../helpers/temp.js';
import { closedPort } from '../helpers/tunnel-servers.js';

const BACKOFF_MS = 100;
const tagOf = (req: RecordedRequest): string => String(req.headers['x-tag']);

describe('automatic retries (--retry 3, --retry-backoff 100)', () => {
  let handler: RecordingHandler;
  let home: { path: string; cleanup: () => Promise<void> };
  let running: RunningListener;
  /** Answers per tag, in order; the last one repeats. */
  const script = new Map<string, number[]>();
  const seen = new Map<string, number>();

  before(async () => {
    handler = await startRecordingHandler();
    handler.respond((req, res) => {
      const tag = tagOf(req);
      const n = seen.get(tag) ?? 0;
      seen.set(tag, n + 1);
      const answers = script.get(tag) ?? [200];
      res.writeHead(answers[Math.min(n, answers.length - 1)]!);
      res.end();
    });
    home = await tempDir();
    running = await startListener(home.path, ['--forward-to', handler.url, '--retry', '3', '--retry-backoff', String(BACKOFF_MS)]);
  });
  after(async () => {
    await running.listener.stop();
    await handler.close();
    await home.cleanup();
  });

  let captured = 0;
  /** Captures one event tagged `tag` whose forwards get `answers`; returns its id. */
  async function deliver(tag: string, answers: number[]): Promise<string> {
    script.set(tag, answers);
    assert.equal(await post(running.captureUrl, Buffer.from(`{"tag":"${tag}"}`), ['Content-Type', 'application/json', 'X-Tag', tag]), 200);
    captured++;
    return (await capturedIds(running.listener, captured)).at(-1)!;
  }
  const requestsOf = (tag: string): RecordedRequest[] => handler.requests.filter((req) => tagOf(req) === tag);
  /**
   * A later event answered 500 then 200: its retry comes BACKOFF_MS after its first try. Any
   * further retry of an earlier event would have been due before it, so once it has arrived, the
   * earlier event's request count is final.
   */
  async function barrier(tag: string): Promise<void> {
    await deliver(tag, [500, 200]);
    await waitUntil(() => requestsOf(tag).length >= 2, `the retry of ${tag}`);
  }

  test('a handler that fails twice then succeeds gets exactly three requests, with growing gaps', async () => {
    // Given a handler that answers 500, 500, then 200
    const id = await deliver('twice', [500, 503, 200]);
    // When the event is forwarded
    await running.listener.waitForRecord(() => attemptsOf(running.listener, id).some((a) => a.status === 200), 'the successful retry');
    // Then three attempts: the forward and two retries
    assert.deepEqual(
      attemptsOf(running.listener, id).map((a) => [a.kind, a.status]),
      [
        ['forward', 500],
        ['retry', 503],
        ['retry', 200],
      ],
    );
    // And the gaps between the requests grow: at least 100 ms, then at least 200 ms (a timer never fires
    // early; on a loaded machine either gap can be longer, so the two are not compared with each other)
    const [t1, t2, t3] = requestsOf('twice').map((req) => req.at) as [number, number, number];
    assert.ok(t2 - t1 >= BACKOFF_MS - 5, `first gap ${t2 - t1} ms`);
    assert.ok(t3 - t2 >= 2 * BACKOFF_MS - 5, `second gap ${t3 - t2} ms`);
    // And nothing more comes
    await barrier('after-twice');
    assert.equal(requestsOf('twice').length, 3);
  });

  test('a 4xx answer is not retried', async () => {
    // Given a handler that rejects the event
    const id = await deliver('rejected', [422]);
    await running.listener.waitForRecord(() => attemptsOf(running.listener, id).length > 0, 'the forward');
    // When later retries would have come
    await barrier('after-rejected');
    // Then there was one request only
    assert.equal(requestsOf('rejected').length, 1);
    assert.deepEqual(
      attemptsOf(running.listener, id).map((a) => [a.kind, a.status]),
      [['forward', 422]],
    );
  });

  test('a 5xx answer is retried --retry times, then the event is left failed', async () => {
    const id = await deliver('always-503', [503]);
    await running.listener.waitForRecord(() => attemptsOf(running.listener, id).length === 4, 'four attempts');
    await barrier('after-503');
    assert.equal(requestsOf('always-503').length, 4);
    assert.deepEqual(
      attemptsOf(running.listener, id).map((a) => a.kind),
      ['forward', 'retry', 'retry', 'retry'],
    );
  });
});

test('a handler that is down for a while receives every event that failed meanwhile, in order, once each', async () => {
  const home = await tempDir();
  const port = await closedPort();
  const running = await startListener(home.path, ['--forward-to', `http://127.0.0.1:${port}/hook`, '--retry', '3', '--retry-backoff', String(BACKOFF_MS)]);
  let handler: RecordingHandler | null = null;
  try {
    // Given a handler that is down: the first event's forward is refused
    const body = (n: number): Buffer => Buffer.from(`{"seq":${n}}`);
    assert.equal(await post(running.captureUrl, body(1), ['X-Seq', '1']), 200);
    const [firstId] = await capturedIds(running.listener, 1);
    const refused = await running.listener.waitForRecord((r) => r.type === 'attempt' && r.eventId === firstId, 'the refused forward');
    assert.equal(refused.error, 'ECONNREFUSED');
    // And more events arrive while it is down
    for (const n of [2, 3, 4, 5]) assert.equal(await post(running.captureUrl, body(n), ['X-Seq', String(n)]), 200);
    const ids = await capturedIds(running.listener, 5);
    // When the handler comes back on its port
    handler = await startRecordingHandler({ port });
    // Then every event arrives, in arrival order
    const received = await handler.waitFor(5);
    assert.deepEqual(
      received.map((req) => req.headers['x-seq']),
      ['1', '2', '3', '4', '5'],
    );
    received.forEach((req, i) => assert.ok(req.body.equals(body(i + 1))));
    for (const id of ids) await running.listener.waitForRecord((r) => r.type === 'attempt' && r.eventId === id && r.status === 200, `delivery of ${id}`);
    // And once each: an event captured afterwards is the very next request
    assert.equal(await post(running.captureUrl, body(6), ['X-Seq', '6']), 200);
    await handler.waitFor(6);
    const [sixthId] = (await capturedIds(running.listener, 6)).slice(5);
    await running.listener.waitForRecord((r) => r.type === 'attempt' && r.eventId === sixthId, 'the sixth forward');
    assert.deepEqual(
      handler.requests.map((req) => req.headers['x-seq']),
      ['1', '2', '3', '4', '5', '6'],
    );
    for (const id of ids) assert.equal(attemptsOf(running.listener, id).filter((a) => a.status === 200).length, 1);
  } finally {
    await running.listener.stop();
    await handler?.close();
    await home.cleanup();
  }
});
