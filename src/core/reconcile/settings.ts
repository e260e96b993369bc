import { MftgHooksError, usageError } from '../errors.js';
import { DEFAULT_MFTG_API_URL, MFTG_API_TIMEOUT_MS, type MftgApiClientOptions } from '../mftg-api/client.js';
import { DEFAULT_RECONCILE_INTERVAL_MS } from './flags.js';
import type { ListenReconcileOptions } from './scheduler.js';

// The flag parsers live apart so that `--help` does not load the API client.
export { parseReconcileInterval, parseSince, parseTypes } from './flags.js';

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
