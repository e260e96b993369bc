import { MftgHooksError } from '../core/errors.js';
import type { ListenSession } from '../core/session.js';
import type { FaceView } from './face.js';

/**
 * The view port over a ListenSession, for the members the faces read. ListenSession is becoming a
 * SessionView itself; until then this maps the port onto what it has.
 */
export function listenSessionView(session: ListenSession): FaceView {
  return {
    subscribe: (listener) => session.on(listener),
    snapshot: () => {
      const stats = session.stats;
      return {
        mode: 'listen',
        ready: session.captureUrl !== '',
        store: session.options.storeDir,
        localUrl: session.captureUrl || null,
        publicCaptureUrl: session.publicCaptureUrl(),
        tunnel: session.tunnelState,
        targets: session.targets,
        stats: { ...stats, rejectedByReason: { ...stats.rejectedByReason }, attempts: { ...stats.attempts } },
        inspectUrl: null,
      };
    },
    listEvents: (filter) => session.eventStore.list(filter),
    getEvent: (id) => session.eventStore.get(id),
    getBody: async (id) => (await session.eventStore.getWithBody(id)).body,
    getResponseBody: (id, attemptId) => session.eventStore.attemptBody(id, attemptId),
    replay: async (id, edits) => {
      if (edits && (edits.body || edits.headers || edits.target)) throw new MftgHooksError('E_USAGE', 'this listener replays stored events unchanged', 'use `mftg-hooks replay <id> --set/--header/--to` for an edited replay');
      return session.replay(id);
    },
    retryTunnel: () => session.retryTunnel(),
  };
}
