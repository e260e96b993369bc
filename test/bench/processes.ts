import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { countStoredEvents } from './common.js';
import type { Recorder } from './harness.js';
import { nextWake } from '../helpers/temp.js';

/** The built CLI, as a user runs it. */
export const BIN = fileURLToPath(new URL('../../../bin/mftg-hooks.js', import.meta.url));
/** The benchmark's own child processes (bare server, tunnel client). */
export const CHILD = fileURLToPath(new URL('./child.js', import.meta.url));

/** Every process the benchmark started and has not yet seen exit: killed if the benchmark dies. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function track(child: ChildProcess): ChildProcess {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const leftover of running) leftover.kill('SIGKILL');
    });
  }
  return child;
}

/** Processes started by the benchmark still alive (the smoke test checks it is 0 at the end). */
export function runningChildren(): number {
  return running.size;
}

/** Stops a child: `signal`, then SIGKILL after `graceMs`. Resolves with its exit code (null if killed). */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 5_000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

/** Resident set size and its peak, in MB, from /proc (Linux). */
export async function memoryOf(pid: number): Promise<{ rssMb: number; peakMb: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  wallMs: number;
}

/** Spawns a process the benchmark will stop (and kills it if the benchmark dies first). */
export function spawnTracked(command: string, args: string[], options: SpawnOptions): ChildProcess {
  return track(spawn(command, args, options));
}

/** `node <args>`, or `<prefix…> node <args>` (e.g. a taskset prefix). */
function spawnNode(args: string[], options: SpawnOptions, prefix: string[] = []): ChildProcess {
  const [command, ...rest] = prefix.length > 0 ? [...prefix, process.execPath, ...args] : [process.execPath, ...args];
  return track(spawn(command!, rest, options));
}

/** Runs the CLI to completion (bounded) and times it from spawn to exit. */
export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawnNode([BIN, ...args], { env: { ...process.env, NO_COLOR: '1', ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mftg-hooks ${args.join(' ')} did not finish within ${options.timeoutMs ?? 30_000} ms`));
    }, options.timeoutMs ?? 30_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, wallMs: performance.now() - started });
    });
  });
}

/** Counts of the `--json` records a listener printed. */
export interface RecordCounts {
  event: number;
  attempt: number;
  attemptOk: number;
  rejected: number;
  warning: number;
}

/** A `listen --json` process of the built CLI. */
export interface Listener {
  child: ChildProcess;
  pid: number;
  /** Capture URL from the `ready` record. */
  localUrl: string;
  /** Milliseconds from spawn to the `ready` line. */
  readyMs: number;
  counts: RecordCounts;
  /** Every `tunnel` and `warning` record, parsed. */
  notices: Array<Record<string, unknown>>;
  stderr: () => string;
  /** Resolves once `check(counts)` holds; rejects after `timeoutMs` or when the process exits. */
  waitFor(check: (counts: RecordCounts, notices: Array<Record<string, unknown>>) => boolean, what: string, timeoutMs: number): Promise<void>;
  stop(): Promise<number | null>;
}

/**
 * Starts `mftg-hooks listen --json <args>` and resolves at its `ready` record. Records are counted
 * by their leading `{"type":"…"` only (no JSON parsing), so a fast listener is not slowed by us.
 */
export async function startListener(args: string[], options: { env?: NodeJS.ProcessEnv; readyTimeoutMs?: number; prefix?: string[]; nodeArgs?: string[] } = {}): Promise<Listener> {
  const started = performance.now();
  const child = spawnNode(
    [...(options.nodeArgs ?? []), BIN, 'listen', '--json', ...args],
    { env: { ...process.env, NO_COLOR: '1', ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
    options.prefix,
  );
  const counts: RecordCounts = { event: 0, attempt: 0, attemptOk: 0, rejected: 0, warning: 0 };
  const notices: Array<Record<string, unknown>> = [];
  const wakers = new Set<() => void>();
  let stderr = '';
  let buffered = '';
  let ready: { localUrl: string; at: number } | null = null;
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    if (stderr.length > 64 * 1024) stderr = stderr.slice(-32 * 1024);
  });
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    let start = 0;
    let newline: number;
    while ((newline = buffered.indexOf('\n', start)) >= 0) {
      const line = buffered.slice(start, newline);
      start = newline + 1;
      if (line.startsWith('{"type":"event"')) counts.event++;
      else if (line.startsWith('{"type":"attempt"')) {
        counts.attempt++;
        if (line.includes('"status":2')) counts.attemptOk++;
      } else if (line.startsWith('{"type":"rejected"')) counts.rejected++;
      else if (line.startsWith('{"type":"ready"')) ready = { localUrl: String((JSON.parse(line) as { localUrl: string }).localUrl), at: performance.now() };
      else if (line.startsWith('{"type":"warning"') || line.startsWith('{"type":"tunnel"')) {
        if (line.startsWith('{"type":"warning"')) counts.warning++;
        notices.push(JSON.parse(line) as Record<string, unknown>);
      }
    }
    buffered = buffered.slice(start);
    for (const wake of wakers) wake();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => {
    for (const wake of wakers) wake();
  });

  const waitFor: Listener['waitFor'] = async (check, what, timeoutMs) => {
    const deadline = performance.now() + timeoutMs;
    while (!check(counts, notices)) {
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`listener: timed out after ${timeoutMs} ms waiting for ${what}; counts ${JSON.stringify(counts)}; stderr: ${stderr.slice(-2000)}`);
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`listener exited (${child.exitCode ?? child.signalCode}) while waiting for ${what}; stderr: ${stderr.slice(-2000)}`);
      await nextWake(wakers, Math.min(left, 100));
    }
  };
  try {
    await waitFor(() => ready !== null, 'the ready record', options.readyTimeoutMs ?? 30_000);
  } catch (error) {
    await stopChild(child, 'SIGKILL');
    throw error;
  }
  const readyAt = ready as unknown as { localUrl: string; at: number };
  return {
    child,
    pid: child.pid!,
    localUrl: readyAt.localUrl,
    readyMs: readyAt.at - started,
    counts,
    notices,
    stderr: () => stderr,
    waitFor,
    stop: () => stopChild(child),
  };
}

/**
 * Starts `node child.js <mode> <args>` (see child.ts) and resolves with its first stdout line, parsed.
 */
export async function startBenchChild(
  mode: string,
  args: string[],
  options: { timeoutMs?: number; prefix?: string[] } = {},
): Promise<{ child: ChildProcess; info: Record<string, unknown>; stop: () => Promise<number | null> }> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const child = spawnNode([CHILD, mode, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }, options.prefix);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-16 * 1024)));
  const info = await new Promise<Record<string, unknown>>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`bench child ${mode} gave no answer within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const newline = out.indexOf('\n');
      if (newline >= 0) {
        clearTimeout(timer);
        resolve(JSON.parse(out.slice(0, newline)) as Record<string, unknown>);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`bench child ${mode} exited (${code}); stderr: ${stderr}`));
    });
  }).catch(async (error: unknown) => {
    await stopChild(child, 'SIGKILL');
    throw error;
  });
  return { child, info, stop: () => stopChild(child) };
}

/**
 * The end of a listener run: every acknowledged delivery must have been forwarded with a 2xx and be
 * in the store. Stops the listener (before counting, so its writes are all on disk) and reports
 * what is missing as lost.
 */
export async function stopAndCountLost(listener: Listener, acked: number, storeDir: string, out: Recorder, forwardTimeoutMs: number): Promise<void> {
  await listener.waitFor((counts) => counts.attemptOk >= acked, `${acked} successful forwards`, forwardTimeoutMs).catch(() => undefined);
  out.addLost(acked - listener.counts.attemptOk, 'acknowledged events not forwarded with 2xx');
  await listener.stop();
  out.addLost(acked - (await countStoredEvents(storeDir)), 'acknowledged events missing from the store');
}
