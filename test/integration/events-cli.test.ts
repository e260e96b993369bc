import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { buildSample } from '../../src/core/mftg-samples.js';
import { ptyAvailable } from '../bench/pty.js';
import { BIN, runCli } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { capturedIds, post, startListener, type RunningListener } from '../helpers/deliveries.js';
import { tempDir } from '../helpers/temp.js';

const HOSTILE = '\u001b]52;c;ZWNobyBoaQ==\u0007\u001b[2J\u001b]0;pwned\u0007';
const RECEIVED = 11;

/** Runs the CLI in a pseudo-terminal (util-linux `script`): stdin and stdout are TTYs of `columns`. */
function runInTerminal(args: string[], env: NodeJS.ProcessEnv, input = ''): Promise<{ code: number | null; output: string }> {
  const quote = (arg: string): string => `'${arg.replace(/'/g, `'\\''`)}'`;
  const command = `stty cols 100 rows 30 && exec ${[process.execPath, BIN, ...args].map(quote).join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('latin1')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
    child.stdin.end(input);
  });
}

/** A request written byte for byte on a socket (clients refuse control characters in header values); resolves with the status line. */
function rawPost(url: string, headers: string, body: Buffer): Promise<string> {
  const { hostname, port, pathname } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let answer = '';
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      if (answer.includes('\r\n')) {
        resolve(answer.split('\r\n')[0]!);
        socket.destroy();
      }
    });
    socket.on('error', reject);
    socket.write(Buffer.concat([Buffer.from(`POST ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\n${headers}Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`, 'latin1'), body]));
  });
}

describe('events list, show and clear on a store with 15 events', () => {
  let home: { path: string; cleanup: () => Promise<void> };
  let running: RunningListener;
  let ids: string[];
  let hostileBody: Buffer;
  // Edge cases run the CLI in-process; the exact --body bytes and the terminal cases go through the real bin.
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}): ReturnType<typeof runCli> => runCliInProcess(args, { env: { ...running.env, ...env } });

  before(async () => {
    home = await tempDir();
    running = await startListener(home.path, []);
    // Given 11 received messages, 2 sent ones whose payload names partner and station only, and two
    // deliveries that carry terminal escape sequences (clipboard write, clear screen, title): one in
    // its MFTG fields, one in its raw body and a header
    for (let i = 0; i < RECEIVED; i++) assert.equal(await post(running.captureUrl, Buffer.from(JSON.stringify(buildSample('MESSAGE.RECEIVED.SUCCESS')))), 200);
    for (let i = 0; i < 2; i++)
      assert.equal(
        await post(
          running.captureUrl,
          Buffer.from(JSON.stringify({ messageIdentifier: `<n${i}@mftgateway.com>`, partnerName: 'ZZGLOBEXCORP', stationName: 'ACME-AS2', eventType: 'MESSAGE.SEND.SUCCESS' })),
        ),
        200,
      );
    assert.equal(
      await post(running.captureUrl, Buffer.from(JSON.stringify({ eventType: `EVIL${HOSTILE}`, messageIdentifier: `<x${HOSTILE}>`, partnerIdentifier: HOSTILE, messageSubject: HOSTILE }))),
      200,
    );
    hostileBody = Buffer.from(`plain text${HOSTILE}\u009b2J`);
    assert.equal(await rawPost(`${running.captureUrl}/p`, 'Content-Type: text/plain\r\nX-Evil: a\u009b2Jb\r\n', hostileBody), 'HTTP/1.1 200 OK');
    ids = await capturedIds(running.listener, 15);
  });
  after(async () => {
    await running.listener.stop();
    await home.cleanup();
  });

  test('a filter that matches nothing says so and how many events are stored', async () => {
    for (const [args, words] of [
      [['--failed'], '--failed'],
      [['--type', 'FAILED'], '--type MESSAGE.SEND.FAILED'],
      [['--type', 'failed'], '--type MESSAGE.SEND.FAILED'],
      [['--type', 'send.f', '--failed'], '--type MESSAGE.SEND.FAILED --failed'],
    ] as Array<[string[], string]>) {
      const result = await cli(['events', 'list', ...args]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.toString(), `No events match ${words} (15 events stored; \`mftg-hooks events list\` shows them all).\n`);
    }
    // --json keeps stdout to records (none) and says it on stderr
    const json = await cli(['events', 'list', '--failed', '--json']);
    assert.equal(json.stdout.length, 0);
    assert.match(json.stderr, /No events match --failed \(15 events stored/);
  });

  test('--type takes what trigger takes: short names, any unique part, any case', async () => {
    for (const type of ['received', 'RECEIVED', 'rec', 'message.received.success', 'MESSAGE.RECEIVED.SUCCESS']) {
      const result = await cli(['events', 'list', '--type', type, '--json']);
      assert.equal(result.code, 0, result.stderr);
      const records = result.stdout
        .toString()
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { eventType: string });
      assert.equal(records.length, RECEIVED, type);
      assert.ok(records.every((r) => r.eventType === 'MESSAGE.RECEIVED.SUCCESS'));
    }
    const sent = await cli(['events', 'list', '--type', 'sent', '--json']);
    assert.equal(sent.stdout.toString().trim().split('\n').length, 2);
    const ambiguous = await cli(['events', 'list', '--type', 'send']);
    assert.equal(ambiguous.code, 2);
    assert.match(ambiguous.stderr, /"send" matches MESSAGE\.SEND\.SUCCESS and MESSAGE\.SEND\.FAILED/);
  });

  test('partner → station falls back to the names, in the table and in --json', async () => {
    const json = await cli(['events', 'list', '--type', 'sent', '--json']);
    for (const line of json.stdout.toString().trim().split('\n')) {
      const record = JSON.parse(line) as { partner: string; station: string };
      assert.deepEqual([record.partner, record.station], ['ZZGLOBEXCORP', 'ACME-AS2']);
    }
    const table = await cli(['events', 'list', '--type', 'sent'], { COLUMNS: '200' });
    assert.equal(
      table.stdout
        .toString()
        .split('\n')
        .filter((line) => line.includes('ACME-AS2 → ZZGLOBEXCORP')).length,
      2,
    );
    const show = await cli(['events', 'show', ids[RECEIVED]!]);
    assert.match(show.stdout.toString(), /^partner {4}ZZGLOBEXCORP$/m);
  });

  for (const columns of [80, 120]) {
    test(`events list fits ${columns} columns`, async () => {
      const result = await cli(['events', 'list'], { COLUMNS: String(columns) });
      const lines = result.stdout.toString().trimEnd().split('\n');
      assert.equal(lines.length, 16);
      for (const line of lines) assert.ok(line.length <= columns, `${line.length}: ${line}`);
    });
  }

  test('escape sequences in captured fields reach the terminal escaped; --json and a piped --body stay exact', async () => {
    const [hostile, raw] = [ids[13]!, ids[14]!];
    const list = (await cli(['events', 'list'], { COLUMNS: '300' })).stdout.toString();
    const show = (await cli(['events', 'show', hostile])).stdout.toString();
    const showRaw = (await cli(['events', 'show', raw])).stdout.toString();
    assert.ok(showRaw.includes('plain text\\e]52;c;ZWNobyBoaQ==\\x07'), showRaw);
    assert.doesNotMatch(showRaw, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    for (const text of [list, show]) {
      assert.doesNotMatch(text, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/, 'no control character');
      assert.ok(text.includes('EVIL\\e]52;c;ZWNobyBoaQ==\\x07\\e[2J'), text);
    }
    // A header value cannot carry ESC (HTTP refuses it) but can carry 0x9b, CSI on 8-bit terminals
    assert.ok(showRaw.includes('X-Evil: a\\x9b2Jb'), showRaw);
    const json = JSON.parse((await cli(['events', 'show', hostile, '--json'])).stdout.toString()) as { eventType: string };
    assert.equal(json.eventType, `EVIL${HOSTILE}`);
    // Piped, --body is the exact bytes
    const piped = await runCli(['events', 'show', raw, '--body'], { env: running.env });
    assert.ok(piped.stdout.equals(hostileBody));
    assert.equal(piped.stderr, '');
  });

  test('events show --body on a terminal escapes and says how to get the exact bytes', { skip: !ptyAvailable() && 'needs util-linux script' }, async () => {
    const raw = ids[14]!;
    // When the raw body is asked for on a terminal
    const result = await runInTerminal(['events', 'show', raw, '--body'], running.env);
    // Then no escape sequence gets through, and stderr says how to get the bytes
    assert.equal(result.code, 0);
    assert.doesNotMatch(result.output, /\u001b|\u0007|\u009b/);
    assert.ok(result.output.includes('plain text\\e]52;c;ZWNobyBoaQ==\\x07\\e[2J\\e]0;pwned\\x07\\x9b2J'), result.output);
    assert.ok(result.output.includes(`for the exact bytes, redirect: mftg-hooks events show ${raw} --body > body.bin`));
  });

  test('events clear asks with the number of events; exported one-off variables change nothing', async () => {
    // An exported MFTG_HOOKS_YES does not confirm anything
    const yes = await cli(['events', 'clear'], { MFTG_HOOKS_YES: '1' });
    assert.equal(yes.code, 2);
    // MFTG_HOOKS_JSON and MFTG_HOOKS_FAILED do not change events list
    const list = await cli(['events', 'list'], { MFTG_HOOKS_JSON: '1', MFTG_HOOKS_FAILED: '1', MFTG_HOOKS_LIMIT: '2', MFTG_HOOKS_TYPE: 'sent', COLUMNS: '200' });
    assert.equal(list.stdout.toString().trimEnd().split('\n').length, 16);
    assert.match(list.stdout.toString(), /^ID {2}/);
    if (ptyAvailable()) {
      // On a terminal the question says how many events go; "n" keeps them
      const asked = await runInTerminal(['events', 'clear'], running.env, 'n\n');
      assert.match(asked.output, /Delete all 15 events stored in /);
      assert.equal(asked.code, 1);
    }
    const still = await cli(['events', 'list', '--json']);
    assert.equal(still.stdout.toString().trim().split('\n').length, 15);
  });
});
