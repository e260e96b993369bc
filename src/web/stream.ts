import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SessionElement } from '../core/session-view.js';
import type { SessionView } from '../core/session-view.js';
import { sessionRecord } from '../output/records.js';

/** At least this many recent records are kept for clients that reconnect (`Last-Event-ID`); older gaps get a `reset`. */
export const STREAM_RING_SIZE = 5_000;
/** The ring may grow this far past STREAM_RING_SIZE before its oldest records are dropped. */
const RING_TRIM_STEP = 500;
/** A client whose socket buffers more than this is cut off; it reconnects and resumes (or resets). */
export const STREAM_CLIENT_BUFFER_BYTES = 8 * 1024 * 1024;
/** A comment line keeps idle connections (and proxies, sleeping laptops) honest. */
export const STREAM_HEARTBEAT_MS = 15_000;
/** Session snapshots (header counts) are sent at most this often. */
export const SESSION_RECORD_MS = 250;
/** What the browser waits before reconnecting (the SSE `retry:` field). */
export const STREAM_RETRY_MS = 1_000;

/** A record of the ring; its frame is written when a client first needs it. */
interface Entry {
  seq: number;
  record: Record<string, unknown>;
  frame?: string;
}

/**
 * The record a face shows for an element: the `--json` record, and for `pending`
 * (which `--json` does not print) the retry state the inspector shows in its details.
 */
export function webRecord(element: SessionElement): Record<string, unknown> | null {
  if (element.type === 'pending') return { type: 'pending', eventId: element.eventId, pending: element.pending };
  return sessionRecord(element);
}

/**
 * The live stream (`GET /api/stream`): every session element as a server-sent event whose data is
 * its typed record, with id `<runId>.<seq>`. A client that reconnects with a `Last-Event-ID` of this
 * run still in the ring gets exactly what it missed; any other id (a restarted inspector, a gap
 * older than the ring) gets a `reset` event, after which the page fetches the list anew.
 */
export class StreamHub {
  readonly runId = randomBytes(6).toString('hex');
  private seq = 0;
  private readonly ring: Entry[] = [];
  private readonly clients = new Set<ServerResponse>();
  private readonly unsubscribe: () => void;
  private readonly heartbeat: NodeJS.Timeout;
  private sessionTimer: NodeJS.Timeout | null = null;

  constructor(
    view: SessionView,
    private readonly hello: () => Record<string, unknown>,
  ) {
    this.unsubscribe = view.subscribe((element) => this.publish(element));
    this.heartbeat = setInterval(() => this.broadcast(': keep-alive\n\n'), STREAM_HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  get lastId(): string {
    return `${this.runId}.${this.seq}`;
  }

  private publish(element: SessionElement): void {
    const record = webRecord(element);
    if (record) {
      const entry: Entry = { seq: ++this.seq, record };
      this.ring.push(entry);
      // Trimmed in steps, not per record: a splice moves the whole ring (5,000 slots per captured event
      // under a burst was the listener's largest cost, `npm run bench -- --only capture`).
      if (this.ring.length >= STREAM_RING_SIZE + RING_TRIM_STEP) this.ring.splice(0, this.ring.length - STREAM_RING_SIZE);
      // With no page open (most of a listener's life) nothing is serialized until one asks.
      if (this.clients.size > 0) this.broadcast(this.frameOf(entry));
    }
    if (this.clients.size > 0) {
      this.sessionTimer ??= setTimeout(() => {
        this.sessionTimer = null;
        this.broadcast(this.sessionFrame());
      }, SESSION_RECORD_MS);
    }
  }

  private frameOf(entry: Entry): string {
    entry.frame ??= `id: ${this.runId}.${entry.seq}\ndata: ${JSON.stringify(entry.record)}\n\n`;
    return entry.frame;
  }

  /** A snapshot without an id: it does not move the client's Last-Event-ID. */
  private sessionFrame(): string {
    return `event: session\ndata: ${JSON.stringify(this.hello())}\n\n`;
  }

  private broadcast(frame: string): void {
    for (const res of this.clients) this.write(res, frame);
  }

  private write(res: ServerResponse, frame: string): void {
    res.write(frame);
    if (res.writableLength > STREAM_CLIENT_BUFFER_BYTES) {
      this.clients.delete(res);
      res.destroy();
    }
  }

  /** Serves one stream client until it goes away. */
  serve(req: IncomingMessage, res: ServerResponse, headers: Record<string, string>): void {
    const url = new URL(req.url ?? '/', 'http://inspector');
    const header = req.headers['last-event-id'];
    const lastEventId = (typeof header === 'string' ? header : null) ?? url.searchParams.get('lastEventId');
    res.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    res.socket?.setNoDelay(true);
    res.socket?.setTimeout(0);
    let frames = `retry: ${STREAM_RETRY_MS}\n\n`;
    const resumed = lastEventId ? this.missedSince(lastEventId) : null;
    if (lastEventId && resumed === null) frames += `id: ${this.lastId}\nevent: reset\ndata: ${JSON.stringify({ type: 'reset', runId: this.runId })}\n\n`;
    else if (!lastEventId) frames += `id: ${this.lastId}\nevent: hello\ndata: ${JSON.stringify({ type: 'hello', runId: this.runId })}\n\n`;
    if (resumed) for (const entry of resumed) frames += this.frameOf(entry);
    frames += this.sessionFrame();
    res.write(frames);
    this.clients.add(res);
    const drop = (): void => {
      this.clients.delete(res);
    };
    req.on('close', drop);
    res.on('close', drop);
  }

  /** The entries after `lastEventId`, or null when they cannot be told (another run, or too old). */
  private missedSince(lastEventId: string): Entry[] | null {
    const match = /^([0-9a-f]+)\.(\d+)$/.exec(lastEventId.trim());
    if (!match || match[1] !== this.runId) return null;
    const seen = Number(match[2]);
    if (seen > this.seq) return null;
    if (seen === this.seq) return [];
    const oldest = this.ring[0]?.seq ?? this.seq + 1;
    if (seen < oldest - 1) return null;
    return this.ring.slice(seen - oldest + 1);
  }

  close(): void {
    this.unsubscribe();
    clearInterval(this.heartbeat);
    if (this.sessionTimer) clearTimeout(this.sessionTimer);
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}
