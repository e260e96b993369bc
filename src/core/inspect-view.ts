import { EventEmitter } from 'node:events';
import { StoreReads } from './store-reads.js';
import type { Agent } from 'undici';
import { Attempts, replayRequest } from './delivery/attempts.js';
import { targetFor, type Targets } from './delivery/forwarder.js';
import { MftgHooksError } from './errors.js';
import { createDispatcher, DEFAULT_TIMEOUT_MS, joinTarget } from './http-send.js';
import { postThroughListener, sampleRequest } from './ingest.js';
import { messageFiles, type AttachmentListing, type MessageFiles, type OpenedAttachment } from './reconcile/attachments.js';
import { resolveReplayTargets } from './replay.js';
import { DISABLED_TUNNEL, emptyStats, type SessionElement, type SessionStats } from './session.js';
import type { ReplayEdits, SessionSnapshot, SessionView, TriggerRequest } from './session-view.js';
import { EventStore } from './store/store.js';
import { isSuccess, type ForwardAttempt } from './types.js';

export interface InspectViewOptions {
  storeDir: string;
  /** Replay timeout; default DEFAULT_TIMEOUT_MS, 0 waits forever. */
  timeoutMs?: number;
  insecure?: boolean;
  /** Where the MFTG API credentials are read for attachments; default process.env. */
  env?: NodeJS.ProcessEnv;
}

/**
 * The session view of a store alone (`mftg-hooks inspect`): nothing is captured here. It follows
 * the store for what other processes write (a listener's events and attempts, replays from another
 * terminal) and replays through the one owner of attempts, to the target the page gives, else the
 * running listener's, else the last run's.
 */
export class InspectView extends StoreReads implements SessionView {
  readonly stats: SessionStats = emptyStats();
  inspectUrl: string | null = null;
  private readonly emitter = new EventEmitter();
  private targets: Targets = { forwardTo: null, routes: {} };
  private stopFollowing: (() => void) | null = null;
  private closing: Promise<void> | null = null;
  private readonly files: MessageFiles;

  private constructor(
    private readonly options: InspectViewOptions,
    private readonly store: EventStore,
    private readonly dispatcher: Agent,
    private readonly attempts: Attempts,
  ) {
    super();
    this.emitter.setMaxListeners(0);
    this.files = messageFiles(
      () => store,
      undefined,
      () => options.env ?? process.env,
    );
  }

  /** Opens the store (E_STORE_* when it cannot be read) and starts following it. */
  static async open(options: InspectViewOptions): Promise<InspectView> {
    const store = await EventStore.open(options.storeDir);
    const dispatcher = createDispatcher({ insecure: options.insecure === true });
    let view: InspectView | null = null;
    const attempts = new Attempts({
      dispatcher,
      record: async ({ attempt, responseBody }) => {
        await store.appendAttempt(attempt, responseBody);
        // The store does not report this process's own frames back: announced here.
        view?.announce(attempt, false);
      },
    });
    view = new InspectView(options, store, dispatcher, attempts);
    await view.refreshTargets();
    view.stopFollowing = await store.follow((record) => {
      if (record.kind === 'event') view!.emit({ type: 'event', event: record.event, foreign: true });
      else if (record.kind === 'attempt') view!.announce(record.attempt, true);
      else view!.emit({ type: 'cleared' });
    });
    return view;
  }

  private emit(element: SessionElement): void {
    this.emitter.emit('element', element);
  }

  private announce(attempt: ForwardAttempt, foreign: boolean): void {
    if (isSuccess(attempt)) this.stats.attempts.ok++;
    else this.stats.attempts.failed++;
    this.emit({ type: 'attempt', attempt, foreign });
  }

  /** Where replays go without a target of their own: the running listener's, else the last run's. */
  private async refreshTargets(): Promise<void> {
    const resolved = await resolveReplayTargets(this.options.storeDir, null).catch(() => null);
    this.targets = resolved?.targets ?? { forwardTo: null, routes: {} };
  }

  subscribe(listener: (element: SessionElement) => void): () => void {
    this.emitter.on('element', listener);
    return () => this.emitter.off('element', listener);
  }

  snapshot(): SessionSnapshot {
    return {
      mode: 'inspect',
      ready: true,
      store: this.options.storeDir,
      localUrl: null,
      publicCaptureUrl: null,
      tunnel: DISABLED_TUNNEL,
      targets: { forwardTo: this.targets.forwardTo, routes: { ...this.targets.routes } },
      stats: { ...this.stats, rejectedByReason: {}, attempts: { ...this.stats.attempts } },
      inspectUrl: this.inspectUrl,
    };
  }

  protected readsFrom(): EventStore {
    return this.store;
  }

  async replay(idOrPrefix: string, edits: ReplayEdits = {}): Promise<ForwardAttempt> {
    const { event, body } = await this.store.getWithBody(idOrPrefix);
    if (!edits.target) await this.refreshTargets();
    const base = edits.target ?? targetFor(this.targets, event.mftg?.eventType);
    if (!base) throw new MftgHooksError('E_NO_TARGET', `no target is known for event ${event.id}`, 'enter a target URL for replays, or run `mftg-hooks listen --forward-to <url>` once');
    const { attempt } = await this.attempts.attempt(replayRequest(event, body, joinTarget(base, event.path), edits, this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS));
    return attempt;
  }

  /** Through the running listener (source `trigger`); without one there is nothing to capture it. */
  async trigger(request: TriggerRequest): Promise<string> {
    const sample = sampleRequest(request.eventType, request.variant);
    const result = await postThroughListener(this.options.storeDir, { source: 'trigger', body: sample.body, headers: sample.headers });
    if (!isSuccess(result) || !result.eventId) {
      throw new MftgHooksError('E_NO_LISTENER', `the listener did not take the sample (${result.status ?? result.error})`, 'check the terminal where `mftg-hooks listen` runs');
    }
    return result.eventId;
  }

  /** No tunnel here. */
  retryTunnel(): void {}

  listAttachments(idOrPrefix: string): Promise<AttachmentListing> {
    return this.files.list(idOrPrefix);
  }

  openAttachment(idOrPrefix: string, index: number): Promise<OpenedAttachment> {
    return this.files.open(idOrPrefix, index);
  }

  attachmentsUnavailable(): MftgHooksError | null {
    return this.files.unavailable();
  }

  /** Stops following and closes the store; idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stopFollowing?.();
      await this.files.close();
      await this.dispatcher.close();
      await this.store.close();
    })();
    return this.closing;
  }
}
