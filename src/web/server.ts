import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { MftgHooksError } from '../core/errors.js';
import { RefusedFileName } from '../core/errors.js';
import type { AttachmentListing } from '../core/session-view.js';
import { deliveredItem, originalItem, originalUrl, requestUrl } from '../core/export.js';
import { toCurl } from '../output/export/curl.js';
import { toHar } from '../output/export/har.js';
import { toJsonExport } from '../output/export/json.js';
import { targetFor } from '../core/delivery/targets.js';
import type { ReplayEdits, SessionSnapshot, SessionView } from '../core/session-view.js';
import type { EventRecord, HeaderPairs } from '../core/types.js';
import { attemptRecord, eventDetailRecord, eventRecord, sessionRecord } from '../output/records.js';
import { bindFirstFree, parseInspectAddress, type InspectAddress } from './address.js';
import { pageHtml, readAsset } from './assets.js';
import { allowedHosts, allowedOrigins, checkRequest, newNonce, newSecret, refuse, securityHeaders } from './security.js';
import { StreamHub } from './stream.js';

/** Largest JSON request body the API reads (a replay carries an edited body of up to --max-body, base64). */
export const API_BODY_LIMIT_BYTES = 32 * 1024 * 1024;
/** `GET /api/events` without `limit`; and the most it returns at once. */
export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 100_000;

export interface InspectorOptions {
  /** `--inspect <[host:]port>` as given (default `127.0.0.1`, ports 4141…4150, else any free one), or parsed. */
  address?: string | InspectAddress | null;
  /** The tool's version, for HAR exports; default the package's. */
  version?: string;
}

export interface Inspector {
  /** `http://127.0.0.1:4141/` */
  url: string;
  host: string;
  port: number;
  /** Stops serving and ends every stream; idempotent. */
  close(): Promise<void>;
}

function packageVersion(): string {
  try {
    return String((JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? '0.0.0');
  } catch {
    return '0.0.0';
  }
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

const STATUS_OF_CODE: Partial<Record<string, number>> = {
  E_USAGE: 400,
  E_NOT_JSON: 400,
  E_EVENT_NOT_FOUND: 404,
  E_AMBIGUOUS_ID: 409,
  E_NO_TARGET: 409,
  E_NO_LISTENER: 409,
  // The MFTG API, for a message's files: missing credentials are the setup's; the rest is upstream's.
  E_MFTG_NO_CREDENTIALS: 409,
  E_MFTG_NOT_FOUND: 404,
  E_MFTG_AUTH: 502,
  E_MFTG_API: 502,
  E_MFTG_UNREACHABLE: 502,
  E_MFTG_LINK_EXPIRED: 502,
  E_MFTG_TIMEOUT: 504,
};

function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > API_BODY_LIMIT_BYTES) {
        reject(new HttpError(413, 'E_TOO_LARGE', `request body over ${API_BODY_LIMIT_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8').trim();
      if (text === '') return resolve({});
      try {
        const value: unknown = JSON.parse(text);
        if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
        resolve(value as Record<string, unknown>);
      } catch {
        reject(new HttpError(400, 'E_NOT_JSON', 'the request body must be a JSON object'));
      }
    });
  });
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** `{body?: {encoding, data} | string, headers?: [[name, value]…] | {name: value}, target?: url}` → edits. */
export function parseReplayEdits(input: Record<string, unknown>): ReplayEdits {
  const edits: ReplayEdits = {};
  const body = input.body;
  if (typeof body === 'string') edits.body = Buffer.from(body, 'utf8');
  else if (body && typeof body === 'object') {
    const { encoding, data } = body as { encoding?: unknown; data?: unknown };
    if (typeof data !== 'string' || (encoding !== 'utf8' && encoding !== 'base64' && encoding !== undefined))
      throw new HttpError(400, 'E_USAGE', 'body must be a string or {"encoding":"utf8"|"base64","data":"…"}');
    edits.body = Buffer.from(data, encoding === 'base64' ? 'base64' : 'utf8');
  } else if (body !== undefined && body !== null) throw new HttpError(400, 'E_USAGE', 'body must be a string or {"encoding":"utf8"|"base64","data":"…"}');
  const headers = input.headers;
  if (headers !== undefined && headers !== null) {
    const pairs: HeaderPairs = Array.isArray(headers)
      ? ((headers as unknown[]).map((pair) => (Array.isArray(pair) ? [pair[0], pair[1]] : [undefined, undefined])) as HeaderPairs)
      : Object.entries(headers as Record<string, string>);
    for (const [name, value] of pairs) {
      if (typeof name !== 'string' || !HEADER_NAME.test(name)) throw new HttpError(400, 'E_USAGE', `invalid header name ${JSON.stringify(name)}`);
      if (typeof value !== 'string' || /[\r\n\0]/.test(value)) throw new HttpError(400, 'E_USAGE', `invalid value for header ${name}`);
    }
    edits.headers = pairs;
  }
  const target = input.target;
  if (typeof target === 'string' && target.trim() !== '') {
    let url: URL;
    try {
      url = new URL(target.trim());
    } catch {
      throw new HttpError(400, 'E_USAGE', `invalid target URL ${JSON.stringify(target)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new HttpError(400, 'E_USAGE', 'the target must be an http:// or https:// URL');
    edits.target = url.toString();
  }
  return edits;
}

/** The header record: `GET /api/session` and the stream's `session` events. */
export function sessionInfo(snapshot: SessionSnapshot, extra: { runId: string; secret: string; version: string; attachments?: AttachmentsSetup }): Record<string, unknown> {
  const tunnel = sessionRecord({ type: 'tunnel', tunnel: snapshot.tunnel, publicCaptureUrl: snapshot.publicCaptureUrl });
  return {
    type: 'session',
    mode: snapshot.mode,
    ready: snapshot.ready,
    store: snapshot.store,
    localUrl: snapshot.localUrl,
    publicUrl: snapshot.publicCaptureUrl,
    tunnel,
    forwardTo: snapshot.targets.forwardTo,
    routes: snapshot.targets.routes,
    stats: snapshot.stats,
    inspectUrl: snapshot.inspectUrl,
    version: extra.version,
    runId: extra.runId,
    secret: extra.secret,
    attachments: extra.attachments ?? { ready: false, code: 'E_UNSUPPORTED', message: 'this inspector cannot reach the MFTG API', hint: null },
  };
}

/** Whether the details can list a message's files (`attachments` of the session record): the page asks only when ready. */
export type AttachmentsSetup = { ready: true } | { ready: false; code: string; message: string; hint: string | null };

export function attachmentsSetup(view: SessionView): AttachmentsSetup {
  if (!view.listAttachments || !view.openAttachment) return { ready: false, code: 'E_UNSUPPORTED', message: 'this inspector cannot reach the MFTG API', hint: null };
  const why = view.attachmentsUnavailable?.() ?? null;
  return why ? { ready: false, code: why.code, message: why.message, hint: why.hint ?? null } : { ready: true };
}

/** A list row: the `event` record plus its attempts (the `attempt` records), oldest first. */
export function listRecord(event: EventRecord): Record<string, unknown> {
  return { ...eventRecord(event), attempts: event.attempts.map(attemptRecord) };
}

function tokenOf(localUrl: string | null): string | null {
  if (!localUrl) return null;
  const token = new URL(localUrl).pathname.replace(/^\/+|\/+$/g, '');
  return token === '' ? null : token;
}

const fileName = (text: string): string => text.replace(/[^A-Za-z0-9._-]/g, '_');

/** `Content-Disposition` for a name from the network: an ASCII fallback and the exact name (RFC 6266, 8187). */
export function attachmentDisposition(name: string): string {
  const exact = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fileName(name)}"; filename*=UTF-8''${exact}`;
}

/** `GET /api/events/:id/attachments`: the listing, each offered file with the inspector's own download path. */
export function attachmentsRecord(listing: AttachmentListing): Record<string, unknown> {
  const base = `/api/events/${encodeURIComponent(listing.eventId)}/attachments`;
  return { type: 'attachments', ...listing, files: listing.files.map((file) => ({ ...file, href: file.refused ? null : `${base}/${file.index}` })) };
}

/**
 * Starts the web inspector on loopback only: the page, its JSON API and the live stream,
 * all reading and acting through `view`. Throws E_USAGE for a non-loopback address, E_PORT_IN_USE
 * when an explicit port is taken.
 */
export async function startInspector(view: SessionView, options: InspectorOptions = {}): Promise<Inspector> {
  const address = typeof options.address === 'object' && options.address !== null ? options.address : parseInspectAddress(options.address);
  const version = options.version ?? packageVersion();
  const secret = newSecret();
  let hosts = new Set<string>();
  let origins = new Set<string>();
  const hub: StreamHub = new StreamHub(view, (): Record<string, unknown> => sessionInfo(view.snapshot(), { runId: hub.runId, secret, version, attachments: attachmentsSetup(view) }));
  const sockets = new Set<Socket>();

  const send = (res: ServerResponse, status: number, body: Buffer | string, type: string, extra: Record<string, string> = {}): void => {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    res.writeHead(status, { ...securityHeaders(), 'content-type': type, 'content-length': String(bytes.length), ...extra });
    res.end(res.req.method === 'HEAD' ? undefined : bytes);
  };
  const json = (res: ServerResponse, status: number, value: unknown, extra: Record<string, string> = {}): void =>
    send(res, status, JSON.stringify(value) + '\n', 'application/json; charset=utf-8', extra);
  const download = (res: ServerResponse, body: Buffer | string, type: string, name: string): void => send(res, 200, body, type, { 'content-disposition': `attachment; filename="${fileName(name)}"` });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://inspector');
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname;
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    const isRead = method === 'GET' || method === 'HEAD';

    if (isRead && path === '/') {
      const nonce = newNonce();
      const html = pageHtml({ nonce, secret, title: view.snapshot().mode === 'inspect' ? 'mftg-hooks inspect' : 'mftg-hooks' });
      const body = Buffer.from(html);
      res.writeHead(200, { ...securityHeaders(nonce), 'content-type': 'text/html; charset=utf-8', 'content-length': String(body.length) });
      res.end(method === 'HEAD' ? undefined : body);
      return;
    }
    if (isRead && (path.startsWith('/assets/') || path === '/favicon.svg')) {
      const asset = await readAsset(path);
      if (!asset) throw new HttpError(404, 'E_NOT_FOUND', `no such file ${path}`);
      send(res, 200, asset.body, asset.type);
      return;
    }
    if (parts[0] !== 'api') throw new HttpError(404, 'E_NOT_FOUND', `nothing at ${path}`);

    if (isRead && path === '/api/session') return json(res, 200, sessionInfo(view.snapshot(), { runId: hub.runId, secret, version, attachments: attachmentsSetup(view) }));
    if (isRead && path === '/api/stream') return hub.serve(req, res, securityHeaders());
    if (isRead && path === '/api/events') {
      const limitText = url.searchParams.get('limit');
      const limit = limitText === null ? DEFAULT_LIST_LIMIT : Number(limitText);
      if (!Number.isInteger(limit) || limit < 1) throw new HttpError(400, 'E_USAGE', 'limit must be a positive integer');
      const type = url.searchParams.get('type');
      const events = await view.listEvents({ limit: Math.min(limit, MAX_LIST_LIMIT), ...(type ? { eventType: type } : {}), ...(url.searchParams.get('failed') === 'true' ? { failed: true } : {}) });
      return json(res, 200, { type: 'events', events: events.map(listRecord), lastEventId: hub.lastId });
    }
    if (method === 'POST' && path === '/api/trigger') {
      const input = await readJson(req);
      if (typeof input.eventType !== 'string' || input.eventType.trim() === '') throw new HttpError(400, 'E_USAGE', 'eventType is required (MESSAGE.RECEIVED.SUCCESS, received, sent, failed, …)');
      const variant = input.variant;
      if (variant !== undefined && variant !== 'both' && variant !== 'legacy' && variant !== 'modern') throw new HttpError(400, 'E_USAGE', 'variant must be both, legacy or modern');
      const id = await view.trigger({ eventType: input.eventType, ...(variant ? { variant } : {}) });
      return json(res, 201, { type: 'triggered', id });
    }
    if (method === 'POST' && path === '/api/tunnel/retry') {
      view.retryTunnel();
      return json(res, 202, { type: 'tunnel-retry' });
    }
    if (parts[1] === 'events' && parts[2] !== undefined) {
      const id = parts[2];
      if (isRead && parts.length === 3) {
        const event = await view.getEvent(id);
        const body = await view.getBody(event.id);
        return json(res, 200, eventDetailRecord(event, body));
      }
      if (isRead && parts.length === 4 && parts[3] === 'body') {
        const event = await view.getEvent(id);
        const body = await view.getBody(event.id);
        const contentType = event.headers.find(([name]) => name.toLowerCase() === 'content-type')?.[1] ?? '';
        // Captured bytes are hostile: never rendered by the browser, only downloaded or read by the page.
        return send(res, 200, body, 'application/octet-stream', {
          'content-disposition': `attachment; filename="${fileName(`${event.id}.body`)}"`,
          'x-mftg-hooks-content-type': contentType.replace(/[^\x20-\x7e]/g, ''),
        });
      }
      if (isRead && parts.length === 6 && parts[3] === 'attempts' && parts[5] === 'response') {
        const event = await view.getEvent(id);
        if (!event.attempts.some((a) => a.id === parts[4])) throw new HttpError(404, 'E_NOT_FOUND', `event ${event.id} has no attempt ${parts[4]}`);
        const body = await view.getResponseBody(event.id, parts[4]!);
        return send(res, 200, body, 'application/octet-stream', { 'content-disposition': `attachment; filename="${fileName(`${event.id}.${parts[4]}.response`)}"` });
      }
      if (isRead && parts.length === 4 && parts[3] === 'export') {
        const event = await view.getEvent(id);
        const body = await view.getBody(event.id);
        const snapshot = view.snapshot();
        const to = url.searchParams.get('to')?.trim() || null;
        const format = url.searchParams.get('format') ?? 'json';
        if (format === 'curl') {
          const base = to ?? targetFor(snapshot.targets, event.mftg?.eventType);
          const target = requestUrl(event, base ?? snapshot.localUrl ?? originalUrl(event, null));
          const note = base ? `to ${target}` : snapshot.localUrl ? 'to the capture URL: there is no forward target' : 'to the URL it was captured at';
          return json(res, 200, { type: 'curl', eventId: event.id, url: target, note, curl: toCurl(event, body, target) });
        }
        const item = to ? deliveredItem(event, body, requestUrl(event, to)) : originalItem(event, body, originalUrl(event, tokenOf(snapshot.localUrl)));
        if (format === 'har') {
          const last = event.attempts[event.attempts.length - 1];
          const lastResponseBody = last && last.responseSize > 0 ? await view.getResponseBody(event.id, last.id) : undefined;
          const har = toHar([{ ...item, ...(lastResponseBody && lastResponseBody.length > 0 ? { lastResponseBody } : {}) }], version);
          return download(res, JSON.stringify(har, null, 2) + '\n', 'application/json; charset=utf-8', `${event.id}.har`);
        }
        if (format === 'json') return download(res, JSON.stringify(toJsonExport([item]), null, 2) + '\n', 'application/json; charset=utf-8', `${event.id}.json`);
        throw new HttpError(400, 'E_USAGE', 'format must be json, har or curl');
      }
      if (isRead && (parts.length === 4 || parts.length === 5) && parts[3] === 'attachments') {
        if (!view.listAttachments || !view.openAttachment) throw new HttpError(501, 'E_UNSUPPORTED', 'this inspector cannot reach the MFTG API');
        if (parts.length === 4) return json(res, 200, attachmentsRecord(await view.listAttachments(id)));
        if (!/^\d{1,6}$/.test(parts[4]!)) throw new HttpError(400, 'E_USAGE', 'the file index must be a number (its place in the list, from 0)');
        const opened = await view.openAttachment(id, Number(parts[4]));
        // The bytes come from MFTG's storage: streamed as they arrive, never rendered by the browser.
        res.writeHead(200, { ...securityHeaders(), 'content-type': 'application/octet-stream', 'content-disposition': attachmentDisposition(opened.name) });
        if (method === 'HEAD') {
          opened.body.destroy();
          res.end();
          return;
        }
        await pipeline(opened.body, res);
        return;
      }
      if (method === 'POST' && parts.length === 4 && parts[3] === 'replay') {
        const edits = parseReplayEdits(await readJson(req));
        const attempt = await view.replay(id, edits);
        return json(res, 200, { ...attemptRecord(attempt), responseHeaders: attempt.responseHeaders, responseSize: attempt.responseSize });
      }
    }
    throw new HttpError(isRead || method === 'POST' ? 404 : 405, 'E_NOT_FOUND', `no ${method} ${path}`);
  }

  const server: Server = createServer((req, res) => {
    const verdict = checkRequest(req, hosts, origins, secret);
    if (!verdict.ok) {
      // Refused before the body is read: nothing is replayed or triggered.
      req.resume();
      return refuse(res, verdict.status, verdict.message);
    }
    route(req, res).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (error instanceof HttpError) return json(res, error.status, { error: { code: error.code, message: error.message, hint: error.hint ?? null } });
      if (error instanceof RefusedFileName) return json(res, 422, { error: { code: 'E_UNSAFE_NAME', message: error.message, hint: error.hint ?? null } });
      if (error instanceof MftgHooksError) return json(res, STATUS_OF_CODE[error.code] ?? 500, { error: { code: error.code, message: error.message, hint: error.hint ?? null } });
      if (error instanceof URIError) return json(res, 400, { error: { code: 'E_USAGE', message: 'malformed URL', hint: null } });
      return json(res, 500, { error: { code: 'E_INTERNAL', message: (error as Error).message, hint: null } });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_error, socket) => socket.destroy());

  const port = await bindFirstFree(
    address,
    (candidate) =>
      new Promise<number>((resolve, reject) => {
        const onError = (error: Error): void => reject(error);
        server.once('error', onError);
        server.listen({ host: address.host, port: candidate, exclusive: true }, () => {
          server.off('error', onError);
          resolve((server.address() as AddressInfo).port);
        });
      }),
  );
  hosts = allowedHosts(address.host, port);
  origins = allowedOrigins(hosts);
  const shownHost = address.host.includes(':') ? `[${address.host}]` : address.host;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${shownHost}:${port}/`,
    host: address.host,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        hub.close();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}
