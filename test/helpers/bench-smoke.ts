import assert from 'node:assert/strict';
import { runScenario, type BenchContext } from '../bench/harness.js';
import { runningChildren } from '../bench/processes.js';
import { SCENARIOS } from '../bench/scenarios/index.js';

/**
 * The bench smoke test runs every benchmark scenario once at tiny sizes so the harness cannot rot,
 * split over a few test files (one per group below) so they run beside the rest of the suite. The
 * groups are balanced by how long each scenario takes at quick size.
 */
export const SMOKE_GROUPS = {
  load: ['capture', 'latency', 'ack', 'tunnel', 'startup', 'reconcile'],
  store: ['store', 'export'],
  live: ['burst', 'ui-memory', 'backpressure'],
  web: ['web'],
  'first-run': ['first-run'],
} as const satisfies Record<string, readonly string[]>;

const ctx: BenchContext = { quick: true, rounds: 1, log: () => undefined, listenerNodeArgs: [] };

/** Options of each scenario's test. */
export const SMOKE_TEST_OPTIONS = { timeout: 180_000 };

/**
 * The body of the test of scenario `name` (each test file calls `test()` itself, so the runner
 * reports the test under that file). No timing is asserted: only that the scenario produces its
 * numbers, loses no event and stops what it started.
 */
export function smokeScenario(name: string): () => Promise<void> {
  return async () => {
    const scenario = SCENARIOS.find((s) => s.name === name);
    assert.ok(scenario, `no bench scenario named ${name}`);
    // When the scenario runs once
    const report = await runScenario(scenario, ctx);
    // Then it finished, produced a number for every metric (or said why not) and lost nothing
    assert.equal(report.error, null, report.notes.join('\n'));
    assert.equal(report.rounds, 1);
    const unmeasured = report.notes.some((note) => note.includes('not measured'));
    for (const metric of report.metrics) {
      if (!Number.isFinite(metric.median)) assert.ok(unmeasured && /\bUI\b/.test(metric.label), `${scenario.name}: no value for ${metric.label}; notes: ${report.notes.join(' | ')}`);
    }
    assert.equal(report.lost, 0, report.notes.join('\n'));
    // And every process it started is gone
    assert.equal(runningChildren(), 0, 'processes left running');
  };
}

/** Every scenario is in exactly one group: a new scenario cannot slip out of the smoke test. */
export function groupsCoverEveryScenario(): void {
  const grouped = Object.values(SMOKE_GROUPS).flat();
  assert.deepEqual([...grouped].sort(), SCENARIOS.map((s) => s.name).sort());
}
