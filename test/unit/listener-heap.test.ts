import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { growthDecision } from '../../src/commands/listener-heap.js';

const MB = 1024 * 1024;
const HEAP_MODULE = fileURLToPath(new URL('../../src/commands/listener-heap.js', import.meta.url));

test('the young generation stops growing at its cap and may grow again once V8 has shrunk it', () => {
  assert.equal(growthDecision(2 * MB, false, 8 * MB), 'keep');
  assert.equal(growthDecision(8 * MB, false, 8 * MB), 'stop');
  assert.equal(growthDecision(16 * MB, false, 8 * MB), 'stop');
  assert.equal(growthDecision(8 * MB, true, 8 * MB), 'keep');
  assert.equal(growthDecision(4 * MB, true, 8 * MB), 'allow');
});

/**
 * Allocates garbage with some survivors (as a listener under load does) in a fresh process, with or
 * without the cap, and reports the young generation's size at the end.
 */
function youngGenerationAfterLoad(capped: boolean): Promise<number> {
  const script = `
    import { getHeapSpaceStatistics } from 'node:v8';
    ${capped ? `const { capYoungGeneration } = await import(${JSON.stringify(HEAP_MODULE)}); capYoungGeneration(4 * 1024 * 1024);` : ''}
    const kept = [];
    // Turns of the size a busy listener's are (a few hundred requests' garbage each)
    for (let turn = 0; turn < 2000; turn++) {
      for (let i = 0; i < 4000; i++) { const o = { i, s: 'x' + i, a: [i, i] }; if (i % 100 === 0) kept.push(o); }
      await new Promise((resolve) => setImmediate(resolve));
    }
    process.stdout.write(String(getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size));
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(Number(out)) : reject(new Error(`exit ${code}`))));
  });
}

test('capped, a busy process keeps its young generation at the cap; uncapped, V8 grows it past', async () => {
  const [uncapped, capped] = await Promise.all([youngGenerationAfterLoad(false), youngGenerationAfterLoad(true)]);
  // Without the cap this load makes V8 grow the young generation past 4 MB (which shows the load is enough)
  assert.ok(uncapped > 4 * MB, `uncapped young generation ${uncapped}`);
  // With it, growth stops at the first look past the cap: one doubling at most overshoots it
  assert.ok(capped <= 8 * MB, `capped young generation ${capped}`);
  assert.ok(capped < uncapped, `capped ${capped} vs uncapped ${uncapped}`);
});
