import { once } from 'node:events';
import { KEEP_ALL, tempStore } from '../common.js';
import type { Scenario } from '../harness.js';
import { closedLoop } from '../load.js';
import { mftgPayload, PAYLOAD_HEADERS } from '../payload.js';
import { BIN, memoryOf, spawnTracked, stopChild } from '../processes.js';

/**
 * `listen --json` whose stdout nobody reads: RSS after the events arrived unread, then, once the
 * reader resumes, every event record must come, in order, once. The baseline is the same run with
 * stdout read all along.
 */
export const backpressureScenario: Scenario = {
  name: 'backpressure',
  title: '--json with stdout unread while events arrive, then read: memory, and every record in order',
  metrics: [
    { id: 'stalledRss', label: '--json RSS, stdout unread', unit: 'MB', target: { op: '<=', value: 150 } },
    { id: 'readRss', label: '--json RSS, stdout read (baseline)', unit: 'MB' },
    { id: 'stalledPeak', label: '--json peak RSS, unread then read back', unit: 'MB' },
    { id: 'catchUpMs', label: 'reader resumes → every record read', unit: 'ms' },
    { id: 'notRepeated', label: 'events not read back (counted in a warning)', unit: 'events' },
  ],
  async run(ctx, out) {
    const events = ctx.quick ? 2_000 : 500_000;
    const rounds = ctx.quick ? 1 : Math.min(ctx.rounds, 2);
    const body = mftgPayload();
    out.note(`${events} events per run; --keep ${KEEP_ALL} so that every record can be read back`);
    for (let round = 0; round < rounds; round++) {
      const values: Record<string, number> = {};
      for (const stalled of [true, false]) {
        const store = await tempStore();
        const child = spawnTracked(process.execPath, [...ctx.listenerNodeArgs, BIN, 'listen', '--json', '--no-tunnel', '--store', store.path, '--keep', KEEP_ALL], {
          stdio: ['ignore', 'pipe', 'inherit'],
          env: { ...process.env, NO_COLOR: '1' },
        });
        try {
          const stdout = child.stdout!;
          stdout.setEncoding('utf8');
          let text = '';
          let localUrl: string | null = null;
          const ids: string[] = [];
          let notRepeated = 0;
          const readLines = (chunk: string): void => {
            text += chunk;
            let newline: number;
            while ((newline = text.indexOf('\n')) >= 0) {
              const line = text.slice(0, newline);
              text = text.slice(newline + 1);
              if (line.startsWith('{"type":"ready"')) localUrl = (JSON.parse(line) as { localUrl: string }).localUrl;
              else if (line.startsWith('{"type":"event"')) ids.push((JSON.parse(line) as { id: string }).id);
              else if (line.startsWith('{"type":"warning"')) notRepeated += Number(/the oldest (\d+) events? of that time are not repeated/.exec(line)?.[1] ?? 0);
            }
          };
          stdout.on('data', readLines);
          while (localUrl === null) await once(stdout, 'data');
          // Nobody reads: the pipe fills, then the listener's writes would queue.
          if (stalled) stdout.pause();
          const result = await closedLoop({ url: localUrl, body, headers: PAYLOAD_HEADERS }, { concurrency: 16, count: events, maxMs: 900_000 });
          out.addLost(result.sent - result.ok, 'deliveries not acknowledged');
          await new Promise((resolve) => setTimeout(resolve, 500));
          const memory = await memoryOf(child.pid!);
          const resumedAt = performance.now();
          if (stalled) stdout.resume();
          const deadline = Date.now() + 600_000;
          while (ids.length + notRepeated < result.ok && Date.now() < deadline) await once(stdout, 'data');
          const caughtUpMs = performance.now() - resumedAt;
          out.addLost(result.ok - ids.length - notRepeated, `event records neither written nor counted (${stalled ? 'stalled' : 'read'} run)`);
          const inOrder = ids.every((id, i) => i === 0 || ids[i - 1]! < id);
          if (!inOrder || new Set(ids).size !== ids.length) out.note(`FAILED: event records out of order or repeated (${stalled ? 'stalled' : 'read'} run)`);
          if (stalled) {
            values.stalledRss = memory.rssMb;
            // The catch-up reads what was missed from the store: its peak counts too.
            values.stalledPeak = (await memoryOf(child.pid!)).peakMb;
            values.catchUpMs = caughtUpMs;
            values.notRepeated = notRepeated;
          } else values.readRss = memory.rssMb;
        } finally {
          await stopChild(child);
          await store.cleanup();
        }
      }
      out.round(values);
    }
  },
};
