import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_MAX_BODY_BYTES } from './core/capture-server.js';
import { DEFAULT_RETRIES, DEFAULT_RETRY_BACKOFF_MS } from './core/forwarder.js';
import { DEFAULT_TIMEOUT_MS } from './core/http-send.js';
import { MftgHooksError } from './core/errors.js';
import { parseHeaderArgument, parseSetArgument, type SetInstruction } from './core/json-edit.js';
import { MFTG_EVENT_TYPES } from './core/mftg.js';
import { MAX_SAMPLE_ATTACHMENTS } from './core/mftg-samples.js';
import { DEFAULT_KEEP_EVENTS } from './core/store/store.js';
import { parseReconcileInterval, parseSince, parseTypes } from './core/reconcile/flags.js';
import { parseInspectAddress, type InspectAddress } from './web/address.js';
import { DEFAULT_EXPORT_FORMAT, exportFormatList, exportFormatNamed } from './output/export/index.js';
import { parseBind, parseEventTypeFilter, parseHttpUrl, parseNonNegativeInt, parsePort, parsePositiveInt, parseRoute, parseToken } from './parse.js';

/** Every flag's environment twin: MFTG_HOOKS_<FLAG_IN_UPPER_SNAKE> (flag > env > default). */
export function envName(flag: string): string {
  return 'MFTG_HOOKS_' + flag.replace(/^--/, '').replace(/-/g, '_').toUpperCase();
}

const FALSE_WORDS = new Set(['', '0', 'false', 'no', 'off']);

/**
 * Commander turns a boolean flag on whenever its variable is set, even to `0`; users mean "off" by
 * `MFTG_HOOKS_JSON=0`. Such variables are dropped before parsing.
 */
export function dropFalseBooleanEnv(program: Command, env: NodeJS.ProcessEnv = process.env): void {
  const visit = (command: Command): void => {
    for (const opt of command.options) {
      if (opt.envVar && opt.isBoolean() && env[opt.envVar] !== undefined && FALSE_WORDS.has(env[opt.envVar]!.trim().toLowerCase())) delete env[opt.envVar];
    }
    command.commands.forEach(visit);
  };
  visit(program);
}

/**
 * A configuration flag (what describes the setup of `listen`, and `--store`):
 * it has an environment twin.
 */
function option(flags: string, description: string): Option {
  const long = flags.split(/[ ,]+/).find((part) => part.startsWith('--'))!;
  return new Option(flags, description).env(envName(long));
}

/**
 * A one-off switch or confirmation (`--yes`, `--json`, `--failed`, `--to`, …): no environment twin,
 * so an exported variable never deletes data without asking or changes what another command does.
 */
function flag(flags: string, description: string): Option {
  return new Option(flags, description);
}

/**
 * The tool's own version, from the package.json beside dist/ (not `npm_package_version`: that is
 * the version of whatever project npm was started in).
 */
export function toolVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Edit distance (insertions, deletions, substitutions, adjacent swaps) for "did you mean". */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest of `names` when `word` looks like a typo of it (or is a prefix of it); else null. */
export function closest(word: string, names: readonly string[]): string | null {
  const lower = word.toLowerCase();
  let best: { name: string; score: number } | null = null;
  for (const name of names) {
    const score = lower.length > 0 && name.startsWith(lower) ? 0 : distance(lower, name);
    if (score <= Math.max(1, Math.floor(name.length * 0.4)) && (!best || score < best.score)) best = { name, score };
  }
  return best?.name ?? null;
}

/** `mftg-hooks events list`: the full name of a command, as typed. */
function fullName(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** The hint every usage error ends with: the failing command's own help. */
export function helpHint(command: Command): string {
  return `run '${fullName(command)} --help'`;
}

/** "unknown command 'lsiten' (did you mean listen?)", exit 2, from the command it was typed after. */
function unknownCommand(parent: Command, word: string): MftgHooksError {
  const names = parent.commands.map((c) => c.name()).filter((name) => name !== 'help');
  const suggestion = closest(word, names);
  return new MftgHooksError('E_USAGE', `unknown command '${word}'${suggestion ? ` (did you mean ${suggestion}?)` : ''}`, helpHint(parent));
}

const storeOption = (): Option => option('--store <dir>', 'where events are kept (also MFTG_HOOKS_HOME)');

export type CommandResult = number;

/** What a run leaves for main(): the exit code, and the command that ran (for its help hint). */
export interface RunState {
  exitCode: number;
  command?: Command;
}
export type Action = (options: Record<string, unknown>, args: string[]) => Promise<CommandResult>;

/** What each command does, injected so the program stays a pure description of the flags. */
export interface Actions {
  listen: Action;
  eventsList: Action;
  eventsShow: Action;
  eventsClear: Action;
  eventsExport: Action;
  replay: Action;
  trigger: Action;
  reconcile: Action;
  eventsAttachments: Action;
  inspect: Action;
}

/** Turns a core validation error into commander's "invalid argument" (exit 2, one line). */
function flagParser<T>(parse: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (error) {
      if (error instanceof MftgHooksError) throw new InvalidArgumentError(error.message.replace(/^--\S+ /, '') + (error.hint ? ` (${error.hint})` : ''));
      throw error;
    }
  };
}

const repeatable =
  <T>(parse: (value: string) => T) =>
  (value: string, previous: T[] | undefined): T[] => [...(previous ?? []), flagParser(parse)(value)];

function parseAttachmentCount(value: string): number {
  const n = parseNonNegativeInt(value);
  if (n > MAX_SAMPLE_ATTACHMENTS) throw new InvalidArgumentError(`at most ${MAX_SAMPLE_ATTACHMENTS}.`);
  return n;
}

function parseExportFormat(value: string): string {
  const format = exportFormatNamed(value);
  if (!format) throw new InvalidArgumentError(`expected ${exportFormatList()}.`);
  return format.name;
}

/** `--inspect <[host:]port>`, loopback only; `off` (also in MFTG_HOOKS_INSPECT) turns it off like --no-inspect. */
function parseInspectOption(value: string): InspectAddress | false {
  if (['off', 'false', 'no', 'none'].includes(value.trim().toLowerCase())) return false;
  return parseInspectAddress(value);
}

const inspectOption = (): Option =>
  option('--inspect <[host:]port>', 'the local web inspector, loopback only (default 127.0.0.1:4141, else the next free port up to 4150, else any)').argParser(flagParser(parseInspectOption));

/** `--set`/`--header` options shared by replay and trigger. */
const setOption = (): Option =>
  flag('--set <json.path=value>', 'repeatable: change a JSON field (value parsed as JSON when it parses, else text)').argParser(repeatable<SetInstruction>(parseSetArgument));

/** The lines `--help` ends with: what a user types most. */
const EXAMPLES: Record<string, string[]> = {
  'mftg-hooks': [
    'mftg-hooks listen --forward-to http://localhost:3000/webhooks/mftg   # the quick start',
    'mftg-hooks --forward-to http://localhost:3000/webhooks/mftg          # the same: listen is the default',
    'mftg-hooks trigger failed                                             # a sample MESSAGE.SEND.FAILED',
    'mftg-hooks events list --failed',
    'mftg-hooks replay --last',
  ],
  'mftg-hooks listen': [
    'mftg-hooks listen --forward-to http://localhost:3000/webhooks/mftg',
    'mftg-hooks listen --forward-to http://localhost:3000/webhooks/mftg --timeout 0   # sit at a breakpoint',
    'mftg-hooks listen --no-tunnel --json | jq .',
    'mftg-hooks listen --route MESSAGE.SEND.FAILED=http://localhost:3000/failed --forward-to http://localhost:3000/hook',
  ],
  'mftg-hooks events': ['mftg-hooks events list', 'mftg-hooks events show 01m8hz7f', 'mftg-hooks events export --all > archive.json'],
  'mftg-hooks events list': ['mftg-hooks events list', 'mftg-hooks events list --failed --limit 10', 'mftg-hooks events list --type received', 'mftg-hooks events list --json | jq .messageId'],
  'mftg-hooks events show': ['mftg-hooks events show 01m8hz7f', 'mftg-hooks events show 01m8hz7f --json | jq .attempts', 'mftg-hooks events show 01m8hz7f --body > body.json'],
  'mftg-hooks events export': [
    'mftg-hooks events export 01m8hz7f --format curl --to http://localhost:3000/webhooks/mftg > again.sh',
    'mftg-hooks events export --all > archive.json',
    'mftg-hooks events export --all --format har --mask-token > mftg.har',
  ],
  'mftg-hooks events clear': ['mftg-hooks events clear', 'mftg-hooks events clear --yes --store ./tmp-store'],
  'mftg-hooks replay': [
    'mftg-hooks replay --last',
    'mftg-hooks replay --failed',
    'mftg-hooks replay 01m8hz7f --to http://localhost:4000/hook',
    'mftg-hooks replay --last --set failures=99 --header "x-debug: 1"',
  ],
  'mftg-hooks trigger': [
    'mftg-hooks trigger received',
    'mftg-hooks trigger failed --modern',
    'mftg-hooks trigger sent --set messageSubject="PO 1" --to http://localhost:3000/hook',
    'mftg-hooks trigger --list',
  ],
  'mftg-hooks inspect': ['mftg-hooks inspect', 'mftg-hooks inspect --inspect 5000 --store ./tmp-store'],
  'mftg-hooks help': ['mftg-hooks help listen', 'mftg-hooks help events list'],
};

/**
 * The commander program: flags, help and validation only. Actions receive plain option objects and
 * set `result.exitCode`.
 */
export function buildProgram(actions: Actions, result: RunState): Command {
  const program = new Command('mftg-hooks')
    .description(
      'Capture, inspect, forward and replay MFT Gateway (MFTG) webhooks on your machine.\n\n' +
        '`listen` is the default command. Quick start:\n' +
        '  npx mftg-hooks listen --forward-to http://localhost:3000/webhooks/mftg',
    )
    .version(toolVersion(), '-V, --version')
    .helpCommand(false);

  const run =
    (action: Action) =>
    async (...args: unknown[]): Promise<void> => {
      const command = args[args.length - 1] as Command;
      result.command = command;
      const positional = args
        .slice(0, -2)
        .flat()
        .filter((a): a is string => typeof a === 'string');
      result.exitCode = await action(command.opts(), positional);
    };

  const listen = program
    .command('listen', { isDefault: true })
    .description('capture deliveries, open a public tunnel, forward to your handler, show them live (the default command)')
    // A word where no command was expected is a mistyped command, never "too many arguments".
    .argument('[command]')
    .usage('[options]')
    .addOption(option('-p, --port <n>', "local capture port; 0 picks a free one (default: the last run's port if it is free, else a free one)").argParser(parsePort))
    .addOption(option('--bind <addr>', 'address the capture server binds').argParser(parseBind).default('127.0.0.1'))
    .addOption(option('-f, --forward-to <url>', 'your handler (http or https)').argParser(parseHttpUrl))
    .addOption(new Option('--route <TYPE=url>', 'repeatable: events whose eventType is TYPE go to url instead (env MFTG_HOOKS_ROUTE: comma-separated)').argParser(parseRoute))
    .addOption(option('--timeout <ms>', 'forward timeout; 0 waits forever (breakpoint debugging)').argParser(parseNonNegativeInt).default(DEFAULT_TIMEOUT_MS))
    .addOption(option('--retry <n>', 'automatic retries of a failed forward, with backoff').argParser(parseNonNegativeInt).default(DEFAULT_RETRIES))
    .addOption(option('--retry-backoff <ms>', 'first retry delay, doubled for each further retry').argParser(parsePositiveInt).default(DEFAULT_RETRY_BACKOFF_MS))
    .addOption(option('--insecure', 'accept self-signed certificates from an https handler'))
    .addOption(option('--no-tunnel', 'capture on localhost only'))
    .addOption(option('--tunnel-host <url>', 'localtunnel server (self-hosted or public)').argParser(parseHttpUrl).default('https://localtunnel.me'))
    .addOption(option('--subdomain <name>', 'ask the tunnel server for this name (default: the one remembered from the last run)'))
    .addOption(option('--token <t>', 'the secret path segment of the capture URL (default: generated once, remembered)').argParser(parseToken))
    .addOption(option('--no-token', 'accept deliveries on every path (no secret path segment)'))
    .addOption(option('--max-body <bytes>', 'largest accepted request body').argParser(parsePositiveInt).default(DEFAULT_MAX_BODY_BYTES))
    .addOption(option('--keep <n>', 'newest events kept in the store').argParser(parsePositiveInt).default(DEFAULT_KEEP_EVENTS))
    .addOption(storeOption())
    .addOption(inspectOption())
    .addOption(new Option('--no-inspect', 'no web inspector (MFTG_HOOKS_INSPECT=off too)'))
    .addOption(
      option(
        '--reconcile [interval]',
        'catch up through the MFTG API at start, after tunnel outages and every interval, e.g. 30s, 10m, 1h (default: on every 10m when MFTG_API_USERNAME + MFTG_API_PASSWORD or MFTG_API_TOKEN are set)',
      ).argParser(flagParser(parseReconcileInterval)),
    )
    .addOption(new Option('--no-reconcile', 'never reconcile (MFTG_HOOKS_RECONCILE=off too)'))
    .addOption(flag('--json', 'newline-delimited JSON records on stdout, no UI'))
    .addOption(flag('--no-ui', 'plain log lines instead of the live UI'))
    .action(async (word: string | undefined, options: unknown, command: Command) => {
      if (word !== undefined) throw unknownCommand(program, word);
      await run(actions.listen)(options, command);
    });
  void listen;

  const events = program
    .command('events')
    .description('inspect and manage captured events')
    .argument('[command]')
    .usage('<command> [options]')
    .action((word: string | undefined) => {
      if (word !== undefined) throw unknownCommand(events, word);
      throw new MftgHooksError('E_USAGE', 'which events command? list, show, export or clear', helpHint(events));
    });
  events
    .command('list')
    .description('the newest events, oldest of them first, fitted to the terminal width')
    .addOption(flag('--limit <n>', 'how many events').argParser(parsePositiveInt).default(50))
    .addOption(flag('--type <eventType>', 'only this eventType: received, sent, failed, the full name, or any unique part of it (any case)').argParser(parseEventTypeFilter))
    .addOption(flag('--failed', 'only events whose last forward failed'))
    .addOption(flag('--json', 'one event record per line'))
    .addOption(storeOption())
    .action(run(actions.eventsList));
  events
    .command('show')
    .description('one event in full: headers, body, every attempt')
    .argument('<id>', 'event id or unique prefix')
    .addOption(flag('--json', 'the event record with headers and attempts').conflicts('body'))
    .addOption(flag('--body', 'the raw captured body bytes to stdout (escaped on a terminal: redirect it for the exact bytes)'))
    .addOption(storeOption())
    .action(run(actions.eventsShow));
  events.command('clear').description('delete every stored event').addOption(flag('--yes', 'do not ask for confirmation')).addOption(storeOption()).action(run(actions.eventsClear));
  events
    .command('export')
    .description('export events as JSON (archive), curl commands or HAR 1.2')
    .argument('[ids...]', 'event ids or unique prefixes')
    .addOption(flag('--all', 'every stored event'))
    .addOption(flag('--format <format>', exportFormatList()).argParser(parseExportFormat).default(DEFAULT_EXPORT_FORMAT))
    .addOption(flag('--to <url>', 'show the requests as sent to this handler URL instead of the capture URL they came in on').argParser(parseHttpUrl))
    .addOption(flag('--mask-token', 'replace the secret capture token with MASKED-TOKEN'))
    .addOption(storeOption())
    .action(run(actions.eventsExport));

  program
    .command('replay')
    .description('send stored events again, unchanged unless --set, --header or --edit say otherwise')
    .argument('[ids...]', 'event ids or unique prefixes')
    .addOption(flag('--last [n]', 'the newest n events (default 1)').argParser(parsePositiveInt))
    .addOption(flag('--failed', 'events whose last forward failed (with --last n: the newest n of them)'))
    .addOption(flag('--to <url>', "send here (default: the running listener's target, else the last run's --forward-to)").argParser(parseHttpUrl))
    .addOption(setOption())
    .addOption(flag('--header <name:value>', 'repeatable: replace (or add) a header; an empty value removes it').argParser(repeatable(parseHeaderArgument)))
    .addOption(flag('--edit', 'edit each body in $VISUAL / $EDITOR before sending; an empty file aborts'))
    .addOption(flag('--timeout <ms>', 'how long to wait for the handler; 0 waits forever').argParser(parseNonNegativeInt).default(DEFAULT_TIMEOUT_MS))
    .addOption(flag('--insecure', 'accept self-signed certificates from an https handler'))
    .addOption(flag('--json', 'one attempt record per line'))
    .addOption(storeOption())
    .action(run(actions.replay));

  program
    .command('trigger')
    .description('send a realistic MFTG sample event through the running listener (or --to a URL)')
    .argument('[eventType]', `${MFTG_EVENT_TYPES.join(', ')} (or received, sent, failed, or any unique part, any case)`)
    .addOption(flag('--list', 'describe the event types'))
    .addOption(flag('--to <url>', "send straight to this URL instead of the listener's capture URL").argParser(parseHttpUrl))
    .addOption(setOption())
    .addOption(flag('--legacy', 'only the pre-3.1.1 field names (messageAS2ID, partnerAS2ID, stationAS2ID)').conflicts('modern'))
    .addOption(flag('--modern', 'only the new field names (messageIdentifier, partnerIdentifier, stationIdentifier)'))
    .addOption(flag('--attachments <n>', `number of attachment keys (0–${MAX_SAMPLE_ATTACHMENTS})`).argParser(parseAttachmentCount).default(1))
    .addOption(flag('--print', 'print the payload instead of sending it'))
    .addOption(flag('--timeout <ms>', 'how long to wait for an answer; 0 waits forever').argParser(parseNonNegativeInt).default(DEFAULT_TIMEOUT_MS))
    .addOption(flag('--insecure', 'accept self-signed certificates from an https URL'))
    .addOption(flag('--json', 'one trigger record on stdout'))
    .addOption(storeOption())
    .action(run(actions.trigger));

  // Switches of reconcile and attachments have no environment twin: they are one-off choices, not setup.
  program
    .command('reconcile')
    .description('find through the MFTG API the deliveries that never reached this store, and ingest them (credentials: MFTG_API_USERNAME + MFTG_API_PASSWORD, or MFTG_API_TOKEN)')
    .addOption(new Option('--since <30m|2h|1d|ISO-8601>', 'oldest message to look at (default: the oldest stored event, at most 24 h back)').argParser(flagParser((value) => parseSince(value))))
    .addOption(new Option('--station <AS2 id>', 'repeatable: only this station').argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]))
    .addOption(new Option('--types <list>', 'comma-separated: received, sent, failed').argParser(flagParser(parseTypes)).default(['received', 'failed'], 'received,failed'))
    .addOption(new Option('--dry-run', 'list what would be recovered; change nothing, send nothing'))
    .addOption(new Option('--json', 'the reconcile record on stdout (last line)'))
    .addOption(storeOption())
    .addHelpText(
      'after',
      '\nExamples:\n  MFTG_API_USERNAME=api@acme.example MFTG_API_PASSWORD=… mftg-hooks reconcile\n  mftg-hooks reconcile --since 2h --types received,sent,failed --dry-run\n  mftg-hooks reconcile --station ACME-AS2 --json',
    )
    .action(run(actions.reconcile));
  events
    .command('attachments')
    .description("the files of an event's message, through the MFTG API")
    .argument('<id>', 'event id or unique prefix')
    .addOption(new Option('--save <dir>', 'download them byte for byte into dir (never overwriting a file)'))
    .addOption(new Option('--json', 'one attachments record on stdout'))
    .addOption(storeOption())
    .addHelpText('after', '\nExamples:\n  mftg-hooks events attachments 01hq3\n  mftg-hooks events attachments 01hq3 --save ./files')
    .action(run(actions.eventsAttachments));
  program
    .command('inspect')
    .description('serve the web inspector on the store alone, without a listener (history, replays)')
    .addOption(inspectOption())
    .addOption(flag('--timeout <ms>', 'how long a replay waits for the handler; 0 waits forever').argParser(parseNonNegativeInt).default(DEFAULT_TIMEOUT_MS))
    .addOption(flag('--insecure', 'accept self-signed certificates from an https handler'))
    .addOption(storeOption())
    .action(run(actions.inspect));

  // `help <command>` shows that command's help; an unknown one is a mistyped command (exit 2).
  program
    .command('help')
    .description('show the help of a command')
    .argument('[command...]', 'e.g. listen, or events list')
    .action((words: string[]) => {
      let target: Command = program;
      for (const word of words) {
        const next = target.commands.find((c) => c.name() === word);
        if (!next) throw unknownCommand(target, word);
        target = next;
      }
      target.outputHelp();
      result.exitCode = 0;
    });

  configureEveryCommand(program);
  return program;
}

/**
 * Gives every command its examples (at the end of its help) and its error format: one line,
 * `mftg-hooks: <what is wrong> (run 'mftg-hooks events list --help')`.
 */
function configureEveryCommand(command: Command): void {
  const name = fullName(command);
  const examples = EXAMPLES[name];
  if (examples) command.addHelpText('after', `\nExamples:\n${examples.map((line) => `  $ ${line}`).join('\n')}\n`);
  command.showHelpAfterError(false).configureOutput({
    outputError: (text, write) => {
      const message = text
        .trim()
        .replace(/^error: /, '')
        .replace(/\s*\n\(Did you mean (.+)\?\)$/, ' (did you mean $1?)');
      write(`mftg-hooks: ${message} (${helpHint(command)})\n`);
    },
  });
  command.commands.forEach(configureEveryCommand);
}
