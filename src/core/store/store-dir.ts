import { chmodSync, lstatSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MftgHooksError, isErrnoException } from '../errors.js';

/** The store and its `events` directory are private to the user: payloads can hold business data. */
export const STORE_DIR_MODE = 0o700;

/** What a failed mkdir/stat means for the user, by errno code. */
const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  ENOTDIR: 'a file is in the way',
  EEXIST: 'a file is in the way',
  ENOENT: 'a directory cannot be created there',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'the path is too long',
};

function cannotCreate(dir: string, error: unknown, at?: string): MftgHooksError {
  const code = isErrnoException(error) ? (error.code ?? 'error') : 'error';
  const reason = REASONS[code] ?? (error instanceof Error ? error.message : String(error));
  const where = at !== undefined && at !== dir ? ` at ${at}` : '';
  return new MftgHooksError('E_STORE_UNWRITABLE', `cannot create the store ${dir}: ${reason} (${code}${where})`, 'pass --store <dir> (or set MFTG_HOOKS_HOME) to a directory you can write', {
    cause: error,
  });
}

/**
 * Warnings found while preparing a store directory (a directory other users could read, tightened),
 * waiting for the store opened on it to report them: `listen` prepares the directory before it
 * opens the store, and a warning must not be lost in between.
 */
const pendingWarnings = new Map<string, string[]>();

/** Takes the warnings `ensureStoreDir` left for `dir`. */
export function takeStoreDirWarnings(dir: string): string[] {
  const warnings = pendingWarnings.get(dir) ?? [];
  pendingWarnings.delete(dir);
  return warnings;
}

function noteWarning(dir: string, message: string): void {
  const list = pendingWarnings.get(dir) ?? [];
  list.push(message);
  pendingWarnings.set(dir, list);
}

/** An existing directory that group or others can read: made private again, with a warning. */
function tighten(storeDir: string, dir: string): void {
  const mode = statSync(dir).mode & 0o777;
  if ((mode & 0o077) === 0) return;
  const shown = mode.toString(8).padStart(4, '0');
  try {
    chmodSync(dir, STORE_DIR_MODE);
    noteWarning(storeDir, `${dir} was readable by other users (mode ${shown}): changed to 0700`);
  } catch (error) {
    const code = isErrnoException(error) ? error.code : String(error);
    noteWarning(storeDir, `${dir} is readable by other users (mode ${shown}) and could not be made private (${code})`);
  }
}

/**
 * Creates `dir` (and `sub` inside it) private to the user, or makes sure it is a usable directory.
 * The one function every path that creates the store goes through.
 *
 * It never uses `mkdir({ recursive: true })`: Node's recursive mkdir retries forever on a path under
 * `/proc` (`/proc/nope` hung `listen` and `events list`). The parents are walked up here instead, each
 * missing one created with a plain mkdir, so every failure is one clear error at once.
 */
export function ensureStoreDir(dir: string, sub?: string): void {
  const missing: string[] = [];
  let at = dir;
  for (;;) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(at).isDirectory();
    } catch (error) {
      if (isErrnoException(error) && error.code === 'ENOENT') {
        const parent = dirname(at);
        // A dangling symlink is "missing" to stat but exists: mkdir on it would fail with EEXIST.
        if (parent === at || lstatExists(at)) throw cannotCreate(dir, error, at);
        missing.push(at);
        at = parent;
        continue;
      }
      throw cannotCreate(dir, error, at);
    }
    if (!isDirectory) throw cannotCreate(dir, Object.assign(new Error('not a directory'), { code: 'ENOTDIR' }), at);
    break;
  }
  for (let i = missing.length - 1; i >= 0; i--) makeDir(dir, missing[i]!);
  if (missing.length === 0) tighten(dir, dir);
  if (sub !== undefined) {
    const inner = join(dir, sub);
    let existed = true;
    try {
      if (!statSync(inner).isDirectory()) throw cannotCreate(dir, Object.assign(new Error('not a directory'), { code: 'ENOTDIR' }), inner);
    } catch (error) {
      if (error instanceof MftgHooksError) throw error;
      if (!isErrnoException(error) || error.code !== 'ENOENT') throw cannotCreate(dir, error, inner);
      existed = false;
      makeDir(dir, inner);
    }
    if (existed) tighten(dir, inner);
  }
}

function lstatExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function makeDir(storeDir: string, path: string): void {
  try {
    mkdirSync(path, { mode: STORE_DIR_MODE });
  } catch (error) {
    // Another process (a second terminal) created it meanwhile: fine if it is a directory.
    if (isErrnoException(error) && error.code === 'EEXIST') {
      try {
        if (statSync(path).isDirectory()) return;
      } catch {
        // fall through to the original error
      }
    }
    throw cannotCreate(storeDir, error, path);
  }
}
