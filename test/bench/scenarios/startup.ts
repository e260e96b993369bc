import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { tempStore } from '../common.js';
import type { Scenario } from '../harness.js';
import { runCli, startListener } from '../processes.js';

/** Wall time of `node -e 0`: what any Node CLI pays before its first line of code. */
function nodeStartMs(): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('error', reject);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(performance.now() - started);
    });
  });
}

/** 5. Start-up: spawn to the `ready` record of `listen --no-tunnel --json`, and `--help` to exit. */
export const startupScenario: Scenario = {
  name: 'startup',
  title: 'listen --no-tunnel start to the ready record, and --help (wall time from spawn)',
  metrics: [
    { id: 'ready', label: 'listen --no-tunnel → ready record', unit: 'ms', target: { op: '<=', value: 300 } },
    { id: 'help', label: '--help', unit: 'ms', target: { op: '<=', value: 150 } },
    { id: 'node', label: 'node -e 0 (baseline)', unit: 'ms' },
  ],
  async run(ctx, out) {
    const rounds = ctx.quick ? 1 : Math.max(ctx.rounds, 10);
    const store = await tempStore();
    try {
      const once = async (): Promise<{ ready: number; help: number; node: number }> => {
        const node = await nodeStartMs();
        const help = await runCli(['--help'], { timeoutMs: 10_000 });
        if (help.code !== 0 || !help.stdout.includes('Usage: mftg-hooks')) throw new Error(`--help failed (${help.code}): ${help.stderr}`);
        const listener = await startListener(['--no-tunnel', '--store', store.path], { nodeArgs: ctx.listenerNodeArgs, readyTimeoutMs: 10_000 });
        const code = await listener.stop();
        if (code !== 0) throw new Error(`listen exited ${code} on SIGTERM`);
        return { ready: listener.readyMs, help: help.wallMs, node };
      };
      // Warm-up: the first run fills the disk cache and creates the store (and its token); --quick
      // measures nothing, so it skips it.
      if (!ctx.quick) await once();
      for (let round = 0; round < rounds; round++) out.round(await once());
      out.note(`${rounds} rounds; a fresh process each time; the store exists (its token was created in the warm-up)`);
    } finally {
      await store.cleanup();
    }
  },
};
