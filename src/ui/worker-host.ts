import { MessageChannel, Worker } from 'node:worker_threads';
import type { FaceView } from '../live/face.js';
import { serveFaceView } from '../live/face-bridge.js';
import { exitLines, takeScreen } from './terminal.js';
import type { FromUiWorker, ToUiWorker, UiWorkerData } from './worker-protocol.js';

/**
 * The live UI from the listener's thread: Ink runs in a worker (worker-entry.ts), this side keeps
 * the terminal (raw mode, keys, resizes, the alternate screen, frame writes in order) and serves
 * the view port to it. Nothing here loads Ink or React.
 */

/**
 * The worker's young generation (MB). Rendering makes short-lived garbage fast: left to grow, V8's
 * young generation is most of the UI's memory; this small, it is collected more often, cheaply.
 */
export const UI_YOUNG_GENERATION_MB = 4;

export interface LiveUiOptions {
  onQuit: () => void;
  onQuitNow?: () => void;
}

export interface LiveUiHandle {
  unmount: () => void;
  /** Resolves once the terminal is restored and the exit lines are written. */
  exited: Promise<void>;
}

/** Starts the UI once the session is ready; `cancel` when it never will be. */
export interface LiveUiStarter {
  start(view: FaceView, options: LiveUiOptions): LiveUiHandle;
  cancel(): void;
  /** Set when the UI could not run in its worker and renders on the listener's thread instead. */
  warning: string | null;
}

/**
 * Starts the UI's worker now, so that Ink loads while the session starts. Resolves once it can
 * render. A worker that cannot start falls back to rendering on this thread, with a warning.
 */
export async function prepareLiveUi(): Promise<LiveUiStarter> {
  let worker: Worker | null = null;
  let failed: Error | null;
  try {
    const data: UiWorkerData = { columns: process.stdout.columns || 80, rows: process.stdout.rows || 24 };
    const started = new Worker(new URL('./worker-entry.js', import.meta.url), { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: UI_YOUNG_GENERATION_MB } });
    worker = started;
    failed = await new Promise<Error | null>((resolve) => {
      const settle = (error: Error | null): void => {
        started.off('message', onMessage);
        started.off('error', settle);
        started.off('exit', onExit);
        resolve(error);
      };
      const onMessage = (message: FromUiWorker): void => settle(message.type === 'loaded' ? null : new Error(`unexpected ${message.type}`));
      const onExit = (code: number): void => settle(new Error(`its worker exited with code ${code}`));
      started.on('message', onMessage);
      started.once('error', settle);
      started.once('exit', onExit);
    });
  } catch (error) {
    failed = error as Error;
  }
  if (failed || !worker) {
    void worker?.terminate();
    const inProcess = await import('./start.js');
    return { start: (view, options) => inProcess.startLiveUi(view, options), cancel: () => undefined, warning: `the live UI renders on the listener's thread (${failed?.message})` };
  }
  const loaded = worker;
  return { start: (view, options) => showInWorker(loaded, view, options), cancel: () => void loaded.terminate(), warning: null };
}

function showInWorker(worker: Worker, view: FaceView, options: LiveUiOptions): LiveUiHandle {
  const stdout = process.stdout;
  const stdin = process.stdin;
  const post = (message: ToUiWorker, transfer?: readonly Transferable[]): void => worker.postMessage(message, transfer as never);
  const screen = takeScreen(stdout);
  const { port1, port2 } = new MessageChannel();
  const stopServing = serveFaceView(view, port1);
  post({ type: 'show', port: port2, quitNow: options.onQuitNow !== undefined }, [port2]);

  const onResize = (): void => post({ type: 'resize', columns: stdout.columns || 80, rows: stdout.rows || 24 });
  stdout.on('resize', onResize);
  const onInput = (chunk: Buffer): void => {
    const data = new Uint8Array(chunk);
    post({ type: 'input', data }, [data.buffer]);
  };
  let raw = false;
  const rawMode = (on: boolean): void => {
    if (on === raw) return;
    raw = on;
    if (on) {
      stdin.ref();
      stdin.setRawMode(true);
      stdin.on('data', onInput);
    } else {
      stdin.setRawMode(false);
      stdin.off('data', onInput);
      stdin.pause();
      stdin.unref();
    }
  };

  let finished!: () => void;
  const exited = new Promise<void>((resolve) => (finished = resolve));
  let stopped = false;
  /** The worker is done (unmounted, or gone): the terminal comes back, the exit lines follow. */
  const stop = (crash: Error | null): void => {
    if (stopped) return;
    stopped = true;
    rawMode(false);
    stdout.off('resize', onResize);
    stopServing();
    screen.leave();
    void worker.terminate();
    if (crash) process.stderr.write(`mftg-hooks: the live UI stopped: ${crash.message}\n`);
    // A session that never started (port in use, store busy) has its own error line to print.
    const session = view.snapshot();
    if (session.ready) for (const line of exitLines(session.stats, session.store)) stdout.write(`${line}\n`);
    finished();
    // The listener stops as if the user had quit: its events are stored, the exit lines say where.
    if (crash) options.onQuit();
  };

  worker.on('message', (message: FromUiWorker) => {
    switch (message.type) {
      case 'write':
        stdout.write(message.data, () => {
          if (!stopped) post({ type: 'written', id: message.id });
        });
        return;
      case 'rawMode':
        if (!stopped) rawMode(message.on);
        return;
      case 'quit':
        options.onQuit();
        return;
      case 'quitNow':
        options.onQuitNow?.();
        return;
      case 'unmounted':
        stop(null);
        return;
      case 'loaded':
        return;
    }
  });
  worker.on('error', (error) => stop(error));
  worker.on('exit', (code) => stop(new Error(`its worker exited with code ${code}`)));

  let unmounting = false;
  return {
    unmount: () => {
      if (unmounting || stopped) return;
      unmounting = true;
      post({ type: 'unmount' });
    },
    exited,
  };
}
