import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { mayGrow } from '../../src/commands/listener-heap.js';

const MB = 1024 * 1024;
const HEAP_MODULE = fileURLToPath(new URL('../../src/commands/listener-heap.js', import.meta.url));

test('the young generation may grow while one more doubling stays within the cap (also again once V8 has shrunk it)', () => {
  assert.equal(mayGrow(1 * MB, 8 * MB), true);
  assert.equal(mayGrow(4 * MB, 8 * MB), true);
  assert.equal(mayGrow(8 * MB, 8 * MB), false);
  assert.equal(mayGrow(16 * MB, 8 * MB), false);
});

/**
 * Allocates garbage with some survivors (as a listener under load does) in a fresh process, with or
 * without the cap, and reports the young generation's size at the end.
 */
function youngGenerationAfterLoad(capped: boolean): Promise<number> {
  const script = `
    import { getHeapSpaceStatistics } from 'node:v8';
    import { Worker } from 'node:worker_threads';
    ${capped ? `const { capYoungGeneration } = await import(${JSON.stringify(HEAP_MODULE)}); capYoungGeneration(4 * 1024 * 1024);` : ''}
    // A worker started after the cap, as the live UI's is (starting one sets V8's flags again)
    const worker = new Worker('setTimeout(() => {}, 100)', { eval: true });
    await new Promise((resolve) => worker.once('online', resolve));
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
  // With it, growth stops at the cap
  assert.ok(capped <= 4 * MB, `capped young generation ${capped}`);
  assert.ok(capped < uncapped, `capped ${capped} vs uncapped ${uncapped}`);
});
