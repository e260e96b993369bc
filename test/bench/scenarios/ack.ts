import { KEEP_ALL, tempStore } from '../common.js';
import { startBenchHandler } from '../handler.js';
import { percentile, type Scenario } from '../harness.js';
import { openLoop } from '../load.js';
import { mftgPayload, PAYLOAD_HEADERS } from '../payload.js';
import { startBenchChild, startListener, stopAndCountLost, type Listener } from '../processes.js';

/**
 * 3. Ack latency (what MFTG waits for) while the handler takes 2 s per request, so hundreds of
 * forwards are on the wire: a steady stream of deliveries, each timed until its 200. The baseline is
 * a bare node:http server under the same stream.
 */
export const ackScenario: Scenario = {
  name: 'ack',
  title: 'ack latency while the handler takes 2 s per request (steady stream, open loop)',
  metrics: [
    { id: 'p50', label: 'ack p50 (slow handler)', unit: 'ms' },
    { id: 'p99', label: 'ack p99 (slow handler)', unit: 'ms', target: { op: '<=', value: 5 } },
    { id: 'max', label: 'ack max (slow handler)', unit: 'ms' },
    { id: 'bareP50', label: 'bare node:http p50', unit: 'ms' },
    { id: 'bareP99', label: 'bare node:http p99', unit: 'ms' },
  ],
  async run(ctx, out) {
    const handlerDelayMs = ctx.quick ? 200 : 2_000;
    const rate = ctx.quick ? 50 : 100;
    const count = ctx.quick ? 20 : 600;
    const body = mftgPayload();
    const store = await tempStore();
    const handler = await startBenchHandler({ delayMs: handlerDelayMs });
    let listener: Listener | null = null;
    let bare: Awaited<ReturnType<typeof startBenchChild>> | null = null;
    let acked = 0;
    try {
      bare = await startBenchChild('bare', []);
      listener = await startListener(['--no-tunnel', '--store', store.path, '--keep', KEEP_ALL, '--forward-to', handler.url], { nodeArgs: ctx.listenerNodeArgs });
      const running = listener;
      const bareUrl = `http://127.0.0.1:${String(bare.info.port)}/webhooks/mftg`;
      out.note(`${count} deliveries per round at ${rate}/s (about ${Math.round((rate * handlerDelayMs) / 1000)} forwards waiting on the handler at any time)`);
      await openLoop({ url: bareUrl, body, headers: PAYLOAD_HEADERS }, { rate, count: Math.ceil(count / 5), maxMs: 10_000 });
      // The warm-up through the listener is answered by the slow handler too: it counts for lost events.
      acked += (await openLoop({ url: running.localUrl, body, headers: PAYLOAD_HEADERS }, { rate, count: Math.ceil(count / 5), maxMs: 10_000 })).ok;
      for (let round = 0; round < ctx.rounds; round++) {
        const baseline = await openLoop({ url: bareUrl, body, headers: PAYLOAD_HEADERS }, { rate, count, maxMs: 30_000 });
        const result = await openLoop({ url: running.localUrl, body, headers: PAYLOAD_HEADERS }, { rate, count, maxMs: 30_000 });
        acked += result.ok;
        if (result.failed > 0) out.note(`${result.failed} deliveries failed: ${JSON.stringify(result.failures)}`);
        out.round({
          p50: percentile(result.latencies, 50),
          p99: percentile(result.latencies, 99),
          max: Math.max(...result.latencies),
          bareP50: percentile(baseline.latencies, 50),
          bareP99: percentile(baseline.latencies, 99),
        });
        ctx.log(`  ack round ${round + 1}: p99 ${percentile(result.latencies, 99).toFixed(2)} ms, ${acked - running.counts.attempt} forwards waiting on the handler at the end`);
      }
      // Every acknowledged delivery must reach the handler once it answers.
      await stopAndCountLost(running, acked, store.path, out, handlerDelayMs + 20_000);
      listener = null;
    } finally {
      await listener?.stop();
      await bare?.stop();
      await handler.close();
      await store.cleanup();
    }
  },
};
