import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { Scenario } from '../harness.js';

/** The repository this build came from (dist/test/bench/scenarios → the root). */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** What a clone holds besides dist/ and node_modules (the entries `git ls-files` shows at the top). */
const CLONE_ENTRIES = ['package.json', 'package-lock.json', 'tsconfig.json', 'README.md', 'bin', 'src', 'test'];

/** A throwaway directory standing for a fresh clone after `npm install`, with its own npm HOME and cache. */
export interface FreshClone {
  /** The clone's directory. */
  dir: string;
  /** HOME, npm cache and user config of their own: the machine's npx cache is never touched. */
  env: NodeJS.ProcessEnv;
  cleanup(): void;
}

/**
 * A fresh clone after `npm install`: the sources first, then the built dist/ (so, as after
 * `npm install` ran `prepare`, every output is newer than its source), and node_modules linked to
 * this repository's. npm gets an empty HOME and cache, no update check and no network (`offline`).
 */
export function freshClone(prefix = 'mftg-hooks-clone-'): FreshClone {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const dir = join(root, 'mftg-hooks');
  mkdirSync(dir);
  for (const entry of CLONE_ENTRIES) cpSync(join(REPO_ROOT, entry), join(dir, entry), { recursive: true });
  cpSync(join(REPO_ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
  symlinkSync(realpathSync(join(REPO_ROOT, 'node_modules')), join(dir, 'node_modules'));
  const home = join(root, 'home');
  mkdirSync(home);
  writeFileSync(join(home, '.npmrc'), '');
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, NO_COLOR: '1' };
  // An `npm run bench` or `npm test` around us exports its own npm_config_* (cache, prefix…).
  for (const name of Object.keys(env)) if (name.toLowerCase().startsWith('npm_')) delete env[name];
  Object.assign(env, {
    npm_config_cache: join(home, '.npm'),
    npm_config_userconfig: join(home, '.npmrc'),
    npm_config_update_notifier: 'false',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_offline: 'true',
  });
  return { dir, env, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** Every file under dir/dist with its modification time: a compile rewrites them all. */
export function distTimes(dir: string): Map<string, number> {
  const times = new Map<string, number>();
  for (const entry of readdirSync(join(dir, 'dist'), { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const path = join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name);
      times.set(path, statSync(path).mtimeMs);
    }
  }
  return times;
}

const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';

/**
 * Runs `npx mftg-hooks listen --no-tunnel --no-ui` in `cwd` and resolves with the ms from spawn to
 * its first line (`capturing at …`), then stops it. npx does not pass SIGTERM on to the command, so
 * the whole process group is stopped.
 */
export function timeToFirstLine(cwd: string, env: NodeJS.ProcessEnv, storeDir: string, timeoutMs = 120_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child: ChildProcess = spawn(npx, ['mftg-hooks', 'listen', '--no-tunnel', '--no-ui', '--store', storeDir], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    let settled = false;
    const stop = (): void => {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => finish(new Error(`no first line within ${timeoutMs} ms: ${output.slice(-500)}`)), timeoutMs);
    const finish = (result: number | Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stop();
      child.once('close', () => (typeof result === 'number' ? resolve(result) : reject(result)));
      if (child.exitCode === null && child.signalCode === null) return;
      if (typeof result === 'number') resolve(result);
      else reject(result);
    };
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('capturing at')) finish(performance.now() - started);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', (error) => finish(error));
    child.once('close', (code) => finish(new Error(`npx exited ${code} before its first line: ${output.slice(-500)}`)));
  });
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 300_000): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/**
 * The README's quick start on a fresh clone: `npx mftg-hooks listen` the first time (npx links the
 * clone into its cache and npm runs `prepare` there again) and the second time; and a published
 * install (`npm pack`, `npm install <tgz>` in an empty project, `npx mftg-hooks listen`).
 */
export const firstRunScenario: Scenario = {
  name: 'first-run',
  title: 'a fresh clone (and a packed tarball): npx mftg-hooks listen → first line (wall time from spawn)',
  metrics: [
    { id: 'first', label: 'fresh clone: first npx → first line', unit: 'ms', target: { op: '<=', value: 3000 } },
    { id: 'second', label: 'fresh clone: second npx → first line', unit: 'ms', target: { op: '<=', value: 3000 } },
    { id: 'tarball', label: 'packed tarball: npx → first line', unit: 'ms', target: { op: '<=', value: 3000 } },
  ],
  async run(ctx, out) {
    const rounds = ctx.quick ? 1 : ctx.rounds;
    // The published path: packed once and put where `npm install <tgz>` puts it (unpacked into an
    // empty project's node_modules, its bin linked as npm links it, its dependencies linked from this
    // repository), then timed each round. Installing with npm would fetch the dependencies from the
    // registry: the bench stays on this machine, and what is timed is `npx` in that project either way.
    let published: { clone: FreshClone; project: string; env: NodeJS.ProcessEnv } | null = null;
    const clone = freshClone();
    const packed = await run('npm', ['pack', '--silent'], clone.dir, clone.env);
    const tgz = join(clone.dir, packed.output.trim().split('\n').pop() ?? '');
    const project = join(clone.dir, '..', 'empty-project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'empty-project', version: '1.0.0', private: true }));
    if (packed.code !== 0) {
      out.note(`packed tarball not measured: npm pack failed: ${packed.output.trim().split('\n').slice(-2).join(' ')}`);
      clone.cleanup();
    } else {
      const unpacked = join(project, 'node_modules', 'mftg-hooks');
      mkdirSync(join(project, 'node_modules', '.bin'), { recursive: true });
      mkdirSync(unpacked);
      const untar = await run('tar', ['-xzf', tgz, '-C', unpacked, '--strip-components=1'], project, clone.env);
      if (untar.code === 0) {
        symlinkSync(realpathSync(join(REPO_ROOT, 'node_modules')), join(unpacked, 'node_modules'));
        symlinkSync('../mftg-hooks/bin/mftg-hooks.js', join(project, 'node_modules', '.bin', 'mftg-hooks'));
        published = { clone, project, env: clone.env };
      } else {
        out.note(`packed tarball not measured: tar failed: ${untar.output.trim()}`);
        clone.cleanup();
      }
    }
    try {
      for (let round = 0; round < rounds; round++) {
        const clone = freshClone();
        try {
          const store = join(clone.dir, '..', 'store');
          const values: Record<string, number> = { first: await timeToFirstLine(clone.dir, clone.env, store), second: await timeToFirstLine(clone.dir, clone.env, store) };
          if (published) values.tarball = await timeToFirstLine(published.project, published.env, join(published.project, `store-${round}`));
          out.round(values);
        } finally {
          clone.cleanup();
        }
      }
    } finally {
      published?.clone.cleanup();
    }
    out.note(
      `${rounds} rounds, each on a new copy of the repository (sources, then dist/, node_modules linked) with an empty npm cache: npx's first run links the clone into that cache and runs its prepare there`,
    );
  },
};
