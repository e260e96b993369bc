import { randomBytes } from 'node:crypto';
import { closeSync, futimesSync, linkSync, openSync, readFileSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { MftgHooksError, isErrnoException, storeError } from '../errors.js';
import { ensureStoreDir } from './store-dir.js';

/** The listener's lock file in the store directory. */
export const LOCK_FILE = 'listener.lock';
/** A lock holder touches its lock file this often… */
export const LOCK_REFRESH_MS = 3_000;
/**
 * …and a lock not touched for this long is stale, when its holder cannot be checked exactly (another
 * host or boot, a system without /proc: a pid that is unreaped or reused by now must not block a
 * restart for longer than this).
 */
export const LOCK_STALE_MS = 15_000;
/** A takeover in progress is never older than this, unless its process died in the middle of it. */
const TAKEOVER_STALE_MS = 5_000;
/** Attempts to take the lock (each a few system calls, with a short pause when racing a takeover). */
const MAX_ATTEMPTS = 200;
const RETRY_PAUSE_MS = 10;

/** What a lock file says about its holder. */
export interface LockInfo {
  pid: number;
  /** Unique per acquisition: tells two holders with the same pid apart (one process, two sessions). */
  nonce: string;
  startedAt: string;
  hostname: string;
  /** Linux: the kernel's boot id; the pid is only meaningful on the same boot. */
  bootId: string | null;
  /** Linux: the process's start time (clock ticks after boot), so that a reused pid is recognised. */
  processStart: number | null;
}

/** A held lock; `release` is idempotent. */
export interface StoreLock {
  readonly info: LockInfo;
  release(): Promise<void>;
}

/** Nonces of the locks this process holds right now. */
const heldHere = new Set<string>();

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

let bootIdCache: string | null | undefined;
function bootId(): string | null {
  bootIdCache ??= readText('/proc/sys/kernel/random/boot_id')?.trim() || null;
  return bootIdCache;
}

/** State and start time of a process from /proc (Linux), or null where there is no /proc. */
function processStat(pid: number | 'self'): { state: string; start: number } | null {
  const text = readText(`/proc/${pid}/stat`);
  if (text === null) return null;
  // "pid (comm) state ppid …": comm may hold spaces and parentheses; the fields follow the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const start = Number(fields[19]);
  return fields[0] && Number.isFinite(start) ? { state: fields[0], start } : null;
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return isErrnoException(error) && error.code === 'EPERM';
  }
}

function parseLock(text: string | null): LockInfo | null {
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as Partial<LockInfo>;
    if (!Number.isSafeInteger(value.pid) || (value.pid ?? 0) <= 0 || typeof value.nonce !== 'string' || value.nonce === '') return null;
    return {
      pid: value.pid!,
      nonce: value.nonce,
      startedAt: String(value.startedAt ?? ''),
      hostname: String(value.hostname ?? ''),
      bootId: typeof value.bootId === 'string' ? value.bootId : null,
      processStart: typeof value.processStart === 'number' ? value.processStart : null,
    };
  } catch {
    return null;
  }
}

/**
 * Whether the holder named by a lock file is still running. Exact on the same Linux boot (the pid
 * must exist, not be a zombie, and have started when the lock says); elsewhere a live-looking pid
 * counts only while the lock is kept fresh.
 */
export function holderAlive(info: LockInfo, touchedAt: number, now = Date.now()): boolean {
  const sameMachine = info.hostname === hostname() && info.bootId === bootId();
  if (sameMachine) {
    if (info.pid === process.pid) return heldHere.has(info.nonce);
    if (!pidExists(info.pid)) return false;
    const stat = processStat(info.pid);
    if (stat) return stat.state !== 'Z' && stat.state !== 'X' && (info.processStart === null || stat.start === info.processStart);
  }
  return now - touchedAt <= LOCK_STALE_MS;
}

/** Creates `path` with `content`, atomically; false when it exists. */
function createExclusive(path: string, content: string): boolean {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temp, content, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(temp, path);
    return true;
  } catch (error) {
    if (isErrnoException(error) && error.code === 'EEXIST') return false;
    if (!isErrnoException(error) || !['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'].includes(error.code ?? '')) throw error;
    // No hard links on this file system: an exclusive create, then the content (a reader that sees
    // it empty waits for it, see acquire).
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o600);
    } catch (createError) {
      if (isErrnoException(createError) && createError.code === 'EEXIST') return false;
      throw createError;
    }
    try {
      writeSync(fd, content);
    } finally {
      closeSync(fd);
    }
    return true;
  } finally {
    try {
      unlinkSync(temp);
    } catch {
      // already gone
    }
  }
}

function tryUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/** The lock file's holder and when it was last touched; null when there is no lock file. */
function readLock(path: string): { info: LockInfo | null; touchedAt: number } | null {
  let touchedAt: number;
  try {
    touchedAt = statSync(path).mtimeMs;
  } catch {
    return null;
  }
  return { info: parseLock(readText(path)), touchedAt };
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Makes this process the one listener of the store in `storeDir`, before anything else touches it:
 * an exclusive lock file (created with a hard link, so it appears whole or not at all) naming this
 * process, kept fresh while it runs. A lock left by a process that is gone (killed, crashed) is taken
 * over; two processes taking over the same stale lock are serialised by a second, short-lived lock,
 * so exactly one of them wins. Rejects with E_STORE_BUSY when another listener holds it.
 *
 * `describe` adds what is known about a running holder to the error (its capture URL).
 */
export async function lockStore(storeDir: string, describe?: (holder: LockInfo) => Promise<string | null>): Promise<StoreLock> {
  ensureStoreDir(storeDir);
  const path = join(storeDir, LOCK_FILE);
  const takeoverPath = `${path}.takeover`;
  const self = processStat('self');
  const info: LockInfo = {
    pid: process.pid,
    nonce: randomBytes(12).toString('hex'),
    startedAt: new Date().toISOString(),
    hostname: hostname(),
    bootId: bootId(),
    processStart: self?.start ?? null,
  };
  const content = JSON.stringify(info) + '\n';
  let holder: LockInfo | null = null;
  try {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (createExclusive(path, content)) return hold(path, info);
      const current = readLock(path);
      if (!current) continue; // released meanwhile: try again
      if (current.info && holderAlive(current.info, current.touchedAt)) {
        holder = current.info;
        break;
      }
      // An unreadable lock younger than a second is one being written (no hard links): wait for it.
      if (!current.info && Date.now() - current.touchedAt < 1_000) {
        await pause(RETRY_PAUSE_MS);
        continue;
      }
      // Stale. Only the holder of the takeover lock may remove it, and only if it is still the same.
      if (!createExclusive(takeoverPath, content)) {
        const takeover = readLock(takeoverPath);
        if (takeover && Date.now() - takeover.touchedAt > TAKEOVER_STALE_MS) tryUnlink(takeoverPath);
        await pause(RETRY_PAUSE_MS);
        continue;
      }
      try {
        const again = readLock(path);
        if (again && again.info?.nonce === current.info?.nonce && again.touchedAt === current.touchedAt) tryUnlink(path);
      } finally {
        tryUnlink(takeoverPath);
      }
    }
  } catch (error) {
    throw storeError('E_STORE_UNWRITABLE', storeDir, error);
  }
  const where = holder && describe ? await describe(holder).catch(() => null) : null;
  const who = holder ? `another listener (pid ${holder.pid}${holder.hostname && holder.hostname !== hostname() ? ` on ${holder.hostname}` : ''})` : 'another listener';
  throw new MftgHooksError('E_STORE_BUSY', `${who} is using the store ${storeDir}${where ? ` at ${where}` : ''}`, 'stop it first, or give this one its own --store');
}

function hold(path: string, info: LockInfo): StoreLock {
  heldHere.add(info.nonce);
  // The descriptor stays open for the process's life: touching it keeps this lock fresh, and never
  // touches a lock that replaced it.
  let fd: number | null = null;
  try {
    fd = openSync(path, 'r');
  } catch {
    fd = null;
  }
  const timer = setInterval(() => {
    if (fd === null) return;
    try {
      const now = new Date();
      futimesSync(fd, now, now);
    } catch {
      // a full or read-only disk: the lock stays, only its freshness is not renewed
    }
  }, LOCK_REFRESH_MS);
  timer.unref();
  let released = false;
  return {
    info,
    async release(): Promise<void> {
      if (released) return;
      released = true;
      clearInterval(timer);
      heldHere.delete(info.nonce);
      if (fd !== null) closeSync(fd);
      if (parseLock(readText(path))?.nonce === info.nonce) tryUnlink(path);
    },
  };
}
