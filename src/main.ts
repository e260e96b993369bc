import { CommanderError } from 'commander';
import { brokenPipeHandler } from './broken-pipe.js';
import { buildProgram, dropFalseBooleanEnv, helpHint, type Actions, type RunState } from './cli.js';
import { MftgHooksError } from './core/errors.js';
import { isTrueish } from './parse.js';

/** Loaded on demand so `--help` never pays for the listener, the store or Ink. */
const actions: Actions = {
  listen: async (options) => (await import('./commands/listen.js')).listen(options),
  eventsList: async (options) => (await import('./commands/events.js')).eventsList(options),
  eventsShow: async (options, args) => (await import('./commands/events.js')).eventsShow(options, args),
  eventsClear: async (options) => (await import('./commands/events.js')).eventsClear(options),
  eventsExport: async (options, args) => (await import('./commands/export.js')).eventsExport(options, args),
  replay: async (options, args) => (await import('./commands/replay.js')).replayCommand(options, args),
  trigger: async (options, args) => (await import('./commands/trigger.js')).triggerCommand(options, args),
  reconcile: async (options) => (await import('./commands/reconcile.js')).reconcileCommand(options),
  eventsAttachments: async (options, args) => (await import('./commands/attachments.js')).eventsAttachments(options, args),
  inspect: async (options) => (await import('./commands/inspect.js')).inspectCommand(options),
};

/**
 * Only a true-ish `CI` means a CI run. chalk (through supports-color) and Ink treat any `CI`
 * variable as one, `CI=false` included, and turn colours (and Ink's drawing) off; so a `CI` that is
 * not true-ish is dropped before either is loaded.
 */
export function normalizeCiEnv(env: NodeJS.ProcessEnv = process.env): void {
  if (env.CI !== undefined && !isTrueish(env.CI)) delete env.CI;
}

/**
 * argv → exit code. The only place that decides it: 0 ok, 1 failure, 2 usage. Everything below
 * throws typed errors and never calls process.exit.
 */
export async function main(argv: string[], stderr: NodeJS.WritableStream = process.stderr): Promise<number> {
  // React (loaded with the live UI) picks its build from NODE_ENV. Its development build records a
  // performance-timeline measure for every component render, kept for the life of the process: under
  // a burst of deliveries that is most of the CPU, ever longer GC pauses and a growing heap (acks
  // waiting seconds, keys answered after half a second). This CLI is not the user's app: a
  // NODE_ENV=development exported for their own handler must not select it.
  process.env.NODE_ENV = 'production';
  normalizeCiEnv();
  const result: RunState = { exitCode: 0 };
  const program = buildProgram(actions, result);
  const overrideExit = (command: typeof program): void => {
    command.exitOverride();
    command.commands.forEach(overrideExit);
  };
  overrideExit(program);
  dropFalseBooleanEnv(program);
  // `mftg-hooks events list | head`: a closed pipe ends the command quietly, not with a stack trace.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') return;
    const stop = brokenPipeHandler();
    if (stop) stop();
    else process.exit(process.exitCode ?? 0);
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return result.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return 0;
      return 2;
    }
    if (error instanceof MftgHooksError) {
      // A usage error ends with the command's own help, like those commander reports.
      const help = error.exitCode === 2 && result.command && !error.hint?.includes('--help') ? helpHint(result.command) : null;
      const hint = [error.hint, help].filter(Boolean).join('; ');
      stderr.write(`mftg-hooks: ${error.message}${hint ? ` (${hint})` : ''}\n`);
      return error.exitCode;
    }
    stderr.write(`mftg-hooks: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}
