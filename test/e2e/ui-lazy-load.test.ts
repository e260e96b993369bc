import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { BIN } from '../helpers/cli.js';
import { post } from '../ui/post.js';
import { UI_PACKAGES, writeLoadHooks } from '../helpers/load-log.js';
import { tempDir, waitUntil } from '../helpers/temp.js';

/** Runs node with the hook; resolves with the exit code once `until` says the run is done. */
function runNode(args: string[], env: NodeJS.ProcessEnv, until?: (stdout: () => string, stop: () => void) => void): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      until?.(
        () => stdout,
        () => child.kill('SIGTERM'),
      );
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const loaded = async (log: string): Promise<string[]> => (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean);

test('--help, listen --json and listen --no-ui never load Ink or React; the UI module does', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const register = await writeLoadHooks(dir.path);

  // The check itself works: importing the UI entry loads Ink and React
  const controlLog = join(dir.path, 'control.log');
  const uiEntry = pathToFileURL(join(BIN, '..', '..', 'dist', 'src', 'ui', 'start.js')).href;
  const control = await runNode(['--import', register, '--input-type=module', '-e', `await import(${JSON.stringify(uiEntry)});`], { MFTG_LOAD_LOG: controlLog });
  assert.equal(control.code, 0, control.stderr);
  assert.ok(
    (await loaded(controlLog)).some((url) => UI_PACKAGES.test(url)),
    'the hook sees ink/react when the UI is imported',
  );

  // --help
  const helpLog = join(dir.path, 'help.log');
  const help = await runNode(['--import', register, BIN, '--help'], { MFTG_LOAD_LOG: helpLog });
  assert.equal(help.code, 0, help.stderr);
  assert.ok(help.stdout.includes('listen'));
  assert.deepEqual(
    (await loaded(helpLog)).filter((url) => UI_PACKAGES.test(url)),
    [],
  );

  // listen --json and listen --no-ui, with a delivery each
  for (const mode of ['--json', '--no-ui']) {
    const log = join(dir.path, `listen${mode}.log`);
    const home = join(dir.path, `home${mode}`);
    let delivered = false;
    const result = await runNode(['--import', register, BIN, 'listen', mode, '--no-tunnel'], { MFTG_LOAD_LOG: log, MFTG_HOOKS_HOME: home }, (stdout, stop) => {
      const url = /"localUrl":"([^"]+)"/.exec(stdout())?.[1] ?? /capturing at (\S+)/.exec(stdout())?.[1];
      if (url && !delivered) {
        delivered = true;
        void post(url, Buffer.from('{"eventType":"MESSAGE.SEND.SUCCESS"}'))
          .then(() => waitUntil(() => stdout().includes('MESSAGE.SEND.SUCCESS'), 'the event line'))
          .finally(stop);
      }
    });
    assert.equal(result.code, 0, `${mode}: ${result.stderr}`);
    assert.ok(delivered && result.stdout.includes('MESSAGE.SEND.SUCCESS'), `${mode} printed its capture URL and the event: ${result.stdout}`);
    const ui = (await loaded(log)).filter((url) => UI_PACKAGES.test(url));
    assert.deepEqual(ui, [], `${mode} loaded ${ui.join(', ')}`);
  }
});
