import { countStoredEvents, cpuTimeMs, KEEP_ALL, pinForThroughput, tempStore } from '../common.js';
import { percentile, type Scenario } from '../harness.js';
import { closedLoop, type LoadResult, type LoadTarget } from '../load.js';
import { mftgPayload, PAYLOAD_HEADERS } from '../payload.js';
import { startBenchChild, startListener } from '../processes.js';

/** Requests on the wire at any time (one per keep-alive connection). */
export const CAPTURE_CONCURRENCY = 16;

/**
 * 1. Capture throughput: `listen --no-tunnel --json` (every request written to the store before the
 * 200) against a bare node:http server answering 200, same client, same payload, same CPU. Each
 * round runs bare, capture, bare (and compares capture with the mean of the two bare runs, so a
 * machine that gets busier or quieter during the round does not tilt the ratio).
 */
export const captureScenario: Scenario = {
  name: 'capture',
  title: `capture throughput vs a bare node:http server (${CAPTURE_CONCURRENCY} concurrent, ~2 KiB MFTG payload)`,
  metrics: [
    // at least 0.75× the bare server's throughput, at most 1.33× its CPU per request.
    { id: 'ratio', label: 'throughput capture / bare', unit: 'x', target: { op: '>=', value: 0.75 } },
    { id: 'cpuRatio', label: 'CPU per request capture / bare', unit: 'x', target: { op: '<=', value: 1.33 } },
    { id: 'capture', label: 'capture (listen --json)', unit: 'req/s' },
    { id: 'bare', label: 'bare node:http', unit: 'req/s' },
    { id: 'captureCpu', label: 'listener CPU per request', unit: 'µs' },
    { id: 'bareCpu', label: 'bare server CPU per request', unit: 'µs' },
    { id: 'captureP99', label: 'capture ack p99 under load', unit: 'ms' },
  ],
  async run(ctx, out) {
    const runMs = ctx.quick ? 300 : 2_000;
    const maxRequests = ctx.quick ? 100 : 200_000;
    const body = mftgPayload();
    const store = await tempStore();
    const pinning = pinForThroughput();
    out.note(pinning ? 'load generator pinned to the first CPU, both servers to the last one (taskset)' : 'no CPU pinning (taskset or a second CPU missing)');
    out.note(`${runMs} ms per run, runs of a round: bare, capture, bare`);
    let bare: Awaited<ReturnType<typeof startBenchChild>> | null = null;
    let listener: Awaited<ReturnType<typeof startListener>> | null = null;
    try {
      bare = await startBenchChild('bare', [], pinning ? { prefix: pinning.serverPrefix } : {});
      listener = await startListener(['--no-tunnel', '--store', store.path, '--keep', KEEP_ALL], { nodeArgs: ctx.listenerNodeArgs, ...(pinning ? { prefix: pinning.serverPrefix } : {}) });
      const bareTarget: LoadTarget = { url: `http://127.0.0.1:${String(bare.info.port)}/webhooks/mftg`, body, headers: PAYLOAD_HEADERS };
      const captureTarget: LoadTarget = { url: listener.localUrl, body, headers: PAYLOAD_HEADERS };
      let acked = 0;
      const measure = async (target: LoadTarget, pid: number, ms: number): Promise<LoadResult & { cpuPerRequestUs: number }> => {
        const cpuBefore = await cpuTimeMs(pid);
        const result = await closedLoop(target, { concurrency: CAPTURE_CONCURRENCY, count: maxRequests, maxMs: ms });
        const cpu = (await cpuTimeMs(pid)) - cpuBefore;
        if (target === captureTarget) acked += result.ok;
        if (result.failed > 0) out.note(`${result.failed} requests failed: ${JSON.stringify(result.failures)}`);
        return { ...result, cpuPerRequestUs: (cpu * 1000) / Math.max(1, result.ok) };
      };
      // Warm-up: both servers and the client get their JIT and connections ready (--quick measures nothing, so it skips it).
      if (!ctx.quick) {
        await measure(bareTarget, bare.child.pid!, runMs / 2);
        await measure(captureTarget, listener.pid, runMs / 2);
      }
      for (let round = 0; round < ctx.rounds; round++) {
        const before = await measure(bareTarget, bare.child.pid!, runMs);
        const capture = await measure(captureTarget, listener.pid, runMs);
        const after = await measure(bareTarget, bare.child.pid!, runMs);
        const bareThroughput = (before.throughput + after.throughput) / 2;
        const bareCpu = (before.cpuPerRequestUs + after.cpuPerRequestUs) / 2;
        out.round({
          ratio: capture.throughput / bareThroughput,
          cpuRatio: capture.cpuPerRequestUs / bareCpu,
          capture: capture.throughput,
          bare: bareThroughput,
          captureCpu: capture.cpuPerRequestUs,
          bareCpu,
          captureP99: percentile(capture.latencies, 99),
        });
        ctx.log(`  capture round ${round + 1}: ${Math.round(capture.throughput)}/s vs bare ${Math.round(bareThroughput)}/s`);
      }
      // Every 200 must be in the listener's output and in the store.
      const running = listener;
      await running.waitFor((counts) => counts.event >= acked, `${acked} event records`, 10_000).catch(() => undefined);
      out.addLost(acked - running.counts.event, 'acknowledged events missing from the --json output');
      await running.stop();
      listener = null;
      out.addLost(acked - (await countStoredEvents(store.path)), 'acknowledged events missing from the store');
      out.note(`${acked} events captured and verified in the store`);
    } finally {
      pinning?.release();
      await listener?.stop();
      await bare?.stop();
      await store.cleanup();
    }
  },
};
