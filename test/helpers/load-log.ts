import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * A module hook (module.register) that appends every resolved URL under node_modules to the file
 * named by MFTG_LOAD_LOG: what a process loaded, whether by static or dynamic import.
 */
const HOOKS = `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (result.url.includes('/node_modules/')) appendFileSync(process.env.MFTG_LOAD_LOG, result.url + '\\n');
  return result;
}
`;

/** The live UI's packages: what a process that draws no UI must not load. */
export const UI_PACKAGES = /\/node_modules\/(ink|react|react-reconciler|yoga-layout)\//;

/**
 * Writes the hook into `dir` and returns the file to pass to `node --import`. `mainThreadOnly`:
 * registered on the main thread only (on Node 20 a worker's loads do not pass through the main
 * thread's hooks), to see what the listener's own thread loads.
 */
export async function writeLoadHooks(dir: string, options: { mainThreadOnly?: boolean } = {}): Promise<string> {
  await writeFile(join(dir, 'hooks.mjs'), HOOKS);
  const register = join(dir, 'register.mjs');
  const call = `register(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});`;
  await writeFile(
    register,
    options.mainThreadOnly
      ? `import { register } from 'node:module';\nimport { isMainThread } from 'node:worker_threads';\nif (isMainThread) ${call}\n`
      : `import { register } from 'node:module';\n${call}\n`,
  );
  return register;
}
