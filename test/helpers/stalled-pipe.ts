import { Writable } from 'node:stream';

/**
 * A pipe whose reader stops reading until `resume()`: writes pile up in the stream's own buffer,
 * as they do in front of a terminal or a `| less` nobody scrolls.
 */
export function stalledPipe() {
  let text = '';
  let stalled = true;
  let held: Array<() => void> = [];
  let maxQueued = 0;
  const out = new Writable({
    highWaterMark: 4 * 1024,
    write(chunk: Buffer, _encoding, done) {
      const take = (): void => {
        text += chunk.toString();
        done();
      };
      if (stalled) held.push(take);
      else take();
    },
  });
  return {
    out,
    text: () => text,
    /** Call after each delivery: the most bytes the stream held unread so far. */
    sample: () => void (maxQueued = Math.max(maxQueued, out.writableLength)),
    maxQueued: () => maxQueued,
    resume: () => {
      stalled = false;
      const waiting = held;
      held = [];
      for (const take of waiting) take();
    },
  };
}
