import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import { setTimeout as sleepFor } from 'node:timers/promises';
import type { Agent, Dispatcher } from 'undici';
import { MftgHooksError } from '../errors.js';
import { backoffDelay } from './backoff.js';
import { Semaphore } from './semaphore.js';
import type { As2Message, AttachmentLink, MessageType } from './types.js';

/**
 * A client of MFTG's REST API ("MFT REST API v1.0") that **only looks**: every
 * retrieval sends `markAsRead=false` and every inbox list `fetchAll=true`, so the user's real
 * integration sees exactly what it would have seen. It is polite (at most 4 requests at a time,
 * a timeout per request, backoff on 429/5xx honouring `Retry-After`) and renews its token itself
 * (one refresh, then one authorize, then a clear error). Credentials and tokens never appear in an
 * error it throws.
 */

/** `MFTG_HOOKS_API_URL` when unset. */
export const DEFAULT_MFTG_API_URL = 'https://api.mftgateway.com';
/** Most requests on the wire at once (downloads included). */
export const MFTG_API_MAX_IN_FLIGHT = 4;
/** Default per-request timeout: no answer within it is a `TIMEOUT` (downloads: no byte within it). */
export const MFTG_API_TIMEOUT_MS = 30_000;
/** Default tries of one request that gets 429, 5xx, a timeout or a reset connection. */
export const MFTG_API_MAX_TRIES = 4;
/** The API refuses larger pages (`pageLength` is 1–100). */
export const MFTG_API_MAX_PAGE_LENGTH = 100;
/** Default most pages one listing reads (5,000 messages at 100 a page). */
export const MFTG_API_DEFAULT_MAX_PAGES = 50;
/** Longest `Retry-After` honoured; a longer one fails the request instead of stalling for it. */
export const MFTG_API_MAX_RETRY_AFTER_MS = 60_000;
/** Largest JSON answer read from the API. */
export const MFTG_API_MAX_ANSWER_BYTES = 16 * 1024 * 1024;
/** Default largest attachment `downloadAttachment` keeps in memory (use `openAttachment` beyond). */
export const MFTG_ATTACHMENT_MAX_BYTES = 256 * 1024 * 1024;

const requireHere = createRequire(import.meta.url);
let undiciModule: typeof import('undici') | null = null;
function undici(): typeof import('undici') {
  // Loaded on first use, like the forwarder's: commands that never call the API do not pay for it.
  undiciModule ??= requireHere('undici') as typeof import('undici');
  return undiciModule;
}

/** What the command layer reads from `MFTG_API_USERNAME`, `MFTG_API_PASSWORD` and `MFTG_API_TOKEN`. */
export interface MftgApiCredentials {
  username?: string | undefined;
  password?: string | undefined;
  /** Used as is; with a username and password too, they take over once MFTG refuses it. */
  token?: string | undefined;
}

export interface MftgApiClientOptions {
  credentials: MftgApiCredentials;
  /** `MFTG_HOOKS_API_URL`; default DEFAULT_MFTG_API_URL. A path prefix is kept. */
  baseUrl?: string;
  /** Per request; default MFTG_API_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Default MFTG_API_MAX_IN_FLIGHT. */
  maxInFlight?: number;
  /** Default MFTG_API_MAX_TRIES. */
  maxTries?: number;
  /** Delay before retry `attempt` (1, 2, …) when the answer has no `Retry-After`; default
   *  exponential with jitter from 500 ms, capped at 30 s. */
  backoff?: (attempt: number) => number;
  /** Default MFTG_API_MAX_RETRY_AFTER_MS. */
  maxRetryAfterMs?: number;
  /** How to wait (tests inject one that records the delays). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Clock for `Retry-After` dates and pauses; default Date.now. */
  now?: () => number;
  /** Aborts every request (shutdown). */
  signal?: AbortSignal;
  /** Default: an undici Agent of the client's own, closed by `close()`. */
  dispatcher?: Dispatcher;
}

export interface ListOptions {
  /** Epoch ms: the listing stops at the first message older than this. */
  since?: number;
  /** Default MFTG_API_DEFAULT_MAX_PAGES. */
  maxPages?: number;
  /** 1..MFTG_API_MAX_PAGE_LENGTH (the default). */
  pageLength?: number;
  /** `stationAS2Id` / `partnerAS2Id` / `subject` filters of the API. */
  station?: string;
  partner?: string;
  subject?: string;
}

/** One page of a listing: message ids, newest first. */
export interface MessagePage {
  type: MessageType;
  pageOffset: number;
  /** Ids not seen on an earlier page of the same listing, all inside `since`. */
  ids: string[];
  /** Messages of `ids` already retrieved (with markAsRead=false) to find the `since` boundary:
   *  reuse them instead of asking again. */
  retrieved: Map<string, As2Message>;
}

/** Why a listing stopped: no more messages, the `since` boundary, or the page limit. */
export type ListingEnd = 'end' | 'since' | 'page-limit';

/** Pages newest first; `end` tells why the iteration stopped (null until it has). */
export interface MessageListing extends AsyncIterable<MessagePage> {
  end: ListingEnd | null;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

interface Opened {
  status: number;
  headers: Answer['headers'];
  body: Readable;
  /** Clears the timer and frees the slot (idempotent); `timedOut()` says whether the timer fired. */
  done: (() => void) & { timedOut: () => boolean };
}

interface Exchange {
  method: 'GET' | 'POST';
  url: URL;
  headers: Record<string, string>;
  body?: string;
  /** `GET /message/inbox`: names the request in errors (never a query, a token or a body). */
  what: string;
}

type Failure = 'timeout' | 'unreachable' | 'reset' | 'aborted' | 'other';

/** Thrown inside the retry loop for a request that got no answer; turned into an MftgHooksError. */
class TransportFailure extends Error {
  constructor(
    readonly failure: Failure,
    readonly detail: string,
  ) {
    super(detail);
  }
}

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'UND_ERR_CONNECT_TIMEOUT',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);
const RESET = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);
const TIMEOUT = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

function classify(error: unknown, timedOut: boolean, aborted: boolean): TransportFailure {
  if (timedOut) return new TransportFailure('timeout', 'TIMEOUT');
  if (aborted) return new TransportFailure('aborted', 'ABORTED');
  const err = error as { code?: unknown; cause?: { code?: unknown } };
  const found = err.cause?.code ?? err.code;
  const code = typeof found === 'string' ? found : 'ERROR';
  if (TIMEOUT.has(code)) return new TransportFailure('timeout', 'TIMEOUT');
  if (UNREACHABLE.has(code)) return new TransportFailure('unreachable', code === 'UND_ERR_CONNECT_TIMEOUT' ? 'CONNECT_TIMEOUT' : code);
  if (RESET.has(code)) return new TransportFailure('reset', 'ECONNRESET');
  return new TransportFailure('other', code);
}

/** `Retry-After` as delay-seconds or an HTTP date → ms from now; null when absent or unreadable. */
export function retryAfterMs(value: string | string[] | undefined, now: number): number | null {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === '') return null;
  if (/^\s*\d+\s*$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** The `message` of an MFTG error answer, when it has one. */
function serverMessage(body: Buffer): string | null {
  try {
    const doc = JSON.parse(body.toString('utf8')) as { message?: unknown };
    return typeof doc.message === 'string' && doc.message !== '' ? doc.message.slice(0, 300) : null;
  } catch {
    return null;
  }
}

function boxPath(type: MessageType): string {
  return type === 'received' ? '/message/inbox' : type === 'sent' ? '/message/outbox' : '/message/outbox/failed';
}

/** One message (and its attachments): inbox for received, outbox for sent and failed. */
function messagePath(type: MessageType, id: string): string {
  // encodeURIComponent encodes `<`, `>`, `@` and `/`, which an AS2 Message-ID may all contain.
  return `${type === 'received' ? '/message/inbox' : '/message/outbox'}/${encodeURIComponent(id)}`;
}

function timestampOf(message: As2Message): number {
  const value: unknown = message.timestamp;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) return Date.parse(value);
  // No time: count it as inside any window rather than cut the listing there.
  return Number.POSITIVE_INFINITY;
}

export class MftgApiClient {
  readonly baseUrl: string;
  readonly #base: URL;
  /** The path of MFTG_HOOKS_API_URL, without a trailing slash ('' for none). */
  readonly #prefix: string;
  readonly #username: string | undefined;
  readonly #password: string | undefined;
  readonly #tokenGiven: boolean;
  #token: string | null;
  #refreshToken: string | null = null;
  /** Bumped whenever the token changes: a 401 for an older token just retries with the new one. */
  #generation = 0;
  #signingIn: Promise<void> | null = null;
  #renewing: Promise<void> | null = null;
  /** Every secret known, blanked out of any text that goes into an error. */
  readonly #secrets = new Set<string>();

  readonly #timeoutMs: number;
  readonly #maxTries: number;
  readonly #backoff: (attempt: number) => number;
  readonly #maxRetryAfterMs: number;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly #now: () => number;
  readonly #signal: AbortSignal | undefined;
  readonly #slots: Semaphore;
  readonly #dispatcher: Dispatcher;
  readonly #ownDispatcher: Agent | null;
  /** After a 429 with Retry-After, no new request starts before this time. */
  #pausedUntil = 0;

  constructor(options: MftgApiClientOptions) {
    const { username, password, token } = options.credentials;
    this.#username = username || undefined;
    this.#password = password || undefined;
    this.#tokenGiven = Boolean(token);
    this.#token = token || null;
    for (const secret of [username, password, token]) if (secret) this.#secrets.add(secret);
    if (!this.#token && !(this.#username && this.#password)) {
      throw new MftgHooksError('E_MFTG_NO_CREDENTIALS', 'no MFTG API credentials', 'set MFTG_API_USERNAME and MFTG_API_PASSWORD (or MFTG_API_TOKEN)');
    }
    let base: URL;
    try {
      base = new URL(options.baseUrl ?? DEFAULT_MFTG_API_URL);
    } catch {
      throw new MftgHooksError('E_USAGE', 'MFTG_HOOKS_API_URL is not a URL', 'use http(s)://host[:port][/prefix], e.g. https://api.mftgateway.com');
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new MftgHooksError('E_USAGE', 'MFTG_HOOKS_API_URL must be an http or https URL');
    // A user:password@ in the URL would end up in messages: it is not how this API authenticates.
    base.username = '';
    base.password = '';
    base.search = '';
    base.hash = '';
    this.#prefix = base.pathname.replace(/\/+$/, '');
    base.pathname = '/';
    this.#base = base;
    this.baseUrl = `${base.origin}${this.#prefix}`;

    this.#timeoutMs = options.timeoutMs ?? MFTG_API_TIMEOUT_MS;
    this.#maxTries = Math.max(1, options.maxTries ?? MFTG_API_MAX_TRIES);
    this.#backoff = options.backoff ?? ((attempt) => backoffDelay(attempt, { initialMs: 500, maxMs: 30_000 }));
    this.#maxRetryAfterMs = options.maxRetryAfterMs ?? MFTG_API_MAX_RETRY_AFTER_MS;
    this.#sleep = options.sleep ?? ((ms, signal) => sleepFor(ms, undefined, signal ? { signal } : undefined));
    this.#now = options.now ?? Date.now;
    this.#signal = options.signal;
    this.#slots = new Semaphore(options.maxInFlight ?? MFTG_API_MAX_IN_FLIGHT);
    this.#ownDispatcher = options.dispatcher ? null : new (undici().Agent)({ connect: { timeout: Math.min(this.#timeoutMs || 10_000, 10_000) } });
    this.#dispatcher = options.dispatcher ?? this.#ownDispatcher!;
  }

  /** Signs in with the username and password (`POST /authorize`). */
  async authorize(): Promise<void> {
    if (!this.#username || !this.#password) throw this.#refused();
    const answer = await this.#request(this.#exchange('POST', '/authorize', {}, { username: this.#username, password: this.#password }));
    if (answer.status === 400 || answer.status === 401 || answer.status === 403) throw this.#refused();
    const doc = this.#json(answer, 'POST /authorize') as { api_token?: unknown; refresh_token?: unknown };
    if (typeof doc.api_token !== 'string' || doc.api_token === '') throw this.#apiError('MFTG answered POST /authorize without an api_token');
    this.#setTokens(doc.api_token, typeof doc.refresh_token === 'string' ? doc.refresh_token : null);
  }

  /** Renews the api token with the refresh token (`POST /refresh-session`); false when MFTG refuses it. */
  async refresh(): Promise<boolean> {
    if (!this.#refreshToken || !this.#username) return false;
    const answer = await this.#request(this.#exchange('POST', '/refresh-session', {}, { username: this.#username, refreshToken: this.#refreshToken }));
    if (answer.status === 400 || answer.status === 401 || answer.status === 403) {
      this.#refreshToken = null;
      return false;
    }
    const doc = this.#json(answer, 'POST /refresh-session') as { api_token?: unknown; refresh_token?: unknown };
    if (typeof doc.api_token !== 'string' || doc.api_token === '') throw this.#apiError('MFTG answered POST /refresh-session without an api_token');
    this.#setTokens(doc.api_token, typeof doc.refresh_token === 'string' ? doc.refresh_token : this.#refreshToken);
    return true;
  }

  /**
   * The messages of one list, page by page, newest first (`sortDir=desc`), down to `since` and at
   * most `maxPages` pages. Inbox lists always send `fetchAll=true`. `pageOffset` counts pages
   * (0, 1, 2 …): read as an item offset by the API it would still miss nothing, only repeat ids,
   * and repeated ids are dropped.
   */
  listMessages(type: MessageType, options: ListOptions = {}): MessageListing {
    const pageLength = options.pageLength ?? MFTG_API_MAX_PAGE_LENGTH;
    if (!Number.isInteger(pageLength) || pageLength < 1 || pageLength > MFTG_API_MAX_PAGE_LENGTH) throw new RangeError(`pageLength must be 1..${MFTG_API_MAX_PAGE_LENGTH}`);
    const maxPages = options.maxPages ?? MFTG_API_DEFAULT_MAX_PAGES;
    if (!Number.isInteger(maxPages) || maxPages < 1) throw new RangeError('maxPages must be a positive integer');
    const listing: MessageListing = {
      end: null,
      [Symbol.asyncIterator]: () => this.#pages(type, { ...options, pageLength, maxPages }, listing),
    };
    return listing;
  }

  /** Every id of a listing (convenience over `listMessages`). */
  async listMessageIds(type: MessageType, options: ListOptions = {}): Promise<{ ids: string[]; end: ListingEnd }> {
    const listing = this.listMessages(type, options);
    const ids: string[] = [];
    for await (const page of listing) ids.push(...page.ids);
    return { ids, end: listing.end ?? 'end' };
  }

  /** One message, retrieved with `markAsRead=false`. */
  async getMessage(type: MessageType, id: string): Promise<As2Message> {
    const path = messagePath(type, id);
    const doc = await this.#getJson(path, { markAsRead: 'false' }, `${type} message ${id}`);
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw this.#apiError(`MFTG answered the retrieval of ${id} with something that is not a message`);
    const message = doc as As2Message;
    return typeof message.as2MessageId === 'string' ? message : { ...message, as2MessageId: id };
  }

  /** The files of one message: names and pre-signed download URLs (valid about 10 minutes). */
  async listAttachments(type: MessageType, id: string): Promise<AttachmentLink[]> {
    // markAsRead=false here too: whether fetching the files marks a message read is not documented.
    const doc = (await this.#getJson(`${messagePath(type, id)}/attachments`, { markAsRead: 'false' }, `${type} message ${id}`)) as { attachments?: unknown };
    if (!doc || !Array.isArray(doc.attachments)) throw this.#apiError(`MFTG answered the attachments of ${id} without a list`);
    const links: AttachmentLink[] = [];
    for (const entry of doc.attachments as Array<{ name?: unknown; url?: unknown }>) {
      if (entry && typeof entry.name === 'string' && typeof entry.url === 'string') links.push({ name: entry.name, url: entry.url });
    }
    return links;
  }

  /** Downloads one file to memory, byte for byte (at most `maxBytes`, default MFTG_ATTACHMENT_MAX_BYTES). */
  async downloadAttachment(link: AttachmentLink, options: { maxBytes?: number } = {}): Promise<Buffer> {
    const maxBytes = options.maxBytes ?? MFTG_ATTACHMENT_MAX_BYTES;
    const stream = await this.openAttachment(link);
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > maxBytes) {
          stream.destroy();
          throw new MftgHooksError('E_MFTG_API', `${link.name} is larger than ${maxBytes} bytes`, 'save it to a directory instead of keeping it in memory');
        }
        chunks.push(chunk);
      }
    } catch (error) {
      if (error instanceof MftgHooksError) throw error;
      const failure = error instanceof TransportFailure ? error : classify(error, false, this.#signal?.aborted ?? false);
      throw this.#transportError(`the download of ${link.name}`, failure.failure === 'other' ? new TransportFailure('reset', failure.detail) : failure);
    }
    return Buffer.concat(chunks, size);
  }

  /**
   * Opens one file's download: the body as a stream (one of the request slots is held until it ends).
   * The pre-signed URL is fetched without the API token: S3 refuses a second auth mechanism, and the
   * token has no business on another host.
   */
  async openAttachment(link: AttachmentLink): Promise<Readable> {
    let url: URL;
    try {
      url = new URL(link.url);
    } catch {
      throw new MftgHooksError('E_MFTG_API', `MFTG gave ${link.name} a download link that is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new MftgHooksError('E_MFTG_API', `MFTG gave ${link.name} a download link that is not http(s)`);
    // The query of a pre-signed URL is its signature: never in a message.
    const what = `the download of ${link.name} (${url.host}${url.pathname})`;
    for (let attempt = 1; ; attempt++) {
      let opened: Opened;
      try {
        opened = await this.#open({ method: 'GET', url, headers: { accept: '*/*' }, what }, true);
      } catch (error) {
        if (!(error instanceof TransportFailure)) throw error;
        const failure = error;
        if ((failure.failure === 'timeout' || failure.failure === 'reset') && attempt < this.#maxTries) {
          await this.#sleep(this.#backoff(attempt), this.#signal);
          continue;
        }
        throw this.#transportError(what, failure);
      }
      const { status, headers, body } = opened;
      if (status >= 200 && status < 300) return body;
      body.resume();
      if ((status === 429 || status >= 500) && attempt < this.#maxTries) {
        await this.#sleep(this.#retryDelay(headers, attempt, what), this.#signal);
        continue;
      }
      if (status === 403) {
        throw new MftgHooksError('E_MFTG_LINK_EXPIRED', 'the download links expired; ask again', "MFTG's download links are valid for about 10 minutes: run the command again for fresh ones");
      }
      if (status === 404) throw new MftgHooksError('E_MFTG_NOT_FOUND', `MFTG's storage has no file ${link.name} any more`);
      throw new MftgHooksError('E_MFTG_API', `${what} failed: HTTP ${status}`);
    }
  }

  /** Closes the client's own HTTP connections (not a dispatcher passed in). */
  async close(): Promise<void> {
    await this.#ownDispatcher?.close();
  }

  async *#pages(type: MessageType, options: ListOptions & { pageLength: number; maxPages: number }, listing: MessageListing): AsyncGenerator<MessagePage> {
    const seen = new Set<string>();
    const filters: Record<string, string> = {};
    if (options.station !== undefined) filters.stationAS2Id = options.station;
    if (options.partner !== undefined) filters.partnerAS2Id = options.partner;
    if (options.subject !== undefined) filters.subject = options.subject;
    for (let pageOffset = 0; ; pageOffset++) {
      if (pageOffset >= options.maxPages) {
        listing.end = 'page-limit';
        return;
      }
      const query: Record<string, string> = { sortDir: 'desc', pageLength: String(options.pageLength), pageOffset: String(pageOffset), ...filters };
      // Without fetchAll=true the inbox hides what the user's integration already marked read.
      if (type === 'received') query.fetchAll = 'true';
      const doc = (await this.#getJson(boxPath(type), query, `the ${type} list`)) as { messages?: unknown };
      if (!doc || !Array.isArray(doc.messages)) throw this.#apiError(`MFTG answered GET ${boxPath(type)} without a message list`);
      const ids = doc.messages.filter((id): id is string => typeof id === 'string');
      const fresh = ids.filter((id) => !seen.has(id));
      for (const id of fresh) seen.add(id);
      const retrieved = new Map<string, As2Message>();
      const at = async (index: number): Promise<number> => {
        const id = fresh[index]!;
        let message = retrieved.get(id);
        if (!message) {
          message = await this.getMessage(type, id);
          retrieved.set(id, message);
        }
        return timestampOf(message);
      };
      let cut = fresh.length;
      let crossed = false;
      if (options.since !== undefined && fresh.length > 0 && (await at(fresh.length - 1)) < options.since) {
        // The page reaches past `since`: find its first older message (the list is newest first).
        crossed = true;
        let low = 0;
        let high = fresh.length - 1;
        while (low < high) {
          const mid = (low + high) >> 1;
          if ((await at(mid)) < options.since) high = mid;
          else low = mid + 1;
        }
        cut = low;
      }
      if (cut > 0) {
        const kept = fresh.slice(0, cut);
        for (const id of retrieved.keys()) if (!kept.includes(id)) retrieved.delete(id);
        yield { type, pageOffset, ids: kept, retrieved };
      }
      if (crossed) {
        listing.end = 'since';
        return;
      }
      if (ids.length < options.pageLength) {
        listing.end = 'end';
        return;
      }
    }
  }

  /** An authorized GET of JSON, renewing the token on 401/403: one refresh, then one authorize. */
  async #getJson(path: string, query: Record<string, string>, subject: string): Promise<unknown> {
    const what = `GET ${path.replace(/\/[^/]*%[^/]*/g, '/{id}')}`;
    let stage: 0 | 1 | 2 = 0;
    for (let round = 0; round < 8; round++) {
      const token = await this.#currentToken();
      const generation = this.#generation;
      const answer = await this.#request(this.#exchange('GET', path, query, undefined, token));
      if (answer.status === 401 || answer.status === 403) {
        if (generation !== this.#generation) continue;
        stage = await this.#renew(stage);
        continue;
      }
      if (answer.status === 404) throw new MftgHooksError('E_MFTG_NOT_FOUND', `MFTG has no ${subject}`, 'check the message id and that the credentials belong to the account of that station');
      return this.#json(answer, what);
    }
    throw this.#refused();
  }

  async #currentToken(): Promise<string> {
    if (this.#token) return this.#token;
    this.#signingIn ??= this.authorize().finally(() => {
      this.#signingIn = null;
    });
    await this.#signingIn;
    return this.#token!;
  }

  /** One renewal at a time: a request whose token was refused escalates refresh → authorize → error. */
  async #renew(stage: 0 | 1 | 2): Promise<0 | 1 | 2> {
    if (this.#renewing) {
      await this.#renewing;
      return stage;
    }
    let next: 0 | 1 | 2 = stage;
    this.#renewing = (async () => {
      if (stage < 1 && (await this.refresh())) {
        next = 1;
        return;
      }
      if (stage < 2 && this.#username && this.#password) {
        await this.authorize();
        next = 2;
        return;
      }
      throw this.#refused();
    })().finally(() => {
      this.#renewing = null;
    });
    await this.#renewing;
    return next;
  }

  #setTokens(token: string, refreshToken: string | null): void {
    this.#token = token;
    this.#refreshToken = refreshToken;
    this.#secrets.add(token);
    if (refreshToken) this.#secrets.add(refreshToken);
    this.#generation++;
  }

  #refused(): MftgHooksError {
    if (this.#username && this.#password) {
      return new MftgHooksError('E_MFTG_AUTH', 'MFTG refused the credentials in MFTG_API_USERNAME/MFTG_API_PASSWORD', "check the API user's name and password in the MFTG console");
    }
    return new MftgHooksError(
      'E_MFTG_AUTH',
      'MFTG refused the token in MFTG_API_TOKEN',
      this.#tokenGiven ? 'the token may have expired: set MFTG_API_USERNAME and MFTG_API_PASSWORD instead, so it can be renewed' : undefined,
    );
  }

  #exchange(method: 'GET' | 'POST', path: string, query: Record<string, string>, body?: object, token?: string): Exchange {
    const url = new URL(this.#base.toString());
    url.pathname = `${this.#prefix}${path}`;
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    const headers: Record<string, string> = { accept: 'application/json' };
    // MFTG takes the token raw: `Bearer <token>` is refused like a wrong token.
    if (token !== undefined) headers.authorization = token;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const what = `${method} ${path.replace(/\/[^/]*%[^/]*/g, '/{id}')}`;
    return body === undefined ? { method, url, headers, what } : { method, url, headers, what, body: JSON.stringify(body) };
  }

  /** One request with retries on 429, 5xx, timeouts and resets; the last answer is returned as is. */
  async #request(exchange: Exchange): Promise<Answer> {
    let afterRetry = false;
    for (let attempt = 1; ; attempt++) {
      let answer: Answer;
      try {
        answer = await this.#once(exchange, afterRetry);
      } catch (error) {
        if (!(error instanceof TransportFailure)) throw error;
        if ((error.failure === 'timeout' || error.failure === 'reset') && attempt < this.#maxTries) {
          await this.#sleep(this.#backoff(attempt), this.#signal);
          afterRetry = true;
          continue;
        }
        throw this.#transportError(exchange.what, error);
      }
      if ((answer.status === 429 || answer.status >= 500) && attempt < this.#maxTries) {
        await this.#sleep(this.#retryDelay(answer.headers, attempt, exchange.what, answer.status === 429), this.#signal);
        afterRetry = true;
        continue;
      }
      if (answer.status === 429 || answer.status >= 500) {
        const message = serverMessage(answer.body);
        throw this.#apiError(`MFTG answered ${answer.status} to ${exchange.what} ${this.#maxTries} times${message ? ` (${message})` : ''}`);
      }
      return answer;
    }
  }

  /** Retry-After when given (capped), else the backoff; a 429's wait also holds back new requests. */
  #retryDelay(headers: Answer['headers'], attempt: number, what: string, rateLimited = false): number {
    const asked = retryAfterMs(headers['retry-after'], this.#now());
    if (asked !== null && asked > this.#maxRetryAfterMs) {
      throw new MftgHooksError('E_MFTG_API', `MFTG's rate limit asks to wait ${Math.ceil(asked / 1000)} s before ${what}`, 'try again later');
    }
    const delay = asked ?? this.#backoff(attempt);
    if (rateLimited) this.#pausedUntil = Math.max(this.#pausedUntil, this.#now() + delay);
    return delay;
  }

  async #once(exchange: Exchange, skipPause: boolean): Promise<Answer> {
    const { status, headers, body, done } = await this.#open(exchange, false, skipPause);
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MFTG_API_MAX_ANSWER_BYTES) {
          body.destroy();
          throw this.#apiError(`MFTG's answer to ${exchange.what} is larger than ${MFTG_API_MAX_ANSWER_BYTES} bytes`);
        }
        chunks.push(chunk);
      }
    } catch (error) {
      if (error instanceof MftgHooksError) throw error;
      throw classify(error, done.timedOut(), this.#signal?.aborted ?? false);
    } finally {
      done();
    }
    return { status, headers, body: Buffer.concat(chunks, size) };
  }

  /**
   * Sends one request in a slot of the semaphore. API answers stay under the overall timeout until
   * `done()`; a download's body only has an idle timeout (a large file may take long, but not stall).
   * Throws a TransportFailure when no answer came.
   */
  async #open(exchange: Exchange, download: boolean, skipPause = false): Promise<Opened> {
    if (!skipPause) {
      const wait = this.#pausedUntil - this.#now();
      if (wait > 0) await this.#sleep(wait, this.#signal);
    }
    if (this.#signal?.aborted) throw new TransportFailure('aborted', 'ABORTED');
    const release = await this.#slots.acquire();
    const controller = new AbortController();
    let timedOut = false;
    const timer =
      this.#timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            controller.abort();
          }, this.#timeoutMs)
        : null;
    const onAbort = (): void => controller.abort();
    this.#signal?.addEventListener('abort', onAbort, { once: true });
    const finish = Object.assign(
      (): void => {
        if (timer) clearTimeout(timer);
        this.#signal?.removeEventListener('abort', onAbort);
        release();
      },
      { timedOut: () => timedOut },
    );
    try {
      const response = await undici().request(exchange.url, {
        method: exchange.method,
        headers: exchange.headers,
        body: exchange.body ?? null,
        dispatcher: this.#dispatcher,
        signal: controller.signal,
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
      });
      const body = response.body as unknown as Readable;
      if (download) {
        // The slot is held until the body is consumed or dropped; the overall timer is off.
        if (timer) clearTimeout(timer);
        body.once('close', finish);
        body.once('end', finish);
        body.once('error', finish);
      }
      return { status: response.statusCode, headers: response.headers, body, done: finish };
    } catch (error) {
      finish();
      throw classify(error, timedOut, this.#signal?.aborted ?? false);
    }
  }

  #json(answer: Answer, what: string): unknown {
    if (answer.status < 200 || answer.status >= 300) {
      const message = serverMessage(answer.body);
      throw this.#apiError(`MFTG answered ${answer.status} to ${what}${message ? `: ${message}` : ''}`);
    }
    try {
      return JSON.parse(answer.body.toString('utf8')) as unknown;
    } catch {
      throw this.#apiError(`MFTG answered ${what} with something that is not JSON`);
    }
  }

  #apiError(message: string): MftgHooksError {
    return new MftgHooksError('E_MFTG_API', this.#redact(message), 'MFTG may be having trouble: try again in a few minutes');
  }

  #transportError(what: string, failure: TransportFailure): MftgHooksError {
    switch (failure.failure) {
      case 'timeout':
        return new MftgHooksError('E_MFTG_TIMEOUT', `MFTG did not answer ${what} within ${this.#timeoutMs} ms`, 'MFTG may be slow or down: try again in a few minutes');
      case 'unreachable':
        return new MftgHooksError('E_MFTG_UNREACHABLE', `cannot reach the MFTG API at ${this.baseUrl} (${failure.detail})`, 'check your network connection, or MFTG_HOOKS_API_URL if you set it');
      case 'aborted':
        return new MftgHooksError('E_MFTG_API', `${what} was cancelled`);
      default:
        return new MftgHooksError(
          'E_MFTG_UNREACHABLE',
          `the connection to the MFTG API failed during ${what} (${failure.detail})`,
          'check your network connection, or MFTG_HOOKS_API_URL if you set it',
        );
    }
  }

  /** Server text may echo what it was sent: blank out every credential and token. */
  #redact(text: string): string {
    let out = text;
    for (const secret of this.#secrets) if (secret.length > 0) out = out.split(secret).join('***');
    return out;
  }
}
