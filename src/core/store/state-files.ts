import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MftgHooksError, storeError } from '../errors.js';
import { ensureStoreDir } from './store-dir.js';

/** What is remembered between runs, per store, so the URL pasted into MFTG stays valid. */
export interface RememberedSettings {
  /** The secret path segment of the capture URL. */
  token?: string;
  /** The tunnel subdomain last handed out. */
  subdomain?: string;
  /** The tunnel server that handed it out (a subdomain is only remembered per server). */
  tunnelHost?: string;
  /** `--forward-to` of the last run, the replay target when no listener runs. */
  forwardTo?: string | null;
  /** `--route` entries of the last run. */
  routes?: Record<string, string>;
  /** The local capture port of the last run: the next run's default when it is free. */
  port?: number;
}

/** Written by a running listener so `replay` and `trigger` in another terminal can find it. */
export interface ListenerInfo {
  pid: number;
  startedAt: string;
  /** Local capture URL including the token path. */
  captureUrl: string;
  publicUrl: string | null;
  forwardTo: string | null;
  routes: Record<string, string>;
  /** The per-run secret that marks events posted by `trigger`/reconcile with their source (events.ts). */
  sourceSecret?: string;
}

const SETTINGS_FILE = 'settings.json';
const LISTENER_FILE = 'listener.json';

async function readJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return null;
  }
}

/** Atomic replace, readable only by the user. */
async function writeJson(path: string, value: unknown): Promise<void> {
  const temp = `${path}.${process.pid}.${randomBytes(3).toString('hex')}.tmp`;
  await writeFile(temp, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 });
  await rename(temp, path);
}

export async function readSettings(storeDir: string): Promise<RememberedSettings> {
  return (await readJson<RememberedSettings>(join(storeDir, SETTINGS_FILE))) ?? {};
}

export async function updateSettings(storeDir: string, patch: Partial<RememberedSettings>): Promise<RememberedSettings> {
  const next = { ...(await readSettings(storeDir)), ...patch };
  ensureStoreDir(storeDir);
  try {
    await writeJson(join(storeDir, SETTINGS_FILE), next);
  } catch (error) {
    if (error instanceof MftgHooksError) throw error;
    throw storeError('E_STORE_UNWRITABLE', storeDir, error);
  }
  return next;
}

/** An unguessable capture token: 128 bits, URL-safe. */
export function newToken(): string {
  return randomBytes(16).toString('base64url');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const isHttpUrl = (value: unknown): value is string => {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
};

const isStringRecord = (value: unknown): value is Record<string, string> =>
  value !== null && typeof value === 'object' && !Array.isArray(value) && Object.values(value).every((entry) => typeof entry === 'string');

/**
 * listener.json as a listener wrote it, or null when it is damaged: any process can read it, so its
 * fields are checked here once instead of crashing every command that uses one (`new URL` on a
 * captureUrl that is not a URL).
 */
function validListener(value: unknown): ListenerInfo | null {
  if (value === null || typeof value !== 'object') return null;
  const info = value as Record<string, unknown>;
  if (!Number.isSafeInteger(info.pid) || (info.pid as number) <= 0 || !isHttpUrl(info.captureUrl)) return null;
  return {
    pid: info.pid as number,
    startedAt: typeof info.startedAt === 'string' ? info.startedAt : '',
    captureUrl: info.captureUrl,
    publicUrl: isHttpUrl(info.publicUrl) ? info.publicUrl : null,
    forwardTo: isHttpUrl(info.forwardTo) ? info.forwardTo : null,
    routes: isStringRecord(info.routes) ? Object.fromEntries(Object.entries(info.routes).filter(([, url]) => isHttpUrl(url))) : {},
    ...(typeof info.sourceSecret === 'string' && info.sourceSecret !== '' ? { sourceSecret: info.sourceSecret } : {}),
  };
}

/**
 * The running listener of this store, or null (a stale file of a dead process counts as none). A
 * damaged file counts as none too, with a warning through `warn`.
 */
export async function readListener(storeDir: string, warn?: (message: string) => void): Promise<ListenerInfo | null> {
  const path = join(storeDir, LISTENER_FILE);
  const raw = await readJson<unknown>(path);
  if (raw === null) return null;
  const info = validListener(raw);
  if (!info) {
    warn?.(`ignored ${path}: it is damaged (no valid pid and capture URL)`);
    return null;
  }
  return isAlive(info.pid) ? info : null;
}

export async function writeListener(storeDir: string, info: ListenerInfo): Promise<void> {
  await writeJson(join(storeDir, LISTENER_FILE), info);
}

export async function removeListener(storeDir: string): Promise<void> {
  const info = await readJson<ListenerInfo>(join(storeDir, LISTENER_FILE));
  if (info?.pid === process.pid) await rm(join(storeDir, LISTENER_FILE), { force: true });
}
