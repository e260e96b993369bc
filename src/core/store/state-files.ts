import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { storeError } from '../errors.js';

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
  try {
    await mkdir(storeDir, { recursive: true, mode: 0o700 });
    await writeJson(join(storeDir, SETTINGS_FILE), next);
  } catch (error) {
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

/** The running listener of this store, or null (a stale file of a dead process counts as none). */
export async function readListener(storeDir: string): Promise<ListenerInfo | null> {
  const info = await readJson<ListenerInfo>(join(storeDir, LISTENER_FILE));
  return info && isAlive(info.pid) ? info : null;
}

export async function writeListener(storeDir: string, info: ListenerInfo): Promise<void> {
  await writeJson(join(storeDir, LISTENER_FILE), info);
}

export async function removeListener(storeDir: string): Promise<void> {
  const info = await readJson<ListenerInfo>(join(storeDir, LISTENER_FILE));
  if (info?.pid === process.pid) await rm(join(storeDir, LISTENER_FILE), { force: true });
}
