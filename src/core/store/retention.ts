import { SEGMENT_MAX_EVENTS } from './layout.js';
import type { StoreState } from './state.js';

/** What retention needs to know of the segment this process appends to. */
export interface OwnedCount {
  seq: number;
  events: number;
}

/**
 * Keeps the newest `keep` events: whole sealed segments are deleted once the newer ones hold at
 * least that many. Passes run in the background, one after another, after each roll.
 */
export class Retention {
  /** The running pass, if any. */
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly state: StoreState,
    readonly keep: number,
    private readonly owned: () => OwnedCount | null,
  ) {}

  /** Runs `first` (completing a seal), then a pass, after the passes before; failures are warnings. */
  schedule(first: () => Promise<void>): void {
    this.running = this.running
      .then(first)
      .then(() => this.enforce())
      .catch((error: unknown) => {
        this.state.warn(`deleting old segments failed: ${String(error)}`);
      });
  }

  /** Resolves once the scheduled passes are done. */
  settled(): Promise<void> {
    return this.running;
  }

  private async enforce(): Promise<void> {
    const seqs = await this.state.segmentSeqs();
    let kept = this.owned()?.events ?? 0;
    for (let i = seqs.length - 1; i >= 0; i--) {
      const seq = seqs[i]!;
      // Asked on each step: the writer may roll while a pass runs.
      if (seq === this.owned()?.seq) continue;
      if (kept >= this.keep) {
        await this.state.deleteSegment(seq);
        continue;
      }
      const seal = await this.state.readSeal(seq);
      kept += seal?.events ?? SEGMENT_MAX_EVENTS;
    }
  }
}
