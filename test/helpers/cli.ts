import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { nextWake } from './temp.js';

/** The built entry point, as a user runs it. */
export const BIN = fileURLToPath(new URL('../../../bin/mftg-hooks.js', import.meta.url));

export interface RunResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs the CLI to completion. */
export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; input?: Buffer | string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1', ...options.env }, stdio: 'pipe' });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mftg-hooks ${args.join(' ')} did not finish in time; stderr: ${err}`));
    }, options.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: err });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** A long-running `listen --json` process whose records can be awaited. */
export interface JsonListener {
  child: ChildProcessWithoutNullStreams;
  records: Array<Record<string, unknown>>;
  stderr: () => string;
  waitForRecord(match: (record: Record<string, unknown>) => boolean, what: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** SIGTERM (or another signal) and the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

export function startJsonListener(args: string[], env: NodeJS.ProcessEnv = {}): JsonListener {
  const child = spawn(process.execPath, [BIN, 'listen', '--json', ...args], { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: 'pipe' });
  const records: Array<Record<string, unknown>> = [];
  let buffered = '';
  let err = '';
  const wakers = new Set<() => void>();
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line.trim()) records.push(JSON.parse(line) as Record<string, unknown>);
    }
    for (const wake of wakers) wake();
  });
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    records,
    stderr: () => err,
    exited,
    async waitForRecord(match, what, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = records.find(match);
        if (found) return found;
        const left = deadline - Date.now();
        if (left <= 0 || child.exitCode !== null) throw new Error(`no ${what} record; got ${JSON.stringify(records)}; stderr: ${err}`);
        await nextWake(wakers, Math.min(left, 100));
      }
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}
