import type { SessionView } from '../core/session-view.js';

/** What every face reads of a session: the stream, the header's state, the store, and intents. */
export type FaceView = Pick<SessionView, 'subscribe' | 'snapshot' | 'listEvents' | 'getEvent' | 'getBody' | 'getResponseBody' | 'replay' | 'retryTunnel' | 'listAttachments' | 'saveAttachments'>;

/** Stops a face; resolves once it has written what it still owes (a lagging `--json`, the UI's exit lines). */
export type Detach = () => void | Promise<void>;

/**
 * Something that shows a session: the `--json` printer, the plain printer, the terminal UI, the web
 * inspector. `listen` attaches any number of them to one session before it starts.
 */
export interface Face {
  attach(view: FaceView): Detach;
}
