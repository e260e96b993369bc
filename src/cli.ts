import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_MAX_BODY_BYTES } from './core/capture-server.js';
import { DEFAULT_RETRIES, DEFAULT_RETRY_BACKOFF_MS } from './core/forwarder.js';
import { MftgHooksError } from './core/errors.js';
import { parseHeaderArgument, parseSetArgument, type SetInstruction } from './core/json-edit.js';
import { MFTG_EVENT_TYPES } from './core/mftg.js';
import { MAX_SAMPLE_ATTACHMENTS } from './core/mftg-samples.js';
import { DEFAULT_KEEP_EVENTS } from './core/store/store.js';
import { parseReconcileInterval, parseSince, parseTypes } from './core/reconcile/settings.js';
import { parseInspectAddress, type InspectAddress } from './web/address.js';
import { parseBind, parseHttpUrl, parseNonNegativeInt, parsePort, parsePositiveInt, parseRoute, parseToken } from './parse.js';

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

function option(flags: string, description: string): Option {
  const long = flags.split(/[ ,]+/).find((part) => part.startsWith('--'))!;
  return new Option(flags, description).env(envName(long));
}

const storeOption = (): Option => option('--store <dir>', 'where events are kept (also MFTG_HOOKS_HOME)');

export type CommandResult = number;
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
  (value: string, previous: T[] | undefined): T[] =>
    [...(previous ?? []), flagParser(parse)(value)];

function parseAttachmentCount(value: string): number {
  const n = parseNonNegativeInt(value);
  if (n > MAX_SAMPLE_ATTACHMENTS) throw new InvalidArgumentError(`at most ${MAX_SAMPLE_ATTACHMENTS}.`);
  return n;
}

function parseExportFormat(value: string): 'json' | 'curl' | 'har' {
  const v = value.trim().toLowerCase();
  if (v !== 'json' && v !== 'curl' && v !== 'har') throw new InvalidArgumentError('expected json, curl or har.');
  return v;
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
  option('--set <json.path=value>', 'repeatable: change a JSON field (value parsed as JSON when it parses, else text)').argParser(repeatable<SetInstruction>(parseSetArgument));

/**
 * The commander program: flags, help and validation only. Actions receive plain option objects and
 * set `result.exitCode`.
 */
export function buildProgram(actions: Actions, result: { exitCode: number }): Command {
  const program = new Command('mftg-hooks')
    .description('Capture, inspect, forward and replay MFT Gateway (MFTG) webhooks on your machine.')
    .version(process.env.npm_package_version ?? '0.1.0', '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (text, write) => write(text) });

  const run =
    (action: Action) =>
    async (...args: unknown[]): Promise<void> => {
      const command = args[args.length - 1] as Command;
      const positional = args.slice(0, -2).flat().filter((a): a is string => typeof a === 'string');
      result.exitCode = await action(command.opts(), positional);
    };

  program
    .command('listen', { isDefault: true })
    .description('capture deliveries, open a public tunnel, forward to your handler, show them live')
    .addOption(option('-p, --port <n>', 'local capture port; 0 picks a free one').argParser(parsePort).default(0))
    .addOption(option('--bind <addr>', 'address the capture server binds').argParser(parseBind).default('127.0.0.1'))
    .addOption(option('-f, --forward-to <url>', 'your handler (http or https)').argParser(parseHttpUrl))
    .addOption(new Option('--route <TYPE=url>', 'repeatable: events whose eventType is TYPE go to url instead (env MFTG_HOOKS_ROUTE: comma-separated)').argParser(parseRoute))
    .addOption(option('--timeout <ms>', 'forward timeout; 0 waits forever (breakpoint debugging)').argParser(parseNonNegativeInt).default(30_000))
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
    .addOption(option('--reconcile [interval]', 'catch up through the MFTG API at start, after tunnel outages and every interval, e.g. 30s, 10m, 1h (default: on every 10m when MFTG_API_USERNAME + MFTG_API_PASSWORD or MFTG_API_TOKEN are set)').argParser(flagParser(parseReconcileInterval)))
    .addOption(new Option('--no-reconcile', 'never reconcile (MFTG_HOOKS_RECONCILE=off too)'))
    .addOption(option('--json', 'newline-delimited JSON records on stdout, no UI'))
    .addOption(option('--no-ui', 'plain log lines instead of the live UI'))
    .action(run(actions.listen));

  const events = program.command('events').description('inspect and manage captured events');
  events
    .command('list')
    .description('the newest events, oldest of them first')
    .addOption(option('--limit <n>', 'how many events').argParser(parsePositiveInt).default(50))
    .addOption(option('--type <eventType>', 'only this eventType'))
    .addOption(option('--failed', 'only events whose last forward failed'))
    .addOption(option('--json', 'one event record per line'))
    .addOption(storeOption())
    .action(run(actions.eventsList));
  events
    .command('show')
    .description('one event in full: headers, body, every attempt')
    .argument('<id>', 'event id or unique prefix')
    .addOption(option('--json', 'the event record with headers and attempts').conflicts('body'))
    .addOption(option('--body', 'the raw captured body bytes to stdout'))
    .addOption(storeOption())
    .action(run(actions.eventsShow));
  events
    .command('clear')
    .description('delete every stored event')
    .addOption(option('--yes', 'do not ask for confirmation'))
    .addOption(storeOption())
    .action(run(actions.eventsClear));
  events
    .command('export')
    .description('export events as JSON (archive), curl commands or HAR 1.2')
    .argument('[ids...]', 'event ids or unique prefixes')
    .addOption(option('--all', 'every stored event'))
    .addOption(option('--format <format>', 'json, curl or har').argParser(parseExportFormat).makeOptionMandatory())
    .addOption(option('--to <url>', 'show the requests as sent to this handler URL instead of the capture URL they came in on').argParser(parseHttpUrl))
    .addOption(option('--mask-token', 'replace the secret capture token with MASKED-TOKEN'))
    .addOption(storeOption())
    .action(run(actions.eventsExport));

  program
    .command('replay')
    .description('send stored events again, unchanged unless --set, --header or --edit say otherwise')
    .argument('[ids...]', 'event ids or unique prefixes')
    .addOption(option('--last [n]', 'the newest n events (default 1)').argParser(parsePositiveInt))
    .addOption(option('--failed', 'events whose last forward failed (with --last n: the newest n of them)'))
    .addOption(option('--to <url>', 'send here (default: the running listener\'s target, else the last run\'s --forward-to)').argParser(parseHttpUrl))
    .addOption(setOption())
    .addOption(option('--header <name:value>', 'repeatable: replace (or add) a header; an empty value removes it').argParser(repeatable(parseHeaderArgument)))
    .addOption(option('--edit', 'edit each body in $VISUAL / $EDITOR before sending; an empty file aborts'))
    .addOption(option('--timeout <ms>', 'how long to wait for the handler; 0 waits forever').argParser(parseNonNegativeInt).default(30_000))
    .addOption(option('--insecure', 'accept self-signed certificates from an https handler'))
    .addOption(option('--json', 'one attempt record per line'))
    .addOption(storeOption())
    .action(run(actions.replay));

  program
    .command('trigger')
    .description('send a realistic MFTG sample event through the running listener (or --to a URL)')
    .argument('[eventType]', `${MFTG_EVENT_TYPES.join(', ')} (or received, sent, failed)`)
    .addOption(option('--list', 'describe the event types'))
    .addOption(option('--to <url>', 'send straight to this URL instead of the listener\'s capture URL').argParser(parseHttpUrl))
    .addOption(setOption())
    .addOption(option('--legacy', 'only the pre-3.1.1 field names (messageAS2ID, partnerAS2ID, stationAS2ID)').conflicts('modern'))
    .addOption(option('--modern', 'only the new field names (messageIdentifier, partnerIdentifier, stationIdentifier)'))
    .addOption(option('--attachments <n>', `number of attachment keys (0–${MAX_SAMPLE_ATTACHMENTS})`).argParser(parseAttachmentCount).default(1))
    .addOption(option('--print', 'print the payload instead of sending it'))
    .addOption(option('--timeout <ms>', 'how long to wait for an answer; 0 waits forever').argParser(parseNonNegativeInt).default(30_000))
    .addOption(option('--insecure', 'accept self-signed certificates from an https URL'))
    .addOption(option('--json', 'one trigger record on stdout'))
    .addOption(storeOption())
    .action(run(actions.trigger));

  // Switches of reconcile and attachments have no environment twin (PRODUCT.md section 1).
  program
    .command('reconcile')
    .description('find through the MFTG API the deliveries that never reached this store, and ingest them (credentials: MFTG_API_USERNAME + MFTG_API_PASSWORD, or MFTG_API_TOKEN)')
    .addOption(new Option('--since <30m|2h|1d|ISO-8601>', 'oldest message to look at (default: the oldest stored event, at most 24 h back)').argParser(flagParser((value) => parseSince(value))))
    .addOption(new Option('--station <AS2 id>', 'repeatable: only this station').argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]))
    .addOption(new Option('--types <list>', 'comma-separated: received, sent, failed').argParser(flagParser(parseTypes)).default(['received', 'failed'], 'received,failed'))
    .addOption(new Option('--dry-run', 'list what would be recovered; change nothing, send nothing'))
    .addOption(new Option('--json', 'the reconcile record on stdout (last line)'))
    .addOption(storeOption())
    .addHelpText('after', '\nExamples:\n  MFTG_API_USERNAME=api@acme.example MFTG_API_PASSWORD=… mftg-hooks reconcile\n  mftg-hooks reconcile --since 2h --types received,sent,failed --dry-run\n  mftg-hooks reconcile --station ACME-AS2 --json')
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
    .addOption(option('--timeout <ms>', 'how long a replay waits for the handler; 0 waits forever').argParser(parseNonNegativeInt).default(30_000))
    .addOption(option('--insecure', 'accept self-signed certificates from an https handler'))
    .addOption(storeOption())
    .action(run(actions.inspect));

  return program;
}
