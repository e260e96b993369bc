import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { tempStore } from '../common.js';
import type { Scenario } from '../harness.js';
import { BIN, memoryOf } from '../processes.js';
import { buildStore } from './store.js';

/** `events export --all` to a pipe that is read and counted, never kept: wall time, bytes, peak RSS. */
function exportAll(dir: string, format: string): Promise<{ ms: number; bytes: number; peakMb: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [BIN, 'events', 'export', '--all', '--format', format, '--store', dir], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let bytes = 0;
    let peakMb = 0;
    let stderr = '';
    const sample = setInterval(() => {
      memoryOf(child.pid!).then(
        (m) => (peakMb = Math.max(peakMb, m.peakMb)),
        () => undefined,
      );
    }, 100);
    child.stdout.on('data', (chunk: Buffer) => (bytes += chunk.length));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      clearInterval(sample);
      if (code !== 0) reject(new Error(`export exited ${String(code)}: ${stderr}`));
      else resolve({ ms: performance.now() - started, bytes, peakMb });
    });
  });
}

/** 6b. `events export --all` of a store of 100,000 events, against an empty store. */
export const exportScenario: Scenario = {
  name: 'export',
  title: 'events export --all of 100,000 events (JSON and HAR), against an empty store',
  metrics: [
    { id: 'json', label: 'export --all --format json', unit: 'ms', target: { op: '<=', value: 5000 } },
    { id: 'jsonMb', label: 'JSON archive size', unit: 'MB' },
    { id: 'jsonPeak', label: 'exporter peak RSS (json)', unit: 'MB' },
    { id: 'har', label: 'export --all --format har', unit: 'ms' },
    { id: 'emptyJson', label: 'export --all, empty store (baseline)', unit: 'ms' },
  ],
  async run(ctx, out) {
    const count = ctx.quick ? 2_000 : 100_000;
    const rounds = ctx.quick ? 1 : ctx.rounds;
    const store = await tempStore();
    const empty = await tempStore();
    try {
      await buildStore(store.path, count);
      if (!ctx.quick) await exportAll(store.path, 'json');
      for (let round = 0; round < rounds; round++) {
        const json = await exportAll(store.path, 'json');
        const har = await exportAll(store.path, 'har');
        const baseline = await exportAll(empty.path, 'json');
        out.round({ json: json.ms, jsonMb: json.bytes / 1e6, jsonPeak: json.peakMb, har: har.ms, emptyJson: baseline.ms });
      }
    } finally {
      await store.cleanup();
      await empty.cleanup();
    }
  },
};
