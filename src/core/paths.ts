import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where events are kept when neither `--store` nor `MFTG_HOOKS_HOME` says otherwise, following each
 * platform's convention for per-user application data.
 */
export function defaultStoreDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') return join(env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), 'mftg-hooks');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'mftg-hooks');
  const dataHome = env.XDG_DATA_HOME && env.XDG_DATA_HOME.startsWith('/') ? env.XDG_DATA_HOME : join(homedir(), '.local', 'share');
  return join(dataHome, 'mftg-hooks');
}
