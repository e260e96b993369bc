import type { SessionView } from './session-view.js';
import type { EventStore, ListFilter } from './store/store.js';
import type { EventRecord } from './types.js';

/**
 * The view port's reads, answered from the store: the same for a listener and for `inspect` (the
 * store is the source of truth). A view says which store it reads with `readsFrom`.
 */
export abstract class StoreReads implements Pick<SessionView, 'listEvents' | 'eventsAfter' | 'getEvent' | 'getBody' | 'getResponseBody'> {
  /** The store the reads go to (a listener's throws until it has started). */
  protected abstract readsFrom(): EventStore;

  listEvents(filter: ListFilter): Promise<EventRecord[]> {
    return this.readsFrom().list(filter);
  }

  eventsAfter(afterId: string | null, limit: number): Promise<EventRecord[]> {
    return this.readsFrom().eventsAfter(afterId, limit);
  }

  getEvent(idOrPrefix: string): Promise<EventRecord> {
    return this.readsFrom().get(idOrPrefix);
  }

  async getBody(idOrPrefix: string): Promise<Buffer> {
    return (await this.readsFrom().getWithBody(idOrPrefix)).body;
  }

  getResponseBody(eventIdOrPrefix: string, attemptId: string): Promise<Buffer> {
    return this.readsFrom().attemptBody(eventIdOrPrefix, attemptId);
  }
}
