import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

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
