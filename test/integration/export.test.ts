import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { MASKED_TOKEN } from '../../src/core/export.js';
import { bodyOf, type JsonExport } from '../../src/output/export/json.js';
import { buildSample } from '../../src/core/mftg-samples.js';
import { runCli } from '../helpers/cli.js';
import { capturedIds, curlCommands, harProblems, headerPairs, post, runShell, startListener, type RunningListener } from '../helpers/deliveries.js';
import { startRecordingHandler, type RecordedRequest, type RecordingHandler } from '../helpers/recording-handler.js';
import { tempDir } from '../helpers/temp.js';

const every = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
const CASES: Array<{ name: string; body: Buffer; headers: string[]; path: string }> = [
  {
    name: 'MFTG JSON',
    body: Buffer.from(JSON.stringify(buildSample('MESSAGE.RECEIVED.SUCCESS', { attachments: 2 }))),
    headers: ['Content-Type', 'application/json', 'User-Agent', 'Apache-HttpClient/4.5.13 (Java/11)'],
    path: '/inbound/as2?station=ACME',
  },
  { name: 'binary, every byte value', body: every, headers: ['Content-Type', 'application/octet-stream'], path: '/' },
  { name: 'empty', body: Buffer.alloc(0), headers: [], path: '/' },
  {
    name: 'text with CRLF, quotes and %',
    body: Buffer.from('line 1\r\nit\'s 100% "fine"\r\n'),
    headers: ['Content-Type', 'text/plain', 'X-Dup', 'a', 'x-dup', 'b', 'X-Latin', 'caf\u00e9'],
    path: '/?q=%20x',
  },
  { name: '256 KiB random', body: randomBytes(256 * 1024), headers: ['Content-Type', 'application/pdf'], path: '/files' },
];
const caseOf = (req: RecordedRequest): number => Number(req.headers['x-case']);
const comparable = (req: RecordedRequest): unknown => ({ method: req.method, url: req.url, headers: headerPairs(req, ['host', 'connection']), body: req.body.toString('base64') });

describe('events export', () => {
  let handler: RecordingHandler;
  let home: { path: string; cleanup: () => Promise<void> };
  let running: RunningListener;
  let ids: string[];
  let first: RecordedRequest[];
  let token: string;
  const cli = (args: string[]): ReturnType<typeof runCli> => runCli(args, { env: running.env });

  before(async () => {
    handler = await startRecordingHandler();
    home = await tempDir();
    running = await startListener(home.path, ['--forward-to', handler.url]);
    token = new URL(running.captureUrl).pathname.slice(1);
    // Given events of every kind, captured and forwarded once
    for (const [i, c] of CASES.entries()) assert.equal(await post(running.captureUrl + (c.path === '/' ? '' : c.path), c.body, ['X-Case', String(i), ...c.headers]), 200);
    ids = await capturedIds(running.listener, CASES.length);
    first = [...(await handler.waitFor(CASES.length))].sort((a, b) => caseOf(a) - caseOf(b));
  });
  after(async () => {
    await running.listener.stop();
    await handler.close();
    await home.cleanup();
  });

  test('curl commands run with curl reproduce the request the handler got, byte for byte', async () => {
    // When the events are exported as curl commands aimed at the handler
    const exported = await cli(['events', 'export', ...ids, '--format', 'curl', '--to', handler.url]);
    assert.equal(exported.code, 0, exported.stderr);
    const commands = curlCommands(exported.stdout.toString());
    assert.deepEqual(
      commands.map((c) => c.id),
      ids,
    );
    // And each runs in a shell
    for (const [i, { command }] of commands.entries()) {
      const before = handler.requests.length;
      const run = await runShell(`${command} >/dev/null`);
      assert.equal(run.code, 0, `${CASES[i]!.name}: ${run.stderr}`);
      // Then the handler got what the first delivery brought: method, path, query, headers, bytes
      const again = (await handler.waitFor(before + 1))[before]!;
      assert.deepEqual(comparable(again), comparable(first[i]!), CASES[i]!.name);
    }
  });

  test('without --to, a curl command sends to the capture URL: captured again and forwarded the same way', async () => {
    const exported = await cli(['events', 'export', ids[0]!, '--format', 'curl']);
    const command = curlCommands(exported.stdout.toString())[0]!.command;
    assert.ok(command.includes(running.captureUrl), 'aimed at the capture URL, token included');
    const before = handler.requests.length;
    assert.equal((await runShell(command)).code, 0);
    const forwarded = (await handler.waitFor(before + 1))[before]!;
    assert.deepEqual(comparable(forwarded), comparable(first[0]!));
    // And --mask-token keeps the secret out of the output
    const masked = await cli(['events', 'export', '--all', '--format', 'curl', '--mask-token']);
    assert.ok(!masked.stdout.toString().includes(token));
    assert.ok(masked.stdout.toString().includes(`/${MASKED_TOKEN}/inbound/as2?station=ACME`));
  });

  test("HAR export is valid HAR 1.2 with every request and the handler's answer", async () => {
    const exported = await cli(['events', 'export', '--all', '--format', 'har']);
    assert.equal(exported.code, 0, exported.stderr);
    const har = JSON.parse(exported.stdout.toString()) as {
      log: {
        entries: Array<{
          request: { url: string; method: string; postData?: { text: string; _encoding?: string } };
          response: { status: number; content: { text?: string } };
          _mftgHooks: { eventId: string };
        }>;
      };
    };
    assert.deepEqual(harProblems(har), []);
    const entries = har.log.entries.filter((e) => ids.includes(e._mftgHooks.eventId));
    assert.equal(entries.length, CASES.length);
    for (const [i, entry] of entries.entries()) {
      const c = CASES[i]!;
      assert.equal(entry.request.url, running.captureUrl + (c.path === '/' ? '' : c.path.startsWith('/?') ? c.path.slice(1) : c.path));
      const body = entry.request.postData ? Buffer.from(entry.request.postData.text, entry.request.postData._encoding === 'base64' ? 'base64' : 'utf8') : Buffer.alloc(0);
      assert.ok(body.equals(c.body), `${c.name}: postData restores the body`);
      assert.equal(entry.response.status, 200);
    }
    assert.equal(entries[0]!.response.content.text, 'ok', "the handler's response body");
    // And a masked export of one event is valid too
    const masked = await cli(['events', 'export', ids[2]!, '--format', 'har', '--mask-token']);
    assert.deepEqual(harProblems(JSON.parse(masked.stdout.toString())), []);
    assert.ok(!masked.stdout.toString().includes(token));
  });

  test('JSON export archives every byte and attempt', async () => {
    const exported = await cli(['events', 'export', ...ids.map((id) => id.slice(0, 12)), '--format', 'json']);
    assert.equal(exported.code, 0, exported.stderr);
    const archive = JSON.parse(exported.stdout.toString()) as JsonExport;
    assert.equal(archive.format, 'mftg-hooks-export');
    assert.deepEqual(
      archive.events.map((e) => e.id),
      ids,
    );
    for (const [i, archived] of archive.events.entries()) {
      assert.ok(bodyOf(archived).equals(CASES[i]!.body), CASES[i]!.name);
      assert.equal(archived.body.sha256, createHash('sha256').update(CASES[i]!.body).digest('hex'));
      assert.ok(archived.attempts.length >= 1 && archived.attempts[0]!.kind === 'forward');
      assert.deepEqual(
        archived.headers.filter(([name]) => name === 'X-Case'),
        [['X-Case', String(i)]],
      );
    }
  });

  test('--format defaults to json', async () => {
    // When no format is given
    const plain = await cli(['events', 'export', ids[0]!]);
    // Then it is the JSON archive, the same as --format json but for the export time
    assert.equal(plain.code, 0, plain.stderr);
    const explicit = await cli(['events', 'export', ids[0]!, '--format', 'json']);
    const withoutTime = (text: string): unknown => ({ ...(JSON.parse(text) as Record<string, unknown>), exportedAt: null });
    assert.deepEqual(withoutTime(plain.stdout.toString()), withoutTime(explicit.stdout.toString()));
    assert.equal((JSON.parse(plain.stdout.toString()) as JsonExport).format, 'mftg-hooks-export');
  });

  test('bad requests are usage errors', async () => {
    for (const args of [
      ['events', 'export', '--format', 'json'],
      ['events', 'export', ids[0]!, '--format', 'xml'],
      ['events', 'export', ids[0]!, '--all', '--format', 'json'],
    ]) {
      const result = await cli(args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /run 'mftg-hooks events export --help'\)\n$/, "ends with the command's own help");
    }
    const unknown = await cli(['events', 'export', 'zzzz', '--format', 'json']);
    assert.equal(unknown.code, 1);
  });
});
