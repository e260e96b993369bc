import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { KEEP_ALL, tempStore } from '../common.js';
import { startBenchHandler, type BenchHandler } from '../handler.js';
import { percentile, type Scenario } from '../harness.js';
import { mftgPayload, PAYLOAD_HEADERS } from '../payload.js';
import { startListener, stopAndCountLost, type Listener } from '../processes.js';

/**
 * Sends one delivery at a time and notes when its body has fully reached the handler. Returns the
 * sender→handler times in ms. Through the listener, the next request waits until the listener has
 * also recorded the forward's attempt, so requests never overlap.
 */
async function deliveries(url: string, handler: BenchHandler, count: number, maxMs: number, listener: Listener | null, body: Buffer): Promise<{ latencies: number[]; acked: number }> {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections: 1, pipelining: 1 });
  const latencies: number[] = [];
  let acked = 0;
  const started = performance.now();
  try {
    for (let i = 0; i < count && performance.now() - started < maxMs; i++) {
      const attemptsBefore = listener?.counts.attempt ?? 0;
      const arrival = handler.nextArrival(5_000);
      const sentAt = performance.now();
      const response = await pool.request({ path: target.pathname + target.search, method: 'POST', headers: PAYLOAD_HEADERS, body });
      await response.body.dump();
      if (response.statusCode !== 200) throw new Error(`${url} answered ${response.statusCode}`);
      acked++;
      latencies.push((await arrival) - sentAt);
      if (listener) await listener.waitFor((counts) => counts.attempt > attemptsBefore, 'the forward attempt', 5_000);
    }
  } finally {
    await pool.close();
  }
  return { latencies, acked };
}

/**
 * 2. Added latency: sender → capture → forward → handler against sender → handler directly, one
 * request at a time, measured from the first byte sent to the handler having the whole body.
 */
export const latencyScenario: Scenario = {
  name: 'latency',
  title: 'added latency of capture + forward vs calling the handler directly (one request at a time)',
  metrics: [
    { id: 'addedP50', label: 'added p50', unit: 'ms', target: { op: '<=', value: 1 } },
    { id: 'addedP99', label: 'added p99', unit: 'ms', target: { op: '<=', value: 5 } },
    { id: 'directP50', label: 'direct p50', unit: 'ms' },
    { id: 'directP99', label: 'direct p99', unit: 'ms' },
    { id: 'viaP50', label: 'through the listener p50', unit: 'ms' },
    { id: 'viaP99', label: 'through the listener p99', unit: 'ms' },
  ],
  async run(ctx, out) {
    const perRun = ctx.quick ? 20 : 1_000;
    const maxMs = ctx.quick ? 5_000 : 30_000;
    const body = mftgPayload();
    const store = await tempStore();
    const handler = await startBenchHandler();
    let listener: Listener | null = null;
    let acked = 0;
    try {
      listener = await startListener(['--no-tunnel', '--store', store.path, '--keep', KEEP_ALL, '--forward-to', handler.url], { nodeArgs: ctx.listenerNodeArgs });
      const running = listener;
      const viaListener = async (count: number): Promise<number[]> => {
        const result = await deliveries(running.localUrl, handler, count, maxMs, running, body);
        acked += result.acked;
        return result.latencies;
      };
      await deliveries(handler.url, handler, Math.ceil(perRun / 5), maxMs, null, body);
      await viaListener(Math.ceil(perRun / 5));
      out.note(`${perRun} requests per side and round, warm-up ${Math.ceil(perRun / 5)}`);
      for (let round = 0; round < ctx.rounds; round++) {
        const direct = (await deliveries(handler.url, handler, perRun, maxMs, null, body)).latencies;
        const via = await viaListener(perRun);
        const values = {
          directP50: percentile(direct, 50),
          directP99: percentile(direct, 99),
          viaP50: percentile(via, 50),
          viaP99: percentile(via, 99),
        };
        out.round({ ...values, addedP50: values.viaP50 - values.directP50, addedP99: values.viaP99 - values.directP99 });
        ctx.log(`  latency round ${round + 1}: direct p50 ${values.directP50.toFixed(2)} ms, via p50 ${values.viaP50.toFixed(2)} ms`);
      }
      await stopAndCountLost(running, acked, store.path, out, 10_000);
      listener = null;
    } finally {
      await listener?.stop();
      await handler.close();
      await store.cleanup();
    }
  },
};
