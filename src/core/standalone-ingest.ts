import { Attempts } from './delivery/attempts.js';
import { retryRule } from './delivery/retry-rule.js';
import { targetFor, type Targets } from './delivery/targets.js';
import { createDispatcher, DEFAULT_TIMEOUT_MS, joinTarget } from './http-send.js';
import { Ingest } from './ingest.js';
import { readListener, readSettings, type ListenerInfo } from './store/state-files.js';
import { EventStore, type StoredEvent } from './store/store.js';
import { isSuccess, type CapturedEvent, type ForwardAttempt } from './types.js';

/**
 * The store as a source outside `listen` (reconcile run from a terminal) meets it: what it may read,
 * and, while no listener runs, an ingest path of its own. The sources never open the store
 * themselves; their command composes these.
 */

/** What a source reads of a store: every stored event, oldest first, bodies read on demand. */
export interface StoredEvents {
  readAll(): Promise<StoredEvent[]>;
}

/** The store's running listener (its capture URL, its source mark), or null when none runs. */
export function runningListener(storeDir: string): Promise<ListenerInfo | null> {
  return readListener(storeDir);
}

/** The store opened for reading alone (a listener in another process writes it). */
export function openStoredEvents(storeDir: string): Promise<StoredEvents & { close(): Promise<void> }> {
  return EventStore.open(storeDir);
}

/**
 * A store-backed Ingest, for a process that is the store's one writer because no listener runs:
 * store (the store's append; an event a remembered target covers is stored pending), show (nothing
 * shows this run's events as they come: a no-op), deliver (one forward through the one owner of
 * attempts to the last run's `--forward-to` or `--route`, no automatic retry: what is not
 * delivered stays pending, and the next `listen` with a target re-delivers it). Forwards go out one
 * at a time in ingest order, behind the store: a slow handler never holds back what is stored.
 */
export class StoreIngest implements StoredEvents {
  readonly ingest: Ingest;
  /** Every forward attempt made, in order, for the command's report. */
  readonly attempts: ForwardAttempt[] = [];
  #opening: Promise<void> | null = null;
  #sender: Attempts | null = null;
  #delivering: Promise<void> = Promise.resolve();
  /** The first attempt that could not be recorded: nothing more is stored or sent after it. */
  #failure: { error: unknown } | null = null;
  #closing: Promise<void> | null = null;

  private constructor(
    private readonly store: EventStore,
    private readonly targets: Targets,
    private readonly timeoutMs: number,
  ) {
    this.ingest = new Ingest({
      store: (event, body) => this.#store(event, body),
      emit: () => undefined,
      deliver: (event, body) => this.#deliver(event, body),
    });
  }

  /** Opens the store (written from the first event on) with the targets the last run remembered. */
  static async open(storeDir: string, options: { timeoutMs?: number } = {}): Promise<StoreIngest> {
    const settings = await readSettings(storeDir);
    const targets = { forwardTo: settings.forwardTo ?? null, routes: settings.routes ?? {} };
    return new StoreIngest(await EventStore.open(storeDir), targets, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  }

  /** The handler of the last run, or null when none is remembered. */
  get forwardTo(): string | null {
    return this.targets.forwardTo;
  }

  readAll(): Promise<StoredEvent[]> {
    return this.store.readAll();
  }

  async #store(event: CapturedEvent, body: Buffer): Promise<void> {
    if (this.#failure) throw this.#failure.error;
    this.#opening ??= this.store.openForWriting();
    await this.#opening;
    if (targetFor(this.targets, event.mftg?.eventType) !== null) event.forward = true;
    await this.store.appendEvent(event, body);
  }

  #deliver(event: CapturedEvent, body: Buffer): void {
    const base = targetFor(this.targets, event.mftg?.eventType);
    if (base === null) return;
    const store = this.store;
    const sender = (this.#sender ??= new Attempts({ dispatcher: createDispatcher({ insecure: false }), record: async ({ attempt, responseBody }) => store.appendAttempt(attempt, responseBody) }));
    this.#delivering = this.#delivering.then(async () => {
      if (this.#failure) return;
      try {
        const { attempt } = await sender.attempt({
          eventId: event.id,
          kind: 'forward',
          target: joinTarget(base, event.path),
          method: event.method,
          headers: event.headers,
          body,
          timeoutMs: this.timeoutMs,
          decide: (made) => (isSuccess(made) ? 'delivered' : retryRule(made, { retry: 0, retries: 1 }).delivery),
        });
        this.attempts.push(attempt);
      } catch (error) {
        // A failed request is an attempt; only an attempt the store refused lands here.
        this.#failure ??= { error };
      }
    });
  }

  /** Resolves once every event ingested so far was forwarded and its attempt stored; rejects with the first attempt that could not be stored. */
  async drain(): Promise<void> {
    await this.#delivering;
    if (this.#failure) throw this.#failure.error;
  }

  /** Lets the forwards still queued finish, then closes the client and the store. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#delivering;
      await this.#sender?.dispatcher.close();
      await this.store.close();
    })();
    return this.#closing;
  }
}
