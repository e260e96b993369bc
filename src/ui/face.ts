import type { Face } from '../live/face.js';
import type { LiveUiHandle } from './worker-host.js';

export interface UiFaceOptions {
  /** The user quit (q, Ctrl+C): the listener stops, then detaches the face. */
  onQuit: () => void;
  /** Ctrl+C while the listener is already stopping. */
  onQuitNow?: () => void;
}

/**
 * The live terminal UI as a face. It renders in a worker thread (Ink and React load there while the
 * session starts), so drawing never delays an ack; the screen is taken once the capture server
 * accepts requests (a port in use is one clear line, not a flash of the UI). Warnings from before
 * that (opening the store…) are printed after the screen is given back.
 */
export function uiFace(options: UiFaceOptions): Face {
  return {
    attach: (view) => {
      const loadingUi = import('./worker-host.js').then((host) => host.prepareLiveUi());
      const earlyWarnings: string[] = [];
      let handle: LiveUiHandle | null = null;
      let detached = false;
      const show = (): void => {
        void loadingUi.then((ui) => {
          if (detached || handle) return;
          stopWaiting();
          if (ui.warning) earlyWarnings.push(ui.warning);
          handle = ui.start(view, options);
        });
      };
      const stopWaiting = view.subscribe((element) => {
        if (element.type === 'warning') earlyWarnings.push(element.message);
        else if (element.type === 'ready') show();
      });
      if (view.snapshot().ready) show();
      return async () => {
        detached = true;
        stopWaiting();
        if (handle) {
          handle.unmount();
          await handle.exited;
        } else void loadingUi.then((ui) => ui.cancel());
        for (const message of earlyWarnings.splice(0)) process.stderr.write(`mftg-hooks: warning: ${message}\n`);
      };
    },
  };
}
