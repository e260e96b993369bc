/** At most `limit` holders at a time; the others wait in arrival order. */
export class Semaphore {
  readonly limit: number;
  #held = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('a semaphore needs a limit of at least 1');
    this.limit = limit;
  }

  /** Resolves with a release function once a slot is free; calling release more than once is harmless. */
  async acquire(): Promise<() => void> {
    if (this.#held < this.limit) this.#held++;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // The slot passes straight to the next waiter, so the count never dips below the limit.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#held--;
    };
  }
}
