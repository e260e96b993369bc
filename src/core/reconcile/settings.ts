import { MftgHooksError, usageError } from '../errors.js';
import { DEFAULT_MFTG_API_URL, MFTG_API_TIMEOUT_MS, type MftgApiClientOptions } from '../mftg-api/client.js';
import { MESSAGE_TYPES, type MessageType } from '../mftg-api/types.js';
import { DEFAULT_RECONCILE_INTERVAL_MS, MIN_RECONCILE_INTERVAL_MS, type ListenReconcileOptions } from './scheduler.js';

/**
 * What `reconcile` and `events attachments` read from the environment (credentials come from
 * nowhere else) and the parsers of their flags.
 */

/** `MFTG_API_*` and `MFTG_HOOKS_API_*` → client options; a clear error naming what to set. */
export function apiOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): MftgApiClientOptions {
  const username = env.MFTG_API_USERNAME?.trim() || undefined;
  const password = env.MFTG_API_PASSWORD || undefined;
  const token = env.MFTG_API_TOKEN?.trim() || undefined;
  if (!token && !(username && password)) {
    const missing = username ? 'MFTG_API_PASSWORD is not set' : password ? 'MFTG_API_USERNAME is not set' : 'no MFTG API credentials in the environment';
    throw new MftgHooksError('E_MFTG_NO_CREDENTIALS', missing, 'set MFTG_API_USERNAME and MFTG_API_PASSWORD (the API user of your MFTG account), or MFTG_API_TOKEN');
  }
  const options: MftgApiClientOptions = { credentials: { username, password, token }, baseUrl: env.MFTG_HOOKS_API_URL?.trim() || DEFAULT_MFTG_API_URL };
  const timeout = env.MFTG_HOOKS_API_TIMEOUT?.trim();
  if (timeout) {
    if (!/^\d+$/.test(timeout) || Number(timeout) < 1) throw usageError(`MFTG_HOOKS_API_TIMEOUT must be a number of milliseconds ≥ 1, not "${timeout}"`);
    options.timeoutMs = Number(timeout);
  } else {
    options.timeoutMs = MFTG_API_TIMEOUT_MS;
  }
  return options;
}

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since`: `30m`, `2h`, `1d`, `90s` (before now) or an ISO-8601 time → epoch ms. Throws a usage error. */
export function parseSince(value: string, now: number = Date.now()): number {
  const text = value.trim();
  const relative = /^(\d+)\s*([smhd])$/i.exec(text);
  if (relative) {
    const amount = Number(relative[1]);
    if (amount === 0) throw usageError(`--since ${value} is now: give a duration such as 30m, 2h or 1d`);
    return now - amount * UNIT_MS[relative[2]!.toLowerCase()]!;
  }
  // An ISO-8601 date or date-time (a bare date is midnight UTC, as Date.parse reads it).
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i.test(text)) {
    const at = Date.parse(text.replace(' ', 'T'));
    if (!Number.isNaN(at)) {
      if (at > now) throw usageError(`--since ${value} is in the future`);
      return at;
    }
  }
  throw usageError(`--since ${value} is not a duration or a time`, 'use e.g. 30m, 2h, 1d or 2024-03-01T08:00:00Z');
}

/** `--types received,sent,failed` (any case, any order, `all`) → the types in a fixed order. */
export function parseTypes(value: string): MessageType[] {
  const words = value
    .split(',')
    .map((word) => word.trim().toLowerCase())
    .filter((word) => word !== '');
  if (words.length === 0) throw usageError('--types needs at least one of received, sent, failed');
  const picked = new Set<MessageType>();
  for (const word of words) {
    if (word === 'all') MESSAGE_TYPES.forEach((type) => picked.add(type));
    else if ((MESSAGE_TYPES as readonly string[]).includes(word)) picked.add(word as MessageType);
    else throw usageError(`--types: unknown type ${word}`, 'use received, sent and/or failed, comma-separated');
  }
  return MESSAGE_TYPES.filter((type) => picked.has(type));
}

/** `--reconcile [interval]`: `30s`, `10m`, `1h` → ms; `off` (also as MFTG_HOOKS_RECONCILE) → false. Throws a usage error. */
export function parseReconcileInterval(value: string): number | false {
  const text = value.trim().toLowerCase();
  if (['off', 'false', 'no', 'none', '0'].includes(text)) return false;
  const match = /^(\d+)\s*([smh])$/.exec(text);
  if (!match) throw usageError(`--reconcile ${value} is not an interval`, 'use e.g. 30s, 10m or 1h (or off)');
  const ms = Number(match[1]) * UNIT_MS[match[2]!]!;
  if (ms < MIN_RECONCILE_INTERVAL_MS) throw usageError(`--reconcile ${value} is too often`, `at least ${MIN_RECONCILE_INTERVAL_MS / 1000}s: the MFTG API is rate limited`);
  return ms;
}

/**
 * What `listen` reconciles with: `--reconcile [interval]` as parsed (true without a value, false for
 * `--no-reconcile`, undefined when not given) and the credentials. On by default when credentials
 * are set; `--reconcile` without them, or half of a username and password, is a usage error.
 */
export function listenReconcileOptions(value: unknown, env: NodeJS.ProcessEnv = process.env): ListenReconcileOptions | null {
  if (value === false) return null;
  const asked = value !== undefined;
  const anyCredential = Boolean(env.MFTG_API_USERNAME?.trim() || env.MFTG_API_PASSWORD || env.MFTG_API_TOKEN?.trim());
  if (!asked && !anyCredential) return null;
  let api: MftgApiClientOptions;
  try {
    api = apiOptionsFromEnv(env);
  } catch (error) {
    if (!(error instanceof MftgHooksError) || error.code !== 'E_MFTG_NO_CREDENTIALS') throw error;
    throw usageError(asked ? `--reconcile needs MFTG API credentials: ${error.message}` : `the MFTG API credentials are incomplete: ${error.message}`, `${error.hint}; or pass --no-reconcile`);
  }
  return { api, intervalMs: typeof value === 'number' ? value : DEFAULT_RECONCILE_INTERVAL_MS };
}
