import { writeSync } from 'node:fs';
import { render } from 'ink';
import { createElement } from 'react';
import type { SessionStats } from '../core/session-view.js';
import type { FaceView } from '../live/face.js';
import { App } from './App.js';
import { LiveModel } from '../live/model.js';

/** Switches the terminal to its alternate screen (restored on exit, like less or htop). */
const ENTER_ALT_SCREEN = '\u001b[?1049h\u001b[H';
const LEAVE_ALT_SCREEN = '\u001b[?1049l';

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * What the live view leaves on the terminal when it exits: the events (captured, forwarded ok, failed,
 * waiting) and, apart, the handler attempts; events still waiting get a line of their own.
 */
export function exitLines(stats: SessionStats, storeDir: string): string[] {
  const fates = [`${stats.delivered} forwarded ok`, `${stats.failed} failed`, `${stats.waiting} waiting`].join(', ');
  const attempts = stats.attempts.ok + stats.attempts.failed;
  // Replays from this UI or another terminal are handler attempts too: not events forwarded ok.
  const tried = attempts > 0 ? `; ${plural(attempts, 'handler attempt')} (${stats.attempts.ok} ok, ${stats.attempts.failed} failed: forwards, retries and replays)` : '';
  const lines = [`mftg-hooks: captured ${plural(stats.captured, 'event')} (${fates})${tried}; they stay in ${storeDir} (mftg-hooks events list)`];
  if (stats.waiting > 0) lines.push(`mftg-hooks: ${plural(stats.waiting, 'event')} still waiting for the handler: they are re-delivered at the next start`);
  return lines;
}

/**
 * Starts the live UI for a session (stdin and stdout are TTYs). `onQuit` is called when the user
 * quits; the caller stops the session and then calls `unmount`. `exited` resolves once the terminal
 * is restored.
 */
export function startLiveUi(view: FaceView, options: { onQuit: () => void; onQuitNow?: () => void }): { unmount: () => void; exited: Promise<void> } {
  const stdout = process.stdout;
  // On Linux and macOS a write to a terminal blocks the whole process until the terminal has taken
  // it: a terminal that reads slowly (a busy machine, a remote session) would hold back the acks.
  // Frames are written asynchronously instead, and no new frame is drawn while one is still queued.
  const tty = (stdout as unknown as { _handle?: { setBlocking?: (blocking: boolean) => void } })._handle;
  tty?.setBlocking?.(false);
  const model = new LiveModel(view, { holdWhile: () => stdout.writableLength > 0 });
  stdout.write(ENTER_ALT_SCREEN);
  // Whatever ends the process (a crash included), the user gets their screen back, and a crash's
  // message lands on it rather than on the alternate screen that is about to vanish.
  let onAltScreen = true;
  const leaveAltScreen = (): void => {
    if (!onAltScreen) return;
    onAltScreen = false;
    // Blocking again: what follows (the exit lines, a crash's message) is written before exit.
    tty?.setBlocking?.(true);
    stdout.write(LEAVE_ALT_SCREEN);
  };
  /** The process exits now: frames still queued are dropped, the screen must come back regardless. */
  const leaveAltScreenNow = (): void => {
    if (!onAltScreen) return;
    onAltScreen = false;
    try {
      writeSync(1, LEAVE_ALT_SCREEN);
    } catch {
      // The terminal is gone.
    }
  };
  process.once('uncaughtExceptionMonitor', leaveAltScreen);
  process.once('exit', leaveAltScreenNow);
  const instance = render(createElement(App, { model, view, onQuit: options.onQuit, ...(options.onQuitNow ? { onQuitNow: options.onQuitNow } : {}) }), { exitOnCtrlC: false, patchConsole: true });
  let done = false;
  const exited = instance.waitUntilExit().then(
    () => undefined,
    () => undefined,
  );
  return {
    unmount: () => {
      if (done) return;
      done = true;
      instance.unmount();
      model.dispose();
      leaveAltScreen();
      process.off('uncaughtExceptionMonitor', leaveAltScreen);
      process.off('exit', leaveAltScreenNow);
      // A session that never started (port in use, store busy) has its own error line to print.
      const session = view.snapshot();
      if (!session.ready) return;
      for (const line of exitLines(session.stats, session.store)) stdout.write(`${line}\n`);
    },
    exited,
  };
}
