import { performance } from 'node:perf_hooks';
import { newId } from '../../../src/core/ids.js';
import { summarize } from '../../../src/core/mftg.js';
import { EventStore } from '../../../src/core/store/store.js';
import type { CapturedEvent, ForwardAttempt } from '../../../src/core/types.js';
import { countStoredEvents, tempStore } from '../common.js';
import type { Scenario } from '../harness.js';
import { mftgPayload } from '../payload.js';
import { memoryOf, runCli, startListener } from '../processes.js';
import { ptyAvailable, startUiListener } from '../pty.js';

/** Events appended per group commit while building (a segment holds about 1,000). */
const BUILD_BATCH = 100;
/** Distinct payloads cycled through (fresh message ids and attachment paths in each). */
const PAYLOAD_VARIANTS = 256;

/**
 * Writes `count` events as the listener would (same frames, one successful forward attempt each),
 * straight through EventStore: no HTTP, group commits of BUILD_BATCH events.
 */
export async function buildStore(dir: string, count: number): Promise<{ ms: number; bytes: number }> {
  const started = performance.now();
  const store = await EventStore.open(dir, { keep: count });
  await store.openForWriting();
  const bodies = Array.from({ length: PAYLOAD_VARIANTS }, (_, i) => mftgPayload(i));
  const summaries = bodies.map((body) => summarize(body));
  const response = Buffer.from('ok');
  // Events 10 ms apart, ending now: ids sort in arrival order and stay older than the listener's.
  const firstAt = Date.now() - count * 10;
  let bytes = 0;
  for (let i = 0; i < count; i += BUILD_BATCH) {
    const writes: Array<Promise<void>> = [];
    for (let j = i; j < Math.min(count, i + BUILD_BATCH); j++) {
      const at = firstAt + j * 10;
      const body = bodies[j % PAYLOAD_VARIANTS]!;
      const event: CapturedEvent = {
        id: newId(at),
        receivedAt: new Date(at).toISOString(),
        method: 'POST',
        path: '/',
        headers: [
          ['Host', 'benchstore.loca.lt'],
          ['Content-Type', 'application/json; charset=utf-8'],
          ['Content-Length', String(body.length)],
          ['X-Forwarded-For', '203.0.113.7'],
        ],
        remoteAddress: '127.0.0.1',
        size: body.length,
        mftg: summaries[j % PAYLOAD_VARIANTS]!,
      };
      const attempt: ForwardAttempt = {
        id: newId(at + 5),
        eventId: event.id,
        kind: 'forward',
        target: 'http://localhost:3000/webhooks/mftg',
        startedAt: new Date(at + 1).toISOString(),
        status: 200,
        error: null,
        durationMs: 4.2,
        responseHeaders: [
          ['content-type', 'text/plain'],
          ['content-length', '2'],
        ],
        responseSize: 2,
        modified: false,
      };
      writes.push(store.appendEvent(event, body), store.appendAttempt(attempt, response));
      bytes += body.length;
    }
    await Promise.all(writes);
  }
  await store.close();
  return { ms: performance.now() - started, bytes };
}

/**
 * 6. A store holding 100,000 events (the size `--keep 100000` allows): `events list --limit 50`,
 * listener start to `ready`, and the listener's memory.
 */
export const storeScenario: Scenario = {
  name: 'store',
  title: 'a store of 100,000 events: events list, listener start and memory (--json and live UI)',
  metrics: [
    { id: 'list', label: 'events list --limit 50', unit: 'ms', target: { op: '<=', value: 300 } },
    { id: 'listJson', label: 'events list --limit 50 --json', unit: 'ms' },
    { id: 'showOldest', label: 'events show <oldest id>', unit: 'ms', target: { op: '<=', value: 300 } },
    { id: 'showNewest', label: 'events show <newest id>', unit: 'ms', target: { op: '<=', value: 300 } },
    { id: 'ready', label: 'listen start → ready record', unit: 'ms', target: { op: '<=', value: 500 } },
    { id: 'rss', label: 'listener RSS after start', unit: 'MB', target: { op: '<=', value: 150 } },
    { id: 'peak', label: 'listener peak RSS', unit: 'MB' },
    { id: 'uiReady', label: 'live UI: start → capture URL on screen', unit: 'ms' },
    { id: 'uiHistory', label: 'live UI: start → newest 5,000 listed', unit: 'ms' },
    { id: 'uiRss', label: 'live UI listener RSS', unit: 'MB' },
    { id: 'emptyList', label: 'events list, empty store (baseline)', unit: 'ms' },
    { id: 'emptyShow', label: 'events show <unknown id>, empty store (baseline)', unit: 'ms' },
    { id: 'emptyReady', label: 'listen start, empty store (baseline)', unit: 'ms' },
    { id: 'emptyUiReady', label: 'live UI start, empty store (baseline)', unit: 'ms' },
    { id: 'emptyUiRss', label: 'live UI RSS, empty store (baseline)', unit: 'MB' },
  ],
  async run(ctx, out) {
    const count = ctx.quick ? 300 : 100_000;
    const rounds = ctx.quick ? 1 : ctx.rounds;
    const store = await tempStore();
    const empty = await tempStore();
    try {
      const built = await buildStore(store.path, count);
      const stored = await countStoredEvents(store.path);
      if (stored !== count) throw new Error(`the store holds ${stored} events, expected ${count}`);
      out.note(`${count} events (${Math.round(built.bytes / 1024 / 1024)} MiB of bodies, one attempt each) written in ${(built.ms / 1000).toFixed(1)} s through EventStore`);
      const withUi = ptyAvailable();
      if (!withUi) out.note('live UI not measured: util-linux `script` is not available');
      const measureUi = async (dir: string, events: number): Promise<{ uiReady: number; uiHistory: number; uiRss: number }> => {
        if (!withUi) return { uiReady: Number.NaN, uiHistory: Number.NaN, uiRss: Number.NaN };
        const ui = await startUiListener(['--no-tunnel', '--store', dir, '--keep', String(count)], { nodeArgs: ctx.listenerNodeArgs });
        if ('why' in ui) throw new Error(`live UI: ${ui.why}`);
        try {
          // The list reads the newest MAX_ROWS (5,000) events from the store after the URL is shown.
          const listed = Math.min(events, 5_000);
          const historyAt = listed === 0 ? ui.startedAt + ui.readyMs : await ui.waitForText(new RegExp(`\\b${listed} events\\b`), 30_000).catch(() => Number.NaN);
          await new Promise((resolve) => setTimeout(resolve, ctx.quick ? 0 : 500));
          const memory = await ui.memory();
          return { uiReady: ui.readyMs, uiHistory: historyAt - ui.startedAt, uiRss: memory.rssMb };
        } finally {
          const code = await ui.quit();
          if (code !== 0) out.note(`live UI: q ended with ${String(code)}`);
        }
      };
      // The oldest and newest ids, read once: `show` of each is timed in every round.
      const ids = (await runCli(['events', 'list', '--limit', String(count), '--json', '--store', store.path], { timeoutMs: 120_000 })).stdout.split('\n').filter(Boolean);
      const idOf = (line: string | undefined): string => (JSON.parse(line ?? '{}') as { id?: string }).id ?? '0';
      const oldestId = idOf(ids[0]);
      const newestId = idOf(ids[ids.length - 1]);
      const show = async (dir: string, id: string, expected: number): Promise<number> => {
        const shown = await runCli(['events', 'show', id, '--store', dir]);
        if (shown.code !== expected) throw new Error(`events show ${id} exited ${String(shown.code)}: ${shown.stderr}`);
        return shown.wallMs;
      };
      const measure = async (
        dir: string,
        events: number,
      ): Promise<{ showOldest: number; showNewest: number; list: number; listJson: number; ready: number; rss: number; peak: number; uiReady: number; uiHistory: number; uiRss: number }> => {
        const showOldest = await show(dir, oldestId, events > 0 ? 0 : 1);
        const showNewest = await show(dir, newestId, events > 0 ? 0 : 1);
        const list = await runCli(['events', 'list', '--limit', '50', '--store', dir]);
        const listJson = await runCli(['events', 'list', '--limit', '50', '--json', '--store', dir]);
        if (list.code !== 0 || listJson.code !== 0) throw new Error(`events list failed: ${list.stderr}${listJson.stderr}`);
        const lines = listJson.stdout.split('\n').filter(Boolean).length;
        if (lines !== Math.min(events, 50)) throw new Error(`events list --json printed ${lines} events`);
        const listener = await startListener(['--no-tunnel', '--store', dir, '--keep', String(count)], { nodeArgs: ctx.listenerNodeArgs });
        // Memory once the listener settled: its first follow polls ran and nothing arrives.
        await new Promise((resolve) => setTimeout(resolve, ctx.quick ? 0 : 500));
        const memory = await memoryOf(listener.pid);
        const code = await listener.stop();
        if (code !== 0) throw new Error(`listen exited ${code}`);
        return { showOldest, showNewest, list: list.wallMs, listJson: listJson.wallMs, ready: listener.readyMs, rss: memory.rssMb, peak: memory.peakMb, ...(await measureUi(dir, events)) };
      };
      if (!ctx.quick) {
        await measure(store.path, count);
        await measure(empty.path, 0);
      }
      for (let round = 0; round < rounds; round++) {
        const full = await measure(store.path, count);
        const baseline = await measure(empty.path, 0);
        out.round({ ...full, emptyList: baseline.list, emptyShow: baseline.showOldest, emptyReady: baseline.ready, emptyUiReady: baseline.uiReady, emptyUiRss: baseline.uiRss });
      }
      // The listener must not have dropped anything from the store it started on.
      out.addLost(count - (await countStoredEvents(store.path)), 'stored events gone after the listener ran');
    } finally {
      await store.cleanup();
      await empty.cleanup();
    }
  },
};
