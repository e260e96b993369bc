import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runScenario, type BenchContext } from '../bench/harness.js';
import { runningChildren } from '../bench/processes.js';
import { SCENARIOS } from '../bench/scenarios/index.js';

// Runs every benchmark scenario once at tiny sizes so the harness cannot rot. No timing is asserted:
// only that each scenario produces its numbers, loses no event and stops what it started.
const ctx: BenchContext = { quick: true, rounds: 1, log: () => undefined, listenerNodeArgs: [] };

for (const scenario of SCENARIOS) {
  test(`bench scenario ${scenario.name} runs at tiny size`, { timeout: 180_000 }, async () => {
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
  });
}
