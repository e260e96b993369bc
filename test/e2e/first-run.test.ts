import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { distTimes, freshClone, REPO_ROOT } from '../bench/scenarios/first-run.js';

function npx(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.platform === 'win32' ? 'npx.cmd' : 'npx', args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('the first npx in a fresh clone does not compile a second time', async (t) => {
  // Given a fresh clone after `npm install` (dist/ built after the sources) and an empty npx cache
  const clone = freshClone();
  t.after(() => clone.cleanup());
  const before = distTimes(clone.dir);
  assert.ok(before.size > 0);
  // When the README's command runs npx for the first time (npx links the clone and runs prepare)
  const result = await npx(['mftg-hooks', '--version'], clone.dir, clone.env);
  // Then it ran the clone's own bin, and no file of dist/ was written again
  assert.equal(result.code, 0, result.stderr);
  const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  assert.equal(result.stdout.trim(), version);
  const rewritten = [...distTimes(clone.dir)].filter(([path, mtime]) => before.get(path) !== mtime).map(([path]) => path);
  assert.deepEqual(rewritten, [], 'prepare compiled again');
});
