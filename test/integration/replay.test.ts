import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildSample } from '../../src/core/mftg-samples.js';
import { runCli } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { capturedIds, headerPairs, post, startListener, type RunningListener } from '../helpers/deliveries.js';
import { startRecordingHandler, type RecordedRequest, type RecordingHandler } from '../helpers/recording-handler.js';
import { tempDir } from '../helpers/temp.js';
import { closedPort } from '../helpers/tunnel-servers.js';

const every = Buffer.from(Array.from({ length: 1024 }, (_, i) => i % 256));
const json = Buffer.from(JSON.stringify(buildSample('MESSAGE.SEND.FAILED', { attachments: 2 })));
const CASES = [
  { name: 'MFTG JSON', body: json, type: 'application/json' },
  { name: 'binary, every byte value', body: every, type: 'application/octet-stream' },
  { name: 'empty', body: Buffer.alloc(0), type: null },
  { name: '2 MiB', body: randomBytes(2 * 1024 * 1024), type: 'application/octet-stream' },
];

const caseOf = (req: RecordedRequest): number => Number(req.headers['x-case']);
const jsonLines = (out: Buffer): Array<Record<string, unknown>> =>
  out
    .toString()
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('replay', () => {
  let handler: RecordingHandler;
  let home: { path: string; cleanup: () => Promise<void> };
  let running: RunningListener;
  let ids: string[];
  let firstDelivery: RecordedRequest[];
  // Edge cases run the CLI in-process; the first test runs the real bin, as a user does.
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}): ReturnType<typeof runCli> => runCliInProcess(args, { env: { ...running.env, ...env } });

  before(async () => {
    handler = await startRecordingHandler();
    home = await tempDir();
    running = await startListener(home.path, ['--forward-to', handler.url, '--retry', '0']);
    // Given events of every body kind, captured and forwarded once, on a sub-path with a query
    for (const [i, c] of CASES.entries()) {
      const headers = ['X-Case', String(i), ...(c.type ? ['Content-Type', c.type] : []), 'X-Dup', 'a', 'x-dup', 'b'];
      assert.equal(await post(`${running.captureUrl}/inbound?case=${i}`, c.body, headers), 200);
    }
    ids = await capturedIds(running.listener, CASES.length);
    firstDelivery = [...(await handler.waitFor(CASES.length))].sort((a, b) => caseOf(a) - caseOf(b));
  });
  after(async () => {
    await running.listener.stop();
    await handler.close();
    await home.cleanup();
  });

  test('stored bytes go out unchanged, and a running listener shows each replay', async () => {
    // When every event is replayed from another process
    const result = await runCli(['replay', ...ids.map((id) => id.slice(0, 12))], { env: running.env });
    // Then it exits 0 and the handler got each request exactly as the first time
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString().trim().split('\n').length, CASES.length);
    const replays = [...(await handler.waitFor(2 * CASES.length))].slice(CASES.length).sort((a, b) => caseOf(a) - caseOf(b));
    for (const [i, c] of CASES.entries()) {
      const [first, again] = [firstDelivery[i]!, replays[i]!];
      assert.equal(again.method, first.method, c.name);
      assert.equal(again.url, first.url, c.name);
      assert.deepEqual(again.rawHeaders, first.rawHeaders, `${c.name}: headers, case, order and duplicates`);
      assert.ok(again.body.equals(first.body) && again.body.equals(c.body), `${c.name}: body bytes`);
    }
    // And the listener printed an attempt record of kind replay for every event
    for (const id of ids) {
      const record = await running.listener.waitForRecord((r) => r.type === 'attempt' && r.eventId === id && r.kind === 'replay', `replay of ${id}`);
      assert.equal(record.status, 200);
      assert.equal(record.modified, false);
    }
  });

  test('--set and --header change exactly the named field and header', async () => {
    const before = handler.requests.length;
    // When the JSON event is replayed with edits
    const result = await cli([
      'replay',
      ids[0]!,
      '--set',
      'messageSubject="PO 4711"',
      '--set',
      'attachments[1]=AS2/files/X/Y/outbox/1/Z.edi',
      '--set',
      'failures=7',
      '--header',
      'content-type: application/json; charset=utf-8',
      '--header',
      'X-Debug: yes',
      '--json',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const [record] = jsonLines(result.stdout);
    assert.equal(record?.type, 'attempt');
    assert.equal(record?.kind, 'replay');
    assert.equal(record?.modified, true);
    const got = (await handler.waitFor(before + 1))[before]!;
    // Then the body is the original with those fields changed, in the original key order
    const original = JSON.parse(json.toString()) as Record<string, unknown>;
    const expected = { ...original, messageSubject: 'PO 4711', failures: 7, attachments: [(original.attachments as string[])[0], 'AS2/files/X/Y/outbox/1/Z.edi'] };
    assert.equal(got.body.toString(), JSON.stringify(expected));
    // And the headers are the first delivery's with content-type replaced in place and X-Debug added
    const firstPairs = headerPairs(firstDelivery[0]!).filter(([name]) => name !== 'content-length');
    const expectedPairs = [
      ...firstPairs.map(([name, value]): [string, string] => (name === 'Content-Type' ? ['content-type', 'application/json; charset=utf-8'] : [name, value])),
      ['X-Debug', 'yes'],
      ['content-length', String(got.body.length)],
    ];
    assert.deepEqual(headerPairs(got), expectedPairs);
  });

  test('--edit sends what the editor saved; an empty file aborts', async () => {
    // Given a scripted editor that writes $EDIT_TO into the file
    const editor = join(home.path, 'editor.mjs');
    await writeFile(editor, "import { writeFileSync } from 'node:fs';\nwriteFileSync(process.argv[2], process.env.EDIT_TO ?? '');\n");
    const env = { VISUAL: '', EDITOR: `"${process.execPath}" "${editor}"` };
    const before = handler.requests.length;
    // When the binary event is edited into new bytes
    const edited = '{"edited":true,"emoji":"\u{1F4E6}"}\n';
    const result = await cli(['replay', ids[1]!, '--edit'], { ...env, EDIT_TO: edited });
    // Then exactly those bytes went out, and the attempt is marked modified
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout.toString(), /\(modified\)/);
    const got = (await handler.waitFor(before + 1))[before]!;
    assert.equal(got.body.toString(), edited);
    assert.deepEqual(headerPairs(got, ['content-length']), headerPairs(firstDelivery[1]!, ['content-length']));
    const shown = await cli(['events', 'show', ids[1]!, '--json']);
    const attempts = (JSON.parse(shown.stdout.toString()) as { attempts: Array<{ kind: string; modified: boolean }> }).attempts;
    assert.deepEqual(attempts.at(-1), { ...attempts.at(-1), kind: 'replay', modified: true });
    // When the editor leaves the file empty
    const aborted = await cli(['replay', ids[1]!, '--edit'], { ...env, EDIT_TO: '' });
    // Then nothing is sent and the reason is clear
    assert.equal(aborted.code, 1);
    assert.match(aborted.stderr, /empty/);
    assert.equal(handler.requests.length, before + 1);
  });

  test('--set on a body that is not JSON is a clear error and sends nothing', async () => {
    const before = handler.requests.length;
    const result = await cli(['replay', ids[1]!, '--set', 'a=1']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /is not JSON.*--set/);
    assert.equal(result.stderr.trim().split('\n').length, 1, 'one line');
    assert.equal(handler.requests.length, before);
  });

  test('exit code: 0 only when every target answered 2xx', async () => {
    const statusOf = async (status: number): Promise<number | null> => {
      handler.respond((_req, res) => {
        res.writeHead(status);
        res.end();
      });
      const result = await cli(['replay', ids[0]!, '--json']);
      assert.equal(jsonLines(result.stdout)[0]?.status, status);
      return result.code;
    };
    try {
      assert.equal(await statusOf(204), 0);
      assert.equal(await statusOf(404), 1);
      assert.equal(await statusOf(422), 1);
      assert.equal(await statusOf(500), 1);
      assert.equal(await statusOf(302), 1, 'a redirect is recorded, not followed');
      // And one failure among several successes fails the run
      handler.respond((req, res) => {
        res.writeHead(caseOf(req) === 2 ? 503 : 200);
        res.end();
      });
      const mixed = await cli(['replay', ids[0]!, ids[2]!, ids[3]!]);
      assert.equal(mixed.code, 1);
      assert.match(mixed.stderr, /1 of 3 replays did not get a 2xx answer/);
    } finally {
      handler.respond((_req, res) => void res.end('ok'));
    }
    // And an unreachable target fails with its error code
    const port = await closedPort();
    const unreachable = await cli(['replay', ids[0]!, '--to', `http://127.0.0.1:${port}/down`, '--json']);
    assert.equal(unreachable.code, 1);
    const [record] = jsonLines(unreachable.stdout);
    assert.equal(record?.error, 'ECONNREFUSED');
    assert.equal(record?.target, `http://127.0.0.1:${port}/down/inbound?case=0`, '--to keeps the captured sub-path and query');
  });

  test('--failed replays the events whose last attempt failed, oldest first', async () => {
    // Given two events whose forwards fail
    handler.respond((req, res) => {
      res.writeHead(req.headers['x-fail'] ? 500 : 200);
      res.end();
    });
    try {
      const before = handler.requests.length;
      for (const n of [1, 2]) assert.equal(await post(running.captureUrl, Buffer.from(`{"n":${n}}`), ['X-Fail', String(n)]), 200);
      const failedIds = (await capturedIds(running.listener, CASES.length + 2)).slice(CASES.length);
      await handler.waitFor(before + 2);
      for (const id of failedIds) await running.listener.waitForRecord((r) => r.type === 'attempt' && r.eventId === id && r.status === 500, `failed forward of ${id}`);
      // (the other events' last replays answered 2xx or were mixed above: make them succeed first)
      handler.respond((_req, res) => void res.end('ok'));
      await cli(['replay', ...ids]);
      const replayedBefore = handler.requests.length;
      // When the failed ones are replayed against a healthy handler
      const result = await cli(['replay', '--failed', '--json']);
      // Then exactly those two went out, in arrival order
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(
        jsonLines(result.stdout).map((r) => r.eventId),
        failedIds,
      );
      assert.deepEqual(
        handler.requests.slice(replayedBefore).map((r) => r.headers['x-fail']),
        ['1', '2'],
      );
      // And afterwards nothing is failed any more
      const again = await cli(['replay', '--failed']);
      assert.equal(again.code, 0);
      assert.match(again.stderr, /No failed events/);
    } finally {
      handler.respond((_req, res) => void res.end('ok'));
    }
  });

  test('--last n replays the newest n events', async () => {
    const before = handler.requests.length;
    const result = await cli(['replay', '--last', '2', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const all = await capturedIds(running.listener, CASES.length + 2);
    assert.deepEqual(
      jsonLines(result.stdout).map((r) => r.eventId),
      all.slice(-2),
    );
    assert.equal(handler.requests.length, before + 2);
  });

  test('bad requests are refused before anything is sent', async () => {
    const before = handler.requests.length;
    for (const args of [['replay'], ['replay', ids[0]!, '--last'], ['replay', '--header', 'nocolon'], ['replay', '--last', '--set', 'x'], ['replay', '--last', '--to', 'ftp://x']]) {
      const result = await cli(args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    }
    const unknown = await cli(['replay', 'zzzzzzzz']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no event with id zzzzzzzz/);
    assert.equal(handler.requests.length, before);
  });
});

test("without a listener, replay goes to the last run's --forward-to; with none known, a clear error", async () => {
  const handler = await startRecordingHandler();
  const home = await tempDir();
  try {
    // Given a listener that captured one event and stopped
    const first = await startListener(home.path, ['--forward-to', handler.url]);
    assert.equal(await post(first.captureUrl, Buffer.from('{"a":1}')), 200);
    const [id] = await capturedIds(first.listener, 1);
    await handler.waitFor(1);
    assert.equal(await first.listener.stop(), 0);
    // When it is replayed
    const result = await runCliInProcess(['replay', id!], { env: first.env });
    // Then the last run's target got it
    assert.equal(result.code, 0, result.stderr);
    assert.ok((await handler.waitFor(2))[1]!.body.equals(Buffer.from('{"a":1}')));
    // Given a later run without --forward-to
    const second = await startListener(home.path, []);
    await second.listener.stop();
    // Then replay without --to says what to do
    const none = await runCliInProcess(['replay', id!], { env: first.env });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /cannot replay: no target is known.*--to <url>/);
  } finally {
    await handler.close();
    await home.cleanup();
  }
});
