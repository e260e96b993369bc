/** A throttled function: `flush()` makes a pending trailing call now, `cancel()` drops it. */
export interface Throttled<Args extends unknown[], Result> {
  (...args: Args): Result | undefined;
  flush(): Result | undefined;
  cancel(): void;
}

export function throttle<Args extends unknown[], Result>(func: (...args: Args) => Result, wait?: number, options?: { leading?: boolean; trailing?: boolean }): Throttled<Args, Result>;
