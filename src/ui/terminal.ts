import { writeSync } from 'node:fs';
import type { SessionStats } from '../core/session-view.js';

/**
 * The real terminal's side of the live UI, without Ink: the alternate screen, non-blocking frame
 * writes, and the lines left when it exits. Used on the listener's thread whether the UI renders
 * there or in its worker.
 */

/** Switches the terminal to its alternate screen (restored on exit, like less or htop). */
const ENTER_ALT_SCREEN = '\u001b[?1049h\u001b[H';
const LEAVE_ALT_SCREEN = '\u001b[?1049l';
/** Ink hides the cursor while it draws; a UI stopped from outside (a quit now) cannot show it again. */
const SHOW_CURSOR = '\u001b[?25h';

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

/** The screen while the live UI has it. */
export interface TakenScreen {
  /** Gives the screen back (blocking writes again, so what follows is written before exit). Idempotent. */
  leave(): void;
}

/**
 * Takes the terminal for the live UI: its alternate screen, and frames written asynchronously.
 * Whatever ends the process (a crash, a quit now), the user gets their screen back.
 */
export function takeScreen(stdout: NodeJS.WriteStream = process.stdout): TakenScreen {
  // On Linux and macOS a write to a terminal blocks the whole process until the terminal has taken
  // it: a terminal that reads slowly (a busy machine, a remote session) would hold back the acks.
  // Frames are written asynchronously instead, and no new frame is drawn while one is still queued.
  const tty = (stdout as unknown as { _handle?: { setBlocking?: (blocking: boolean) => void } })._handle;
  tty?.setBlocking?.(false);
  stdout.write(ENTER_ALT_SCREEN);
  let onAltScreen = true;
  const leave = (): void => {
    if (!onAltScreen) return;
    onAltScreen = false;
    process.off('uncaughtExceptionMonitor', leave);
    process.off('exit', leaveNow);
    tty?.setBlocking?.(true);
    stdout.write(LEAVE_ALT_SCREEN);
  };
  /** The process exits now: frames still queued are dropped, the screen must come back regardless. */
  const leaveNow = (): void => {
    if (!onAltScreen) return;
    onAltScreen = false;
    try {
      writeSync(1, SHOW_CURSOR + LEAVE_ALT_SCREEN);
    } catch {
      // The terminal is gone.
    }
  };
  // A crash's message lands on the restored screen rather than on the one that is about to vanish.
  process.once('uncaughtExceptionMonitor', leave);
  process.once('exit', leaveNow);
  return { leave };
}
