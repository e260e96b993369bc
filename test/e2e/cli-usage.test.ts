import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { BIN, runCli } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { tempDir, waitUntil } from '../helpers/temp.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

test('a mistyped command is an unknown command with a suggestion, exit 2, also after help', async () => {
  // When the user mistypes listen
  // (the first through the real bin, the others in-process)
  for (const args of [['lsiten'], ['help', 'lsiten'], ['lsiten', '--forward-to', 'http://localhost:3000/hook']]) {
    const result = await (args.length === 1 ? runCli : runCliInProcess)(args);
    // Then it says so, never "too many arguments", and exits 2
    assert.equal(result.code, 2, args.join(' '));
    assert.equal(result.stderr, "mftg-hooks: unknown command 'lsiten' (did you mean listen?) (run 'mftg-hooks --help')\n");
    assert.equal(result.stdout.length, 0);
  }
  // And below `events` the suggestion comes from its own commands
  const sub = await runCliInProcess(['events', 'lsit']);
  assert.equal(sub.code, 2);
  assert.equal(sub.stderr, "mftg-hooks: unknown command 'lsit' (did you mean list?) (run 'mftg-hooks events --help')\n");
  const far = await runCliInProcess(['frobnicate']);
  assert.equal(far.code, 2);
  assert.equal(far.stderr, "mftg-hooks: unknown command 'frobnicate' (run 'mftg-hooks --help')\n");
});

test('listen stays the default command: flags alone start it', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  // When only listen's flags are given
  const child = spawn(process.execPath, [BIN, '--no-tunnel', '--json', '--port', '0', '--forward-to', 'http://127.0.0.1:9/hook'], { env: { ...process.env, MFTG_HOOKS_HOME: dir.path } });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  // Then listen starts
  await waitUntil(() => out.includes('"type":"ready"'), 'the ready record');
  assert.equal((JSON.parse(out.split('\n')[0]!) as { forwardTo: string }).forwardTo, 'http://127.0.0.1:9/hook');
  child.kill('SIGTERM');
  assert.equal(await new Promise((resolve) => child.on('close', resolve)), 0);
});

test('every --help ends with examples; the top one names the default command and the quick start', async () => {
  const commands = [[], ['listen'], ['events'], ['events', 'list'], ['events', 'show'], ['events', 'export'], ['events', 'clear'], ['replay'], ['trigger'], ['help']];
  for (const command of commands) {
    // When a command's help is asked for, as a flag and through `help`
    for (const args of [
      [...command, '--help'],
      ['help', ...command],
    ]) {
      const result = await runCliInProcess(args);
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
      const help = result.stdout.toString();
      // Then its last lines are examples of that command
      const lines = help.trimEnd().split('\n');
      const examplesAt = lines.lastIndexOf('Examples:');
      assert.ok(examplesAt > 0, `${args.join(' ')} has examples`);
      for (const line of lines.slice(examplesAt + 1)) assert.match(line, new RegExp(`^  \\$ mftg-hooks ${command.slice(0, 1).join(' ')}`), args.join(' '));
    }
  }
  // And the top help, from the real bin
  const top = (await runCli(['--help'])).stdout.toString();
  assert.match(top, /`listen` is the default command/);
  assert.ok(top.includes('  npx mftg-hooks listen --forward-to http://localhost:3000/webhooks/mftg\n'), top);
});

test("usage errors are one line that ends with the failing command's own help", async () => {
  const cases: Array<[string[], string]> = [
    [['events', 'list', '--limit', '0'], 'mftg-hooks events list'],
    [['--port', 'eighty'], 'mftg-hooks listen'],
    [['listen', '--frobnicate'], 'mftg-hooks listen'],
    [['trigger', 'nonsense'], 'mftg-hooks trigger'],
    [['events', 'export'], 'mftg-hooks events export'],
    [['replay', '--last', 'x'], 'mftg-hooks replay'],
  ];
  const dir = await tempDir();
  try {
    for (const [args, command] of cases) {
      const result = await runCliInProcess(args, { env: { MFTG_HOOKS_HOME: dir.path } });
      assert.equal(result.code, 2, args.join(' '));
      assert.equal(result.stderr.split('\n').length, 2, `one line: ${result.stderr}`);
      assert.ok(result.stderr.startsWith('mftg-hooks: '), result.stderr);
      assert.ok(result.stderr.endsWith(`run '${command} --help')\n`), result.stderr);
      assert.doesNotMatch(result.stderr, /run with --help for usage/);
    }
  } finally {
    await dir.cleanup();
  }
});

test("--version is the tool's own, from any directory and whatever npm says", async () => {
  const dir = await tempDir();
  try {
    // Given another project's npm variables and working directory
    const result = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, [BIN, '--version'], { cwd: dir.path, env: { ...process.env, npm_package_version: '9.9.9', npm_package_name: 'someone-else' } });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.on('close', (code) => resolve({ code, out }));
    });
    // Then it prints the version of mftg-hooks' own package.json
    assert.equal(result.code, 0);
    assert.equal(result.out, `${VERSION}\n`);
    assert.notEqual(VERSION, '9.9.9');
  } finally {
    await dir.cleanup();
  }
});
