import { EventEmitter } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Agent } from 'undici';
import { MftgHooksError } from '../../src/core/errors.js';
import { targetFor, type Targets } from '../../src/core/forwarder.js';
import { replayRequest, sendAttempt } from '../../src/core/delivery/attempts.js';
import { createDispatcher, joinTarget } from '../../src/core/http-send.js';
import { newId } from '../../src/core/ids.js';
import { summarize } from '../../src/core/mftg.js';
import { buildSample, resolveSampleType } from '../../src/core/mftg-samples.js';
import { DISABLED_TUNNEL, emptyStats, type SessionElement, type SessionStats, type TunnelState } from '../../src/core/session.js';
import type { AttachmentListing, AttachmentsProgress, ReplayEdits, SavedAttachments, SavedFile, SessionSnapshot, SessionView, TriggerRequest } from '../../src/core/session-view.js';
import { EventStore } from '../../src/core/store/store.js';
import { isSuccess, type CapturedEvent, type ForwardAttempt, type HeaderPairs } from '../../src/core/types.js';
import type { ListFilter } from '../../src/core/store/store.js';
import { tempDir } from './temp.js';

export interface FakeViewOptions {
  mode?: 'listen' | 'inspect';
  targets?: Targets;
  tunnel?: TunnelState;
  publicCaptureUrl?: string | null;
  keep?: number;
  /**
   * Gives the view the attachment intents (listAttachments, saveAttachments), answered from these
   * files with no MFTG API behind them; every call is kept in `attachmentCalls`.
   */
  attachments?: Array<{ name: string; bytes: Buffer }>;
}

/** One call of an attachment intent on the fake. */
export type AttachmentCall = { intent: 'list'; id: string } | { intent: 'save'; id: string; dir: string };

export interface Delivery {
  body: Buffer | string | Record<string, unknown>;
  headers?: HeaderPairs;
  method?: string;
  path?: string;
}

/**
 * A SessionView for tests of the faces: a REAL EventStore in a temp dir, elements emitted as a
 * listener emits them, replays sent for real (undici, to a recording handler) and stored as attempts.
 * `deliver` stands in for the capture server, `recordForeignAttempt` for a replay from another terminal.
 */
export class FakeSessionView implements SessionView {
  readonly emitter = new EventEmitter();
  readonly store: EventStore;
  readonly storeDir: string;
  readonly stats: SessionStats = emptyStats();
  mode: 'listen' | 'inspect';
  targets: Targets;
  tunnel: TunnelState;
  publicCaptureUrl: string | null;
  tunnelRetries = 0;
  inspectUrl: string | null = null;
  readonly attachmentCalls: AttachmentCall[] = [];
  listAttachments?: (idOrPrefix: string, progress?: Pick<AttachmentsProgress, 'asking'>) => Promise<AttachmentListing>;
  saveAttachments?: (idOrPrefix: string, dir: string, progress?: AttachmentsProgress) => Promise<SavedAttachments>;
  private readonly dispatcher: Agent;
  private readonly cleanup: () => Promise<void>;

  private constructor(store: EventStore, storeDir: string, cleanup: () => Promise<void>, options: FakeViewOptions) {
    this.store = store;
    this.storeDir = storeDir;
    this.cleanup = cleanup;
    this.mode = options.mode ?? 'listen';
    this.targets = options.targets ?? { forwardTo: null, routes: {} };
    this.tunnel = options.tunnel ?? DISABLED_TUNNEL;
    this.publicCaptureUrl = options.publicCaptureUrl ?? null;
    this.dispatcher = createDispatcher({ insecure: false });
    this.emitter.setMaxListeners(0);
    const files = options.attachments;
    if (files) {
      this.listAttachments = async (idOrPrefix, progress) => {
        const event = await this.store.get(idOrPrefix);
        this.attachmentCalls.push({ intent: 'list', id: event.id });
        progress?.asking?.();
        return { eventId: event.id, messageId: event.mftg?.messageId ?? '', box: 'inbox', files: files.map((file, index) => ({ index, name: file.name, refused: null })) };
      };
      this.saveAttachments = async (idOrPrefix, dir, progress) => {
        const event = await this.store.get(idOrPrefix);
        this.attachmentCalls.push({ intent: 'save', id: event.id, dir });
        progress?.asking?.();
        await mkdir(dir, { recursive: true });
        const saved: SavedFile[] = [];
        for (const file of files) {
          const path = join(dir, file.name);
          await writeFile(path, file.bytes, { flag: 'wx' });
          const done: SavedFile = { name: file.name, state: 'saved', path, size: file.bytes.length, error: null };
          saved.push(done);
          progress?.file?.(done);
        }
        return { eventId: event.id, messageId: event.mftg?.messageId ?? '', box: 'inbox', dir, files: saved };
      };
    }
  }

  static async create(options: FakeViewOptions = {}): Promise<FakeSessionView> {
    const dir = await tempDir('mftg-hooks-web-');
    const store = await EventStore.open(dir.path, options.keep === undefined ? {} : { keep: options.keep });
    await store.openForWriting();
    return new FakeSessionView(store, dir.path, dir.cleanup, options);
  }

  emit(element: SessionElement): void {
    this.emitter.emit('element', element);
  }

  subscribe(listener: (element: SessionElement) => void): () => void {
    this.emitter.on('element', listener);
    return () => this.emitter.off('element', listener);
  }

  snapshot(): SessionSnapshot {
    return {
      mode: this.mode,
      ready: true,
      store: this.storeDir,
      localUrl: this.mode === 'inspect' ? null : 'http://127.0.0.1:3939/test-token',
      publicCaptureUrl: this.publicCaptureUrl,
      tunnel: this.tunnel,
      targets: this.targets,
      stats: structuredClone(this.stats),
      inspectUrl: this.inspectUrl,
    };
  }

  /** Stores a request as the capture server would, then shows it (emits `event`). */
  async deliver(delivery: Delivery, options: { emit?: boolean } = {}): Promise<CapturedEvent> {
    const body = Buffer.isBuffer(delivery.body) ? delivery.body : Buffer.from(typeof delivery.body === 'string' ? delivery.body : JSON.stringify(delivery.body));
    const event: CapturedEvent = {
      id: newId(),
      receivedAt: new Date().toISOString(),
      method: delivery.method ?? 'POST',
      path: delivery.path ?? '/',
      headers: delivery.headers ?? [
        ['host', 'abcd.loca.lt'],
        ['content-type', 'application/json'],
        ['content-length', String(body.length)],
        ['user-agent', 'Apache-HttpClient/4.5.13 (Java/17.0.8)'],
      ],
      remoteAddress: '127.0.0.1',
      size: body.length,
      mftg: summarize(body),
    };
    await this.store.appendEvent(event, body);
    this.stats.captured++;
    if (options.emit !== false) this.emit({ type: 'event', event, foreign: false });
    return event;
  }

  /** Stores an attempt made elsewhere (a `replay` in another terminal) and shows it. */
  async recordForeignAttempt(attempt: ForwardAttempt, responseBody: Buffer = Buffer.alloc(0)): Promise<void> {
    await this.store.appendAttempt(attempt, responseBody);
    this.count(attempt);
    this.emit({ type: 'attempt', attempt, foreign: true });
  }

  setTunnel(tunnel: TunnelState, publicCaptureUrl: string | null): void {
    this.tunnel = tunnel;
    this.publicCaptureUrl = publicCaptureUrl;
    this.emit({ type: 'tunnel', tunnel, publicCaptureUrl });
  }

  private count(attempt: ForwardAttempt): void {
    if (isSuccess(attempt)) this.stats.attempts.ok++;
    else this.stats.attempts.failed++;
  }

  listEvents(filter: ListFilter) {
    return this.store.list(filter);
  }

  getEvent(idOrPrefix: string) {
    return this.store.get(idOrPrefix);
  }

  async getBody(idOrPrefix: string): Promise<Buffer> {
    return (await this.store.getWithBody(idOrPrefix)).body;
  }

  getResponseBody(eventIdOrPrefix: string, attemptId: string): Promise<Buffer> {
    return this.store.attemptBody(eventIdOrPrefix, attemptId);
  }

  async replay(idOrPrefix: string, edits: ReplayEdits = {}): Promise<ForwardAttempt> {
    const { event, body: stored } = await this.store.getWithBody(idOrPrefix);
    const base = edits.target ?? targetFor(this.targets, event.mftg?.eventType);
    if (!base) throw new MftgHooksError('E_NO_TARGET', 'there is no forward target to replay to', 'start the listener with --forward-to <url>');
    const result = await sendAttempt({ ...replayRequest(event, stored, joinTarget(base, event.path), edits, 5_000), dispatcher: this.dispatcher });
    await this.store.appendAttempt(result.attempt, result.responseBody);
    this.count(result.attempt);
    this.emit({ type: 'attempt', attempt: result.attempt, foreign: false });
    return result.attempt;
  }

  async trigger(request: TriggerRequest): Promise<string> {
    const eventType = resolveSampleType(request.eventType);
    if (!eventType) throw new MftgHooksError('E_USAGE', `unknown event type "${request.eventType}"`, 'use received, sent or failed');
    const doc = buildSample(eventType, request.variant ? { variant: request.variant } : {});
    const event = await this.deliver({
      body: doc,
      headers: [
        ['host', '127.0.0.1:3939'],
        ['content-type', 'application/json'],
        ['x-mftg-hooks-source', 'trigger'],
      ],
    });
    return event.id;
  }

  retryTunnel(): void {
    this.tunnelRetries++;
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
    await this.store.close();
    await this.cleanup();
  }
}
