import { startMockMftgApi } from '../../helpers/mock-mftg-api.js';
import { tempStore } from '../common.js';
import type { Scenario } from '../harness.js';
import { runCli } from '../processes.js';

/** The API's answer time in the reconcile target's figure. */
const API_LATENCY_MS = 20;

/**
 * `reconcile` of 1,000 received messages that never reached the store, against the mock MFTG API on
 * loopback answering every request after 20 ms: list (10 pages of 100), retrieve each message (4 in
 * flight), store each as an event. No listener runs and no handler is set, so the figure is the API
 * round trips and the store, not a handler.
 */
export const reconcileScenario: Scenario = {
  name: 'reconcile',
  title: `reconcile of 1,000 missed messages, mock MFTG API answering in ${API_LATENCY_MS} ms`,
  metrics: [
    { id: 'wall', label: 'reconcile of every message (spawn to exit)', unit: 'ms', target: { op: '<=', value: 10_000 } },
    { id: 'inFlight', label: 'most API requests in flight at once', unit: 'events', target: { op: '<=', value: 4 } },
  ],
  async run(ctx, out) {
    const messages = ctx.quick ? 20 : 1_000;
    const rounds = ctx.quick ? 1 : ctx.rounds;
    const once = async (record: boolean): Promise<void> => {
      const store = await tempStore();
      const api = await startMockMftgApi({ seed: false, latencyMs: API_LATENCY_MS });
      try {
        const now = Date.now();
        for (let i = 0; i < messages; i++) {
          api.addMessage('received', {
            as2MessageId: `<bench-${i}.${now}@as2.partner.example>`,
            timestamp: now - 10 * 60_000 - i * 1_000,
            senderAS2Id: 'PARTNER-AS2',
            receiverAS2Id: 'ACME-AS2',
            subject: `PO ${i}`,
          });
        }
        const env = { MFTG_HOOKS_HOME: store.path, MFTG_API_USERNAME: api.username, MFTG_API_PASSWORD: api.password, MFTG_API_TOKEN: '', MFTG_HOOKS_API_URL: api.url };
        const result = await runCli(['reconcile', '--json', '--since', '2h', '--types', 'received'], { env, timeoutMs: 120_000 });
        if (result.code !== 0) throw new Error(`reconcile exited ${result.code}: ${result.stderr}`);
        const summary = JSON.parse(result.stdout.trim().split('\n').pop()!) as { recovered: string[] };
        out.lost += messages - summary.recovered.length;
        if (record) out.round({ wall: result.wallMs, inFlight: api.maxInFlight });
      } finally {
        await api.close();
        await store.cleanup();
      }
    };
    // Warm-up: the disk cache and the module cache of the first spawn.
    await once(false);
    for (let round = 0; round < rounds; round++) await once(true);
    out.note(`${messages} messages in the inbox, none captured yet; ${Math.ceil(messages / 100)} list pages and one retrieval per message; a fresh store each round`);
  },
};
