import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** How often the worker looks at its heap. */
const LOOK_EVERY_MS = 1_000;
/** Below this, a heap is never worth a full collection (the UI's own code and modules are ~12 MB). */
const FLOOR_BYTES = 20 * 1024 * 1024;
/** How much the heap may grow past what the last full collection left before the next one. */
const GROWTH_ALLOWED = 1.5;

/**
 * Whether the heap (`used` bytes now) is worth a full collection: it has grown by half since the
 * last one left `live` bytes, and it is past the floor. (Measured at 5k / 10k / 50k events: with a
 * doubling and a 40 MB floor the UI's RSS was 135 / 158 / 169 MB, with these 129 / 141 / 153 MB; a
 * collection of the worker's ~17 MB takes a few milliseconds of its own thread, never the listener's.)
 */
export function worthCollecting(used: number, live: number): boolean {
  return used >= FLOOR_BYTES && used >= GROWTH_ALLOWED * live;
}

/**
 * Keeps the live UI's heap near what it holds. What the worker keeps is small and bounded (at most
 * 5,000 rows, Ink's tree, React: ~20 MB once collected), but each frame leaves garbage, and V8 lets
 * an old generation that nothing bounds grow to several times its live size before it collects it
 * (77 MB in use at 50,000 events, 17 MB of it live). Nothing tells V8 that memory matters here, so
 * the worker asks for a full collection itself when its heap has grown by half since the last one. It runs
 * on the worker's own thread: it can delay the next frame by a few tens of milliseconds, never an ack.
 * Returns a function that stops looking.
 */
export function keepHeapSmall(): () => void {
  // A `gc` function for this worker only: the flag makes new contexts get one; V8's other flags stay as they are.
  setFlagsFromString('--expose-gc');
  const collect = runInNewContext('gc') as () => void;
  let live = getHeapStatistics().used_heap_size;
  const timer = setInterval(() => {
    if (!worthCollecting(getHeapStatistics().used_heap_size, live)) return;
    collect();
    live = getHeapStatistics().used_heap_size;
  }, LOOK_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
