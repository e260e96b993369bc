import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Command, Option } from 'commander';
import { buildProgram, envName, type Action, type Actions } from '../../src/cli.js';

/** one-off switches and confirmations have no environment twin. */
const ONE_OFF = ['yes', 'json', 'failed', 'last', 'to', 'set', 'header', 'edit', 'limit', 'type', 'format', 'all', 'dry-run', 'body', 'list', 'print', 'mask-token', 'legacy', 'modern', 'attachments'];
/** Configuration of listen (and --store everywhere): these keep their twin. */
const CONFIGURATION = [
  'port',
  'bind',
  'forward-to',
  'timeout',
  'retry',
  'retry-backoff',
  'insecure',
  'tunnel',
  'tunnel-host',
  'subdomain',
  'token',
  'max-body',
  'keep',
  'store',
  'inspect',
  'reconcile',
];

function programWith(seen: Array<{ command: string; options: Record<string, unknown> }>): Command {
  const record =
    (command: string): Action =>
    async (options) => {
      seen.push({ command, options });
      return 0;
    };
  const actions: Actions = {
    listen: record('listen'),
    eventsList: record('events list'),
    eventsShow: record('events show'),
    eventsClear: record('events clear'),
    eventsExport: record('events export'),
    replay: record('replay'),
    trigger: record('trigger'),
    reconcile: record('reconcile'),
    eventsAttachments: record('events attachments'),
    inspect: record('inspect'),
  };
  const program = buildProgram(actions, { exitCode: 0 });
  const quiet = (command: Command): void => {
    command.exitOverride().configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
    command.commands.forEach(quiet);
  };
  quiet(program);
  return program;
}

function everyOption(command: Command, path = ''): Array<{ path: string; option: Option }> {
  const name = path ? `${path} ${command.name()}` : '';
  return [...command.options.map((option) => ({ path: name, option })), ...command.commands.flatMap((sub) => everyOption(sub, name || ' ').map((entry) => ({ ...entry, path: entry.path.trim() })))];
}

test('one-off switches and confirmations have no environment twin; configuration flags keep theirs', () => {
  const options = everyOption(programWith([]));
  for (const { path, option } of options) {
    const long = option.long!.replace(/^--(no-)?/, '');
    if (ONE_OFF.includes(long)) assert.equal(option.envVar, undefined, `${path} ${option.long} must not read ${envName(option.long!)}`);
    // --no-inspect's twin is MFTG_HOOKS_INSPECT=off: a NO_INSPECT variable would turn it off whatever its value
    else if (CONFIGURATION.includes(long) && path === 'listen' && option.long !== '--no-inspect' && option.long !== '--no-reconcile')
      assert.equal(option.envVar, envName(option.long!), `${path} ${option.long}`);
  }
  // Options of other commands never read listen's configuration twins (MFTG_HOOKS_TIMEOUT, …), except
  // --store, and --inspect for `inspect` (the same page on the same port)
  for (const { path, option } of options) {
    if (path !== 'listen' && option.long !== '--store' && !(path === 'inspect' && option.long === '--inspect')) assert.equal(option.envVar, undefined, `${path} ${option.long}`);
  }
});

test('an exported one-off variable changes nothing: each command sees its defaults', async () => {
  const env: Record<string, string> = {};
  for (const name of ONE_OFF)
    env[envName(`--${name}`)] =
      name === 'format' ? 'curl' : name === 'limit' || name === 'last' || name === 'attachments' ? '3' : name === 'to' ? 'http://127.0.0.1:9/x' : name === 'type' ? 'failed' : '1';
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const seen: Array<{ command: string; options: Record<string, unknown> }> = [];
    const program = programWith(seen);
    // When every command runs with all those variables exported
    for (const argv of [
      ['events', 'clear'],
      ['events', 'list'],
      ['events', 'show', 'x'],
      ['events', 'export', 'x'],
      ['replay', 'x'],
      ['trigger', 'received'],
      ['reconcile'],
      ['events', 'attachments', 'x'],
      ['listen'],
    ])
      await program.parseAsync(argv, { from: 'user' });
    // Then none of them is set
    for (const { command, options } of seen) {
      for (const [key, value] of Object.entries(options)) {
        const flag = key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
        if (!ONE_OFF.includes(flag)) continue;
        const defaults: Record<string, unknown> = { limit: 50, format: 'json', attachments: 1 };
        assert.deepEqual(value, defaults[flag], `${command} --${flag} came from ${envName(`--${flag}`)}`);
      }
    }
    assert.deepEqual(
      seen.map((s) => s.command),
      ['events clear', 'events list', 'events show', 'events export', 'replay', 'trigger', 'reconcile', 'events attachments', 'listen'],
    );
  } finally {
    for (const name of Object.keys(env)) delete process.env[name];
    Object.assign(process.env, saved);
  }
});
