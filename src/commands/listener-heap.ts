import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/** The most the listener's young generation may grow to (both semi-spaces). */
export const YOUNG_GENERATION_CAP_BYTES = 8 * 1024 * 1024;
/** V8's own growth factor (`--semi-space-growth-factor`): each growth doubles the young generation. */
const V8_GROWTH_FACTOR = 2;

/** What to do with the young generation's growth, given its size now and whether growth is stopped. */
export function growthDecision(youngBytes: number, stopped: boolean, capBytes: number): 'stop' | 'allow' | 'keep' {
  if (!stopped && youngBytes >= capBytes) return 'stop';
  // V8 shrinks an idle young generation; below the cap it may grow again, up to the cap.
  if (stopped && youngBytes < capBytes) return 'allow';
  return 'keep';
}

const youngGenerationBytes = (): number => getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;

/**
 * Keeps the listener's young generation at `capBytes` at most. Under a steady stream of deliveries
 * V8 doubles it up to 32 MB (16 MB semi-spaces) although almost nothing in it survives a scavenge:
 * each request's garbage dies young. That is up to 24 MB of RSS for nothing (measured: `--json` with
 * stdout unread for 500,000 events 149 → 119 MB; the capture bench's CPU per request unchanged within
 * its noise). The semi-spaces' size is fixed when the process starts (`--max-semi-space-size`, which
 * neither `node bin/mftg-hooks.js` nor npx's shebang would carry), but V8 reads its growth factor
 * each time it grows them: growth is stopped (factor 1) once the cap is reached. The size is looked
 * at after each garbage collection (V8 grows the young generation only then, at most doubling it),
 * so it overshoots the cap by one doubling at most. V8's flags are process-wide; the live UI's worker
 * has its own, smaller limit (resourceLimits) either way. Returns a function that stops looking.
 */
export function capYoungGeneration(capBytes = YOUNG_GENERATION_CAP_BYTES): () => void {
  let stopped = false;
  const look = (): void => {
    const decision = growthDecision(youngGenerationBytes(), stopped, capBytes);
    if (decision === 'keep') return;
    stopped = decision === 'stop';
    setFlagsFromString(`--semi-space-growth-factor=${stopped ? 1 : V8_GROWTH_FACTOR}`);
  };
  look();
  const afterCollections = new PerformanceObserver(look);
  afterCollections.observe({ entryTypes: ['gc'] });
  return () => {
    afterCollections.disconnect();
    if (stopped) setFlagsFromString(`--semi-space-growth-factor=${V8_GROWTH_FACTOR}`);
  };
}
