import type { MessagePort } from 'node:worker_threads';

/**
 * The messages between the listener's thread (which owns the terminal) and the live UI's worker
 * (which runs Ink): the TTY stays on the listener's thread, the worker gets stand-ins for it.
 */

/** From the listener's thread. */
export type ToUiWorker =
  /** The session is ready: render it; the view port is served on `port`. */
  | { type: 'show'; port: MessagePort; quitNow: boolean }
  /** Bytes typed on the terminal (raw mode). */
  | { type: 'input'; data: Uint8Array }
  | { type: 'resize'; columns: number; rows: number }
  /** The terminal took the writes up to `id`. */
  | { type: 'written'; id: number }
  | { type: 'unmount' };

/** From the worker. */
export type FromUiWorker =
  /** Ink and React are loaded: the worker can render. */
  | { type: 'loaded' }
  /** A frame (or any output) for the terminal, in order. */
  | { type: 'write'; id: number; data: string }
  | { type: 'rawMode'; on: boolean }
  | { type: 'quit' }
  | { type: 'quitNow' }
  /** Ink's last frame has been written (after `unmount`). */
  | { type: 'unmounted' };

/** What the worker starts with. */
export interface UiWorkerData {
  columns: number;
  rows: number;
}
