import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { mayGrow, worthCollecting } from '../../src/heap.js';

const MB = 1024 * 1024;
const HEAP_MODULE = fileURLToPath(new URL('../../src/heap.js', import.meta.url));

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

test('a heap is worth a full collection once it has grown by half since the last one, and never below 20 MB', () => {
  // A heap that grew by half past the floor is worth a full collection
  assert.equal(worthCollecting(30 * MB, 20 * MB), true);
  assert.equal(worthCollecting(44 * MB, 20 * MB), true);
  assert.equal(worthCollecting(20 * MB, 12 * MB), true);
  // Not before it grew by half
  assert.equal(worthCollecting(29 * MB, 20 * MB), false);
  assert.equal(worthCollecting(45 * MB, 31 * MB), false);
  // Nor below the floor, however much it grew (a fresh thread's heap is mostly its code)
  assert.equal(worthCollecting(19 * MB, 5 * MB), false);
});

/** Runs `script` (an ES module) in a fresh node and resolves with what it printed. */
function runScript(script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${out}`))));
  });
}

test('with afterIdleMs, the heap is collected once the event loop has been idle that long, never while it is busy', async () => {
  // A process that looks every 50 ms holds 30 MB (worth a collection) through 300 ms of busy turns,
  // then lets it go and idles, first briefly, then past afterIdleMs (150 ms): the collections asked
  // for (V8 marks them forced) are counted.
  const out = await runScript(`
    import { constants, PerformanceObserver } from 'node:perf_hooks';
    import { getHeapStatistics } from 'node:v8';
    const { keepHeapSmall } = await import(${JSON.stringify(HEAP_MODULE)});
    const used = () => getHeapStatistics().used_heap_size;
    let forced = 0;
    new PerformanceObserver((list) => { for (const entry of list.getEntries()) if (entry.detail.flags & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) forced++; }).observe({ entryTypes: ['gc'] });
    const before = used();
    keepHeapSmall({ everyMs: 50, afterIdleMs: 150 });
    let held = [];
    for (let i = 0; i < 300000; i++) held.push({ i, s: 'x'.repeat(100) + i });
    const until = Date.now() + 300;
    await new Promise((resolve) => { const spin = () => { const end = Date.now() + 10; while (Date.now() < end); Date.now() < until ? setImmediate(spin) : resolve(); }; spin(); });
    const whileBusy = { forced, used: used() };
    held = null;
    // Idle for less than afterIdleMs: not yet
    await new Promise((resolve) => setTimeout(resolve, 60));
    const brieflyIdle = { forced };
    await new Promise((resolve) => setTimeout(resolve, 500));
    process.stdout.write(JSON.stringify({ before, whileBusy, brieflyIdle, afterIdle: { forced, used: used() } }));
  `);
  const { before, whileBusy, brieflyIdle, afterIdle } = JSON.parse(out) as {
    before: number;
    whileBusy: { forced: number; used: number };
    brieflyIdle: { forced: number };
    afterIdle: { forced: number; used: number };
  };
  // While busy, the heap was worth a collection but none was asked for
  assert.ok(whileBusy.used > before + 20 * MB, `before ${before}, while busy ${whileBusy.used}`);
  assert.equal(whileBusy.forced, 0);
  // Nor after a moment of quiet shorter than afterIdleMs
  assert.equal(brieflyIdle.forced, 0);
  // Once idle, one was, and the heap came back near what it held before
  assert.ok(afterIdle.forced >= 1, `forced collections after idling: ${afterIdle.forced}`);
  assert.ok(afterIdle.used < before + 10 * MB, `before ${before}, after idling ${afterIdle.used}`);
});
