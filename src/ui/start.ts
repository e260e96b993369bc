import { render } from 'ink';
import { createElement } from 'react';
import type { FaceView } from '../live/face.js';
import { App } from './App.js';
import { LiveModel } from '../live/model.js';
import { exitLines, takeScreen } from './terminal.js';

export { exitLines } from './terminal.js';

export interface LiveUiOptions {
  onQuit: () => void;
  onQuitNow?: () => void;
}

/** The streams Ink draws on and reads keys from: the process's own, or the worker's stand-ins. */
export interface LiveUiStreams {
  stdout: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
}

/**
 * Renders the App on `streams`; the screen is the caller's. `unmount` stops it; `exited` resolves
 * once Ink's last frame is written.
 */
export function renderLiveUi(view: FaceView, options: LiveUiOptions, streams: LiveUiStreams): { unmount: () => void; exited: Promise<void> } {
  const { stdout, stdin } = streams;
  const model = new LiveModel(view, { holdWhile: () => stdout.writableLength > 0 });
  const instance = render(createElement(App, { model, view, onQuit: options.onQuit, ...(options.onQuitNow ? { onQuitNow: options.onQuitNow } : {}) }), {
    stdout,
    stdin,
    exitOnCtrlC: false,
    patchConsole: true,
  });
  const exited = instance.waitUntilExit().then(
    () => undefined,
    () => undefined,
  );
  let done = false;
  return {
    unmount: () => {
      if (done) return;
      done = true;
      instance.unmount();
      model.dispose();
    },
    exited,
  };
}

/**
 * Starts the live UI on this thread for a session (stdin and stdout are TTYs). `onQuit` is called
 * when the user quits; the caller stops the session and then calls `unmount`. `exited` resolves
 * once the terminal is restored.
 */
export function startLiveUi(view: FaceView, options: LiveUiOptions): { unmount: () => void; exited: Promise<void> } {
  const screen = takeScreen(process.stdout);
  const ui = renderLiveUi(view, options, { stdout: process.stdout, stdin: process.stdin });
  let done = false;
  return {
    unmount: () => {
      if (done) return;
      done = true;
      ui.unmount();
      screen.leave();
      // A session that never started (port in use, store busy) has its own error line to print.
      const session = view.snapshot();
      if (!session.ready) return;
      for (const line of exitLines(session.stats, session.store)) process.stdout.write(`${line}\n`);
    },
    exited: ui.exited,
  };
}
