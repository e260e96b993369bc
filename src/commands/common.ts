import { resolve } from 'node:path';
import { defaultStoreDir } from '../core/paths.js';

/** `--store` (or its twin MFTG_HOOKS_STORE) > MFTG_HOOKS_HOME > the platform's data directory. */
export function storeDirFrom(options: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): string {
  const explicit = typeof options.store === 'string' && options.store !== '' ? options.store : env.MFTG_HOOKS_HOME;
  return resolve(explicit && explicit !== '' ? explicit : defaultStoreDir(env));
}
