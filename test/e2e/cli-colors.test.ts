import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ptyAvailable } from '../bench/pty.js';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));

/** chalk's own colour level (what Ink's colours use) after main() ran, in a pseudo-terminal. */
function chalkLevelAfterMain(ci: string | undefined): Promise<string> {
  const program = `const { main } = await import(${JSON.stringify(MAIN)}); await main(['--version']); const { default: chalk } = await import('chalk'); process.stdout.write('level=' + chalk.level + '\\n');`;
  const quote = (arg: string): string => `'${arg.replace(/'/g, `'\\''`)}'`;
  const command = ['exec', process.execPath, '--input-type=module', '-e', program].map((arg, i) => (i === 0 ? arg : quote(arg))).join(' ');
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color' };
  for (const name of ['CI', 'NO_COLOR', 'FORCE_COLOR', 'GITHUB_ACTIONS', 'TRAVIS', 'CIRCLECI', 'GITLAB_CI', 'BUILDKITE', 'DRONE', 'APPVEYOR', 'TF_BUILD', 'TEAMCITY_VERSION', 'COLORTERM'])
    delete env[name];
  if (ci !== undefined) env.CI = ci;
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], { env, stdio: ['ignore', 'pipe', 'pipe'], cwd: fileURLToPath(new URL('../../../', import.meta.url)) });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('error', reject);
    child.once('close', () => resolve(/level=(\d)/.exec(out)?.[1] ?? `no level in ${out}`));
  });
}

test('CI=false keeps colours on a terminal (chalk and Ink count any CI variable as CI); CI=true turns them off', { skip: !ptyAvailable() && 'needs util-linux script' }, async () => {
  assert.notEqual(await chalkLevelAfterMain(undefined), '0', 'a terminal has colours');
  assert.notEqual(await chalkLevelAfterMain('false'), '0', 'CI=false is not a CI run');
  assert.notEqual(await chalkLevelAfterMain('0'), '0', 'CI=0 is not a CI run');
  assert.equal(await chalkLevelAfterMain('true'), '0', 'CI=true is');
});
