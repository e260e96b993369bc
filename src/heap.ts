import { performance, PerformanceObserver, type EventLoopUtilization } from 'node:perf_hooks';
import { getHeapSpaceStatistics, getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * The process's memory policy, for the listener's thread and the live UI's worker: V8 sizes its
 * heaps for throughput and lets them grow far past what they hold; a listener that a developer
 * leaves open all day should hold what it needs and not much more.
 */

/** The most the listener's young generation may grow to. */
export const YOUNG_GENERATION_CAP_BYTES = 8 * 1024 * 1024;
/** V8's own growth factor (`--semi-space-growth-factor`): each growth doubles the young generation. */
const V8_GROWTH_FACTOR = 2;

/** Whether the young generation may grow: while one more doubling stays within the cap. */
export function mayGrow(youngBytes: number, capBytes: number): boolean {
  return youngBytes * V8_GROWTH_FACTOR <= capBytes;
}

const youngGenerationBytes = (): number => getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;

/**
 * Keeps the listener's young generation at `capBytes` at most. Under a steady stream of deliveries
 * V8 doubles it up to 32 MB (16 MB semi-spaces) although almost nothing in it survives a scavenge:
 * each request's garbage dies young. That is up to 24 MB of RSS for nothing (measured: `--json` with
 * stdout unread for 500,000 events 149 → 119 MB; the capture bench's CPU per request unchanged within
 * its noise). The semi-spaces' size is fixed when the process starts (`--max-semi-space-size`, which
 * neither `node bin/mftg-hooks.js` nor npx's shebang would carry), but V8 reads its growth factor
 * each time it grows them: after every garbage collection (V8 grows the young generation only then)
 * the factor is set to 1 (no growth) or back to V8's 2, whichever keeps it within the cap. It is set
 * every time, not once: starting a worker thread (the live UI's) sets V8's flags again. V8's flags
 * are process-wide; the UI's worker has its own, smaller limit (resourceLimits) either way. Returns a
 * function that stops looking.
 */
export function capYoungGeneration(capBytes = YOUNG_GENERATION_CAP_BYTES): () => void {
  const look = (): void => setFlagsFromString(`--semi-space-growth-factor=${mayGrow(youngGenerationBytes(), capBytes) ? V8_GROWTH_FACTOR : 1}`);
  look();
  const afterCollections = new PerformanceObserver(look);
  afterCollections.observe({ entryTypes: ['gc'] });
  return () => {
    afterCollections.disconnect();
    setFlagsFromString(`--semi-space-growth-factor=${V8_GROWTH_FACTOR}`);
  };
}

/** Below this, a heap is never worth a full collection (a listener's or the UI's own code and modules are ~12 MB). */
const FLOOR_BYTES = 20 * 1024 * 1024;
/** How much the heap may grow past what the last full collection left before the next one. */
const GROWTH_ALLOWED = 1.5;
/** An event loop busy less than this share of the time between two looks is idle (a quiet listener's: ~0.3 %). */
const IDLE_UTILIZATION = 0.01;

/**
 * Whether the heap (`used` bytes now) is worth a full collection: it has grown by half since the
 * last one left `live` bytes, and it is past the floor. (Measured on the live UI's worker at 5k / 10k /
 * 50k events: with a doubling and a 40 MB floor the UI's RSS was 135 / 158 / 169 MB, with these
 * 129 / 141 / 153 MB; a collection of the worker's ~17 MB takes a few milliseconds.)
 */
export function worthCollecting(used: number, live: number): boolean {
  return used >= FLOOR_BYTES && used >= GROWTH_ALLOWED * live;
}

/**
 * Asks for a full collection, every `everyMs`, when the heap is worth it (worthCollecting): what a
 * thread keeps is small and bounded (the UI's at most 5,000 rows, Ink's tree, React: ~17 MB once
 * collected; the listener's ~12 MB), but each frame and each request leaves garbage, and V8 lets an
 * old generation that nothing bounds grow to several times its live size before it collects it (77 MB
 * in use at 50,000 events, 17 MB of it live, in the UI's worker). Nothing tells V8 that memory matters
 * here. With `afterIdleMs` it collects only once the thread's event loop has been idle that long: on the
 * listener's thread a collection would make an ack wait, and one between two bursts a second apart made
 * V8 collect more often when the next burst began (the tunnel bench's 1-in-flight p99 ×1.4). The UI's
 * worker collects whenever its heap is worth it (a collection there delays a frame by a few
 * milliseconds, never an ack). Returns a function that stops looking.
 */
export function keepHeapSmall(options: { everyMs: number; afterIdleMs: number | null }): () => void {
  // A `gc` function for this thread only: the flag makes new contexts get one; V8's other flags stay as they are.
  setFlagsFromString('--expose-gc');
  const collect = runInNewContext('gc') as () => void;
  let live = getHeapStatistics().used_heap_size;
  let since: EventLoopUtilization = performance.eventLoopUtilization();
  let idleFor = 0;
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    idleFor = performance.eventLoopUtilization(now, since).utilization < IDLE_UTILIZATION ? idleFor + options.everyMs : 0;
    since = now;
    if (options.afterIdleMs !== null && idleFor < options.afterIdleMs) return;
    if (!worthCollecting(getHeapStatistics().used_heap_size, live)) return;
    collect();
    live = getHeapStatistics().used_heap_size;
  }, options.everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
