import type { ListenSession } from '../core/session.js';
import { colorsFor } from '../output/format.js';
import { attachPlainPrinter } from '../output/plain-printer.js';

/** Starts the live UI for a session. (Plain lines until the Ink UI lands.) */
export function startLiveUi(session: ListenSession, _options: { onQuit: () => void }): { unmount: () => void; exited: Promise<void> } {
  const unmount = attachPlainPrinter((listener) => session.on(listener), colorsFor(process.stdout));
  return { unmount, exited: Promise.resolve() };
}
