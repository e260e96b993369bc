import { render } from 'ink';
import { createElement } from 'react';
import type { ListenSession } from '../core/session.js';
import { App } from './App.js';
import { LiveModel } from './model.js';

/** Switches the terminal to its alternate screen (restored on exit, like less or htop). */
const ENTER_ALT_SCREEN = '\u001b[?1049h\u001b[H';
const LEAVE_ALT_SCREEN = '\u001b[?1049l';

/**
 * Starts the live UI for a session (stdin and stdout are TTYs). `onQuit` is called when the user
 * quits; the caller stops the session and then calls `unmount`. `exited` resolves once the terminal
 * is restored.
 */
export function startLiveUi(session: ListenSession, options: { onQuit: () => void }): { unmount: () => void; exited: Promise<void> } {
  const model = new LiveModel(session);
  const stdout = process.stdout;
  stdout.write(ENTER_ALT_SCREEN);
  // Whatever ends the process (a crash included), the user gets their screen back, and a crash's
  // message lands on it rather than on the alternate screen that is about to vanish.
  let onAltScreen = true;
  const leaveAltScreen = (): void => {
    if (!onAltScreen) return;
    onAltScreen = false;
    stdout.write(LEAVE_ALT_SCREEN);
  };
  process.once('uncaughtExceptionMonitor', leaveAltScreen);
  process.once('exit', leaveAltScreen);
  const instance = render(createElement(App, { model, onQuit: options.onQuit }), { exitOnCtrlC: false, patchConsole: true });
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
      process.off('exit', leaveAltScreen);
      // A session that never started (port in use, store busy) has its own error line to print.
      if (!session.captureUrl) return;
      const { stats } = session;
      // Replays from this UI or another terminal are handler attempts too: not "forwarded" events.
      const forwarded = stats.attempts.ok + stats.attempts.failed > 0 ? `; ${stats.attempts.ok} handler attempts ok, ${stats.attempts.failed} failed (forwards, retries and replays)` : '';
      stdout.write(`mftg-hooks: captured ${stats.captured} event${stats.captured === 1 ? '' : 's'}${forwarded}; they stay in ${session.options.storeDir} (mftg-hooks events list)\n`);
    },
    exited,
  };
}
