import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { scanSegment } from '../../src/core/store/segment-reader.js';
import { FrameKind } from '../../src/core/store/frame.js';

/** The listener keeps every event the benchmark sends, so that none can hide behind retention. */
export const KEEP_ALL = '100000000';

export async function tempStore(prefix = 'mftg-hooks-bench-'): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

/** Events stored in a store directory (every segment scanned, one at a time), `clear` markers ignored. */
export async function countStoredEvents(storeDir: string): Promise<number> {
  const dir = join(storeDir, 'events');
  const names = (await readdir(dir)).filter((name) => name.endsWith('.seg')).sort();
  let count = 0;
  for (const name of names) {
    const scan = await scanSegment(join(dir, name));
    for (const frame of scan.frames) if (frame.kind === FrameKind.Event) count++;
  }
  return count;
}

/** CPU time (user + system, all threads) a process used so far, in ms (Linux /proc). */
export async function cpuTimeMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the line, in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * CPU pinning for throughput runs on a machine with few cores: the load generator (this process) on
 * the first CPU, the server under test on the last, so each side has one core and the two servers
 * compared get the same one. Null when `taskset` or a second CPU is missing.
 */
export interface Pinning {
  /** Command prefix that runs a child on the server CPU. */
  serverPrefix: string[];
  /** Restores this process's CPU affinity. */
  release(): void;
}

export function pinForThroughput(): Pinning | null {
  const count = cpus().length;
  if (count < 2 || process.platform !== 'linux') return null;
  try {
    const before = execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { encoding: 'utf8' });
    const original = /current affinity list: (\S+)/.exec(before)?.[1] ?? `0-${count - 1}`;
    return {
      serverPrefix: ['taskset', '-c', String(count - 1)],
      release: () => void execFileSync('taskset', ['-a', '-p', '-c', original, String(process.pid)], { stdio: 'ignore' }),
    };
  } catch {
    return null;
  }
}

/** Polls until `check()` is true or `timeoutMs` passed; returns whether it became true. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Resolves with `promise`'s value, or with `fallback` after `ms` (the timer never outlives the race). */
export async function within<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<F>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
