import { KEEP_ALL, tempStore } from '../common.js';
import type { Scenario } from '../harness.js';
import { closedLoop } from '../load.js';
import { mftgPayload, PAYLOAD_HEADERS } from '../payload.js';
import { memoryOf, startListener } from '../processes.js';
import { ptyAvailable, startUiListener } from '../pty.js';

/** Event counts at which the listeners' memory is read (quick: tiny stand-ins, one per step). */
const STEPS = [1_000, 5_000, 10_000, 50_000];
const QUICK_STEPS = [50, 100, 150, 200];

const settle = (quick: boolean): Promise<void> => new Promise((resolve) => setTimeout(resolve, quick ? 0 : 500));

/**
 * The live UI's memory as events accumulate (it keeps the newest 5,000 rows), side by side with
 * `listen --json` fed the same deliveries: RSS when idle and after 1k, 5k, 10k and 50k events.
 */
export const uiMemoryScenario: Scenario = {
  name: 'ui-memory',
  title: 'listener memory as events accumulate: live UI (pty) vs --json, idle and at 1k / 5k / 10k / 50k events',
  metrics: [
    { id: 'uiIdle', label: 'live UI RSS, idle', unit: 'MB' },
    ...STEPS.map((n) => ({ id: `ui${n}`, label: `live UI RSS at ${n / 1000}k events`, unit: 'MB' as const, ...(n >= 5_000 ? { target: { op: '<=' as const, value: 120 } } : {}) })),
    { id: 'jsonIdle', label: '--json RSS, idle (baseline)', unit: 'MB' },
    ...STEPS.map((n) => ({ id: `json${n}`, label: `--json RSS at ${n / 1000}k events (baseline)`, unit: 'MB' as const })),
  ],
  async run(ctx, out) {
    if (!ptyAvailable()) {
      out.note('not measured: util-linux `script` is not available');
      return;
    }
    const steps = ctx.quick ? QUICK_STEPS : STEPS;
    const rounds = ctx.quick ? 1 : Math.min(ctx.rounds, 3);
    const body = mftgPayload();
    for (let round = 0; round < rounds; round++) {
      const values: Record<string, number> = {};
      for (const face of ['ui', 'json'] as const) {
        const store = await tempStore();
        try {
          const args = ['--no-tunnel', '--store', store.path, '--keep', KEEP_ALL];
          let url: string;
          let memory: () => Promise<{ rssMb: number }>;
          let stop: () => Promise<number | null>;
          if (face === 'ui') {
            const ui = await startUiListener(args, { nodeArgs: ctx.listenerNodeArgs });
            if ('why' in ui) throw new Error(`live UI: ${ui.why}`);
            url = ui.localUrl;
            memory = () => ui.memory();
            stop = () => ui.quit();
          } else {
            const listener = await startListener(args, { nodeArgs: ctx.listenerNodeArgs });
            url = listener.localUrl;
            memory = () => memoryOf(listener.pid);
            stop = () => listener.stop();
          }
          try {
            await settle(ctx.quick);
            values[`${face}Idle`] = (await memory()).rssMb;
            let sent = 0;
            for (const [i, step] of steps.entries()) {
              const result = await closedLoop({ url, body, headers: PAYLOAD_HEADERS }, { concurrency: 16, count: step - sent, maxMs: 300_000 });
              out.addLost(result.sent - result.ok, `deliveries not acknowledged by the ${face} listener`);
              sent = step;
              await settle(ctx.quick);
              values[`${face}${STEPS[i]!}`] = (await memory()).rssMb;
            }
          } finally {
            await stop();
          }
        } finally {
          await store.cleanup();
        }
      }
      out.round(values);
    }
    if (ctx.quick) out.note(`--quick: ${QUICK_STEPS.join(', ')} events stand for ${STEPS.join(', ')}`);
  },
};
