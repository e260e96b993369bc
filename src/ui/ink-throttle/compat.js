// Ink (ink/build/ink.js) imports `throttle` from es-toolkit/compat, whose index loads 415 modules
// (measured: `import('ink')` 82 → 71 MB of RSS and 520 → 360 ms with this package instead), for one
// function. The repository's package.json puts this package in es-toolkit's place (npm overrides,
// and only Ink depends on es-toolkit); it has the same `throttle` as lodash's and es-toolkit's, for
// what Ink uses of it: `leading`/`trailing`, `flush()` and `cancel()`. Tested in
// test/ui/ink-throttle.test.ts.

/**
 * Calls `func` at most once per `wait` ms: at once when the last call was `wait` ago or more
 * (`leading`), and once more with the latest arguments when the wait is over if calls came during it
 * (`trailing`). With `wait` 0 every call is made at once.
 */
export function throttle(func, wait = 0, options = {}) {
  const { leading = true, trailing = true } = options;
  let lastCallAt = Number.NEGATIVE_INFINITY;
  let timer;
  let pending;
  let result;

  const call = (thisArg, args) => {
    lastCallAt = Date.now();
    pending = undefined;
    result = func.apply(thisArg, args);
    return result;
  };
  const trailingEdge = () => {
    timer = undefined;
    if (pending) {
      const { thisArg, args } = pending;
      call(thisArg, args);
      // Calls in the next `wait` ms wait for it, as after a leading call.
      if (wait > 0) timer = setTimeout(trailingEdge, wait);
    }
  };

  function throttled(...args) {
    if (timer === undefined) {
      const since = Date.now() - lastCallAt;
      if (since < wait) {
        // Called again soon after a flush: the wait is what is left of it.
        timer = setTimeout(trailingEdge, wait - since);
      } else if (leading) {
        call(this, args);
        if (wait > 0) timer = setTimeout(trailingEdge, wait);
        return result;
      } else {
        lastCallAt = Date.now();
        timer = setTimeout(trailingEdge, wait);
      }
    }
    if (trailing) pending = { thisArg: this, args };
    return result;
  }
  throttled.cancel = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    pending = undefined;
  };
  throttled.flush = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (pending) call(pending.thisArg, pending.args);
    return result;
  };
  return throttled;
}
