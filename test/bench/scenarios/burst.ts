import type { ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { countStoredEvents, eventually, KEEP_ALL, tempStore } from '../common.js';
import { startBenchHandler, type BenchHandler } from '../handler.js';
import { percentile, type Recorder, type Scenario, type BenchContext } from '../harness.js';
import { closedLoop, openLoop, type LoadResult } from '../load.js';
import { mftgPayload, PAYLOAD_HEADERS } from '../payload.js';
import { BIN, spawnTracked, startListener, stopChild } from '../processes.js';
import { HELP_MARKER, KEY_TIMEOUT_MS, LIST_MARKER, ptyAvailable, startUiListener, type UiListener } from '../pty.js';

const RATE = 500;

function burstSize(ctx: BenchContext): { count: number; seconds: number; warmUp: number } {
  return ctx.quick ? { count: 100, seconds: 0.2, warmUp: 20 } : { count: RATE * 10, seconds: 10, warmUp: 200 };
}

/**
 * A warm-up of a few hundred deliveries at a gentle rate (the first ones after start wait while V8
 * compiles the capture and forward paths), then the burst. Counts cover both; latencies only the
 * burst.
 */
async function burst(url: string, ctx: BenchContext, onBurstStart: () => void = () => undefined): Promise<LoadResult> {
  const { count, seconds, warmUp } = burstSize(ctx);
  const target = { url, body: mftgPayload(), headers: PAYLOAD_HEADERS };
  const first = await openLoop(target, { rate: RATE / 2, count: warmUp, maxMs: 10_000, connections: 32 });
  onBurstStart();
  const result = await openLoop(target, { rate: RATE, count, maxMs: seconds * 1000 + 2_000, connections: 32 });
  const failures = { ...first.failures };
  for (const [reason, times] of Object.entries(result.failures)) failures[reason] = (failures[reason] ?? 0) + times;
  return { ...result, sent: first.sent + result.sent, ok: first.ok + result.ok, failed: first.failed + result.failed, failures };
}

/**
 * Acknowledged deliveries missing from the place that lost most of them (printed output, handler,
 * store…), recorded as lost events; 0 when every place has them all.
 */
function missing(out: Recorder, acknowledged: number, seen: Record<string, number>, run: string): number {
  let worst = 0;
  for (const [place, count] of Object.entries(seen)) {
    if (acknowledged - count > 0) out.note(`${run}: ${acknowledged - count} of ${acknowledged} acknowledged deliveries not ${place}`);
    worst = Math.max(worst, acknowledged - count);
  }
  out.addLost(worst, `acknowledged deliveries (${run})`);
  return worst;
}

/** The plain printer (`listen --no-ui`, piped): every event and every forward must be printed. */
async function plainRun(ctx: BenchContext, out: Recorder, handler: BenchHandler): Promise<{ lost: number; p99: number; catchUpMs: number }> {
  const store = await tempStore();
  let child: ChildProcess | null = null;
  try {
    child = spawnTracked(process.execPath, [...ctx.listenerNodeArgs, BIN, 'listen', '--no-tunnel', '--no-ui', '--store', store.path, '--keep', KEEP_ALL, '--forward-to', handler.url], {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const running = child;
    let text = '';
    let events = 0;
    let forwardsOk = 0;
    let url: string | null = null;
    running.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
      const lines = text.split('\n');
      text = lines.pop()!;
      for (const line of lines) {
        if (url === null) url = /capturing at (http:\/\/\S+)/.exec(line)?.[1] ?? null;
        if (line.includes('  ←  ')) events++;
        else if (line.includes('→ forward 200')) forwardsOk++;
      }
    });
    running.stderr!.resume();
    if (!(await eventually(() => url !== null, 10_000))) throw new Error('listen --no-ui printed no capture URL');
    const handled = handler.received;
    const result = await burst(url!, ctx);
    const burstEnd = performance.now();
    await eventually(() => events >= result.ok && forwardsOk >= result.ok && handler.received - handled >= result.ok, 30_000);
    const catchUpMs = performance.now() - burstEnd;
    const code = await stopChild(running);
    child = null;
    if (code !== 0) out.note(`listen --no-ui exited ${code}`);
    const stored = await countStoredEvents(store.path);
    const lost = missing(out, result.ok, { printed: events, 'printed as forwarded': forwardsOk, 'received by the handler': handler.received - handled, stored }, 'plain printer run');
    if (result.failed > 0) out.note(`plain run: ${result.failed} deliveries not acknowledged: ${JSON.stringify(result.failures)}`);
    if (lost === 0) out.note(`plain printer: ${result.ok} of ${result.sent} deliveries (warm-up of ${burstSize(ctx).warmUp} at ${RATE / 2}/s included) acknowledged, printed, forwarded and stored`);
    return { lost, p99: percentile(result.latencies, 99), catchUpMs };
  } finally {
    if (child) await stopChild(child, 'SIGKILL');
    await store.cleanup();
  }
}

/**
 * The live UI in a pseudo-terminal during the burst: `?` opens the help screen and `?` closes it
 * again, over and over; each key is timed until the screen it asks for appears in the terminal.
 * A few pairs before the burst give the idle baseline.
 */
async function uiRun(ctx: BenchContext, out: Recorder, handler: BenchHandler): Promise<{ keys: number[]; idleKeys: number[]; lost: number; p99: number; rssMb: number } | null> {
  if (!ptyAvailable()) {
    out.note('live UI not measured: util-linux `script` is not available');
    return null;
  }
  const store = await tempStore();
  let ui: UiListener | null = null;
  try {
    const started = await startUiListener(['--no-tunnel', '--store', store.path, '--keep', KEEP_ALL, '--forward-to', handler.url], { nodeArgs: ctx.listenerNodeArgs });
    if ('why' in started) {
      out.note(`live UI not measured: ${started.why}`);
      return null;
    }
    ui = started;
    const running = started;
    const pair = async (keys: number[], pause: number): Promise<void> => {
      keys.push(await running.press('?', HELP_MARKER));
      await sleep(100);
      keys.push(await running.press('?', LIST_MARKER));
      await sleep(pause);
    };
    const idleKeys: number[] = [];
    for (let i = 0; i < (ctx.quick ? 1 : 5); i++) await pair(idleKeys, 100);
    const keys: number[] = [];
    const handled = handler.received;
    let bursting = false;
    let done = false;
    const sending = burst(running.localUrl, ctx, () => (bursting = true)).finally(() => (done = true));
    await eventually(() => bursting || done, 30_000);
    // One key pair per 400 ms while the burst runs (at least one pair in a tiny run).
    do await pair(keys, 300);
    while (!done);
    const result = await sending;
    // The header counts what the UI saw: it must reach every acknowledged delivery.
    const counted = await eventually(() => running.captured() >= result.ok, 30_000);
    await eventually(() => handler.received - handled >= result.ok, 30_000);
    const memory = await running.memory().catch(() => null);
    const code = await running.quit();
    ui = null;
    if (code !== 0) out.note(`live UI: q ended with ${String(code)} (expected exit code 0)`);
    const stored = await countStoredEvents(store.path);
    if (!counted) out.note(`live UI: the header counted ${running.captured()} of ${result.ok} acknowledged deliveries`);
    const lost = missing(out, result.ok, { 'counted by the UI header': running.captured(), 'received by the handler': handler.received - handled, stored }, 'live UI run');
    const unanswered = [...idleKeys, ...keys].filter((k) => !Number.isFinite(k)).length;
    if (unanswered > 0) out.note(`live UI: ${unanswered} of ${idleKeys.length + keys.length} keys not answered within ${KEY_TIMEOUT_MS} ms`);
    out.note(`live UI (100×30 pty): ${idleKeys.length} key presses before and ${keys.length} during the burst, ${result.ok} deliveries acknowledged`);
    const bounded = (list: number[]): number[] => list.map((k) => (Number.isFinite(k) ? k : KEY_TIMEOUT_MS));
    return { keys: bounded(keys), idleKeys: bounded(idleKeys), lost, p99: percentile(result.latencies, 99), rssMb: memory?.rssMb ?? Number.NaN };
  } finally {
    await ui?.quit();
    await store.cleanup();
  }
}

/** Deliveries of the as-fast-as-possible burst (the 40,000), and how many are sent at once. */
function fastBurstSize(ctx: BenchContext): { count: number; concurrency: number } {
  return { count: ctx.quick ? 300 : 40_000, concurrency: 32 };
}

/**
 * As fast as the listener acknowledges: `count` deliveries, 32 at a time, to `listen --json` (its
 * output read) or to the live UI in a pseudo-terminal, forwarded to an instant handler. The rate is
 * acknowledged deliveries per second; every one must then be counted by that face and be in the store.
 */
async function fastBurst(ctx: BenchContext, out: Recorder, handler: BenchHandler, face: 'json' | 'ui'): Promise<number> {
  const store = await tempStore();
  const args = ['--no-tunnel', '--store', store.path, '--keep', KEEP_ALL, '--forward-to', handler.url];
  const { count, concurrency } = fastBurstSize(ctx);
  const body = mftgPayload();
  try {
    if (face === 'json') {
      const listener = await startListener(args, { nodeArgs: ctx.listenerNodeArgs });
      try {
        const result = await closedLoop({ url: listener.localUrl, body, headers: PAYLOAD_HEADERS }, { concurrency, count, maxMs: 120_000 });
        await listener.waitFor((counts) => counts.event >= result.ok, 'every event record', 60_000).catch(() => undefined);
        missing(out, result.ok, { 'printed as event records': listener.counts.event, stored: await countStoredEvents(store.path) }, 'fast burst, --json');
        return result.throughput;
      } finally {
        await listener.stop();
      }
    }
    if (!ptyAvailable()) return Number.NaN;
    const started = await startUiListener(args, { nodeArgs: ctx.listenerNodeArgs });
    if ('why' in started) {
      out.note(`fast burst with the live UI not measured: ${started.why}`);
      return Number.NaN;
    }
    try {
      const result = await closedLoop({ url: started.localUrl, body, headers: PAYLOAD_HEADERS }, { concurrency, count, maxMs: 120_000 });
      await eventually(() => started.captured() >= result.ok, 60_000);
      missing(out, result.ok, { 'counted by the UI header': started.captured(), stored: await countStoredEvents(store.path) }, 'fast burst, live UI');
      return result.throughput;
    } finally {
      await started.quit();
    }
  } finally {
    await store.cleanup();
  }
}

/** 7. A burst of 500 deliveries per second for 10 s: nothing lost, keys still answered. */
export const burstScenario: Scenario = {
  name: 'burst',
  title: `a burst of ${RATE} events/s for 10 s: plain printer (piped) and the live UI in a pseudo-terminal; then 40,000 as fast as acked, --json and the live UI`,
  metrics: [
    { id: 'lost', label: 'events lost (plain printer and UI)', unit: 'events', target: { op: '<=', value: 0 } },
    { id: 'keyP50', label: 'UI key response p50', unit: 'ms' },
    { id: 'keyMax', label: 'UI key response max', unit: 'ms', target: { op: '<=', value: 100 } },
    { id: 'keyIdleP50', label: 'UI key response p50, idle (baseline)', unit: 'ms' },
    { id: 'ackP99Plain', label: 'ack p99 during the burst (plain)', unit: 'ms' },
    { id: 'ackP99Ui', label: 'ack p99 during the burst (UI)', unit: 'ms' },
    { id: 'uiRss', label: 'UI listener RSS after the burst', unit: 'MB' },
    { id: 'catchUp', label: 'plain: last ack → all printed and forwarded', unit: 'ms' },
    { id: 'fastUiRatio', label: 'as fast as acked (40,000): live UI / --json', unit: 'x', target: { op: '>=', value: 0.8 } },
    { id: 'fastJson', label: 'as fast as acked: --json (baseline)', unit: 'req/s' },
    { id: 'fastUi', label: 'as fast as acked: live UI', unit: 'req/s' },
  ],
  async run(ctx, out) {
    const handler = await startBenchHandler();
    try {
      const rounds = ctx.quick ? 1 : Math.min(ctx.rounds, 3);
      for (let round = 0; round < rounds; round++) {
        const plain = await plainRun(ctx, out, handler);
        const ui = await uiRun(ctx, out, handler);
        const fastJson = await fastBurst(ctx, out, handler, 'json');
        const fastUi = await fastBurst(ctx, out, handler, 'ui');
        out.round({
          fastJson,
          fastUi,
          fastUiRatio: fastUi / fastJson,
          lost: plain.lost + (ui?.lost ?? 0),
          keyP50: ui ? percentile(ui.keys, 50) : Number.NaN,
          keyMax: ui ? Math.max(...ui.keys) : Number.NaN,
          keyIdleP50: ui ? percentile(ui.idleKeys, 50) : Number.NaN,
          ackP99Plain: plain.p99,
          ackP99Ui: ui?.p99 ?? Number.NaN,
          uiRss: ui?.rssMb ?? Number.NaN,
          catchUp: plain.catchUpMs,
        });
        ctx.log(`  burst round ${round + 1}: lost ${plain.lost + (ui?.lost ?? 0)}, key max ${ui ? Math.max(...ui.keys).toFixed(0) : '–'} ms`);
      }
    } finally {
      await handler.close();
    }
  },
};
