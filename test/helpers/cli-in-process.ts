import { AsyncLocalStorage } from 'node:async_hooks';
import { main } from '../../src/main.js';
import type { RunResult } from './cli.js';

/**
 * Runs the CLI's `main(argv)` inside the test process, as `bin/mftg-hooks.js` does, with stdout and
 * stderr captured: the same program, flags, commands and exit code as `runCli`, without starting a
 * Node process for every edge case.
 *
 * What it sees is what a piped subprocess sees: stdout, stderr and stdin are not terminals (no
 * `isTTY`, no `columns`), the environment is the test's plus `NO_COLOR=1` plus `env`, and only writes
 * made on behalf of this run are captured (an AsyncLocalStorage context), so the test runner's own
 * output is untouched. What it cannot prove: that the process exits by itself (no handle left open),
 * anything read from stdin, and the real bin's start-up. Each command keeps one black-box `runCli`
 * run for those. Runs are one at a time: the environment is the process's.
 */
export async function runCliInProcess(args: string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  const run = queue.then(() => runNow(args, options.env ?? {}));
  queue = run.then(
    () => undefined,
    () => undefined,
  );
  return run;
}

interface Capture {
  stdout: Buffer[];
  stderr: Buffer[];
}

const context = new AsyncLocalStorage<Capture>();
let queue: Promise<void> = Promise.resolve();
let installed = false;

type Write = (chunk: unknown, encoding?: unknown, callback?: unknown) => boolean;

/** Routes writes made inside a run to its capture; every other write goes where it always went. */
function install(): void {
  if (installed) return;
  installed = true;
  const streams: Array<[NodeJS.ReadStream | NodeJS.WriteStream, keyof Capture | null]> = [
    [process.stdout, 'stdout'],
    [process.stderr, 'stderr'],
    [process.stdin, null],
  ];
  for (const [stream, name] of streams) {
    for (const property of ['isTTY', 'columns', 'rows'] as const) {
      const own = Object.getOwnPropertyDescriptor(stream, property);
      let value: unknown = own && 'value' in own ? own.value : undefined;
      Object.defineProperty(stream, property, {
        configurable: true,
        get: () => (context.getStore() ? undefined : own?.get ? own.get.call(stream) : value),
        set: (next: unknown) => {
          if (own?.set) own.set.call(stream, next);
          else value = next;
        },
      });
    }
    if (!name) continue;
    const writable = stream as NodeJS.WriteStream;
    const original = writable.write.bind(writable) as Write;
    const capturing: Write = (chunk, encoding, callback) => {
      const capture = context.getStore();
      if (!capture) return original(chunk, encoding, callback);
      const done = typeof encoding === 'function' ? encoding : callback;
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8') : Buffer.from(chunk as Uint8Array);
      capture[name].push(bytes);
      if (typeof done === 'function') process.nextTick(done as (error?: Error | null) => void, null);
      return true;
    };
    writable.write = capturing as typeof writable.write;
  }
}

async function runNow(args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  install();
  const savedEnv = { ...process.env };
  const errorListeners = process.stdout.listeners('error');
  const wanted: NodeJS.ProcessEnv = { ...savedEnv, NO_COLOR: '1', ...env };
  setEnv(wanted);
  const capture: Capture = { stdout: [], stderr: [] };
  try {
    const code = await context.run(capture, () => main(args, process.stderr));
    return { code, stdout: Buffer.concat(capture.stdout), stderr: Buffer.concat(capture.stderr).toString() };
  } finally {
    setEnv(savedEnv);
    // main() adds its closed-pipe listener to stdout on every run.
    for (const listener of process.stdout.listeners('error')) if (!errorListeners.includes(listener)) process.stdout.off('error', listener as (...a: unknown[]) => void);
  }
}

/** Makes process.env exactly `env` (in place: modules hold on to the object). */
function setEnv(env: NodeJS.ProcessEnv): void {
  for (const name of Object.keys(process.env)) if (env[name] === undefined) delete process.env[name];
  for (const [name, value] of Object.entries(env)) if (value !== undefined) process.env[name] = value;
}
