import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A mock of MFTG's REST API ("MFT REST API v1.0") on 127.0.0.1, strict
 * where the real one is: tokens raw in `Authorization` (a `Bearer x` is refused like a bad token),
 * `pageLength` 1–100, `pageOffset` a page index, `sortDir` asc|desc, ids URL-encoded in paths,
 * `markAsRead` defaulting to true, lists without `fetchAll=true` hiding what was marked read, and
 * pre-signed S3-style download links that expire (403) and refuse a second auth mechanism (400).
 * Faults (429 + Retry-After, 5xx, hanging answers) are injected per request; every request is logged.
 */

export type MockBox = 'received' | 'sent' | 'failed';

/** An AS2 message as the API returns it, plus the box it lives in (not part of the answer). */
export interface MockMessage {
  id: number;
  as2MessageId: string;
  incoming: boolean;
  msgStatus: string;
  mdnStatus: string;
  receiverAS2Id: string;
  senderAS2Id: string;
  subject: string;
  failures: number;
  attachmentPaths: string[];
  compressed: boolean;
  signed: boolean;
  encrypted: boolean;
  mic: string;
  micMatches: boolean;
  transportStatusReceived: number;
  userAgent: string;
  timestamp: number;
  apiFetched: boolean;
  transportHeaders?: Record<string, string>;
  mdnMessage?: Record<string, unknown>;
}

export interface MockRequestLog {
  method: string;
  /** The raw path as sent (percent-encoding kept), without the query. */
  path: string;
  /** The raw query string, without `?`. */
  rawQuery: string;
  /** Query parameters (the last value wins). */
  query: Record<string, string>;
  headers: IncomingMessage['headers'];
  /** Body as text (requests carry small JSON). */
  body: string;
  /** Date.now() when the request arrived. */
  at: number;
  /** Status answered; null while hanging or when the connection closed first. */
  status: number | null;
}

export interface MockFault {
  /** Which requests: a path prefix (raw path) or a predicate; default every request. */
  match?: string | ((req: MockRequestLog) => boolean);
  /** How many matching requests get the fault (default 1; Infinity for all). */
  times?: number;
  /** Never answer (until the mock closes). */
  hang?: boolean;
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface MockMftgApiOptions {
  username?: string;
  password?: string;
  /** Delay before every answer, so concurrency shows (default 0). */
  latencyMs?: number;
  /** Lifetime of a download link (default 10 minutes, like MFTG's). */
  linkTtlMs?: number;
  /** Seed with the realistic default messages (default true). */
  seed?: boolean;
  /** Reference time of the seeded messages (default Date.now()). */
  now?: number;
}

export interface MockMftgApi {
  url: string;
  username: string;
  password: string;
  log: MockRequestLog[];
  /** API requests being answered right now, and the most seen at once. */
  readonly inFlight: number;
  readonly maxInFlight: number;
  messages: Map<string, MockMessage & { box: MockBox }>;
  /** S3 key → file content. */
  files: Map<string, Buffer>;
  addMessage(box: MockBox, message: Partial<MockMessage> & { as2MessageId: string }, files?: Record<string, Buffer>): MockMessage;
  /** True once a retrieval marked the message read (`markAsRead` not false). */
  isRead(as2MessageId: string): boolean;
  inject(fault: MockFault): void;
  /** Every api token issued so far stops working (401), as after its lifetime. */
  expireApiTokens(): void;
  /** Refresh tokens stop working too: `/refresh-session` answers 401. */
  expireRefreshTokens(): void;
  /** Issues a valid api token without a request (what MFTG_API_TOKEN would hold). */
  issueToken(): string;
  /** Every api and refresh token handed out, for "no secret in any error" assertions. */
  readonly tokensIssued: string[];
  /** Download links issued so far answer 403 "Request has expired". */
  expireDownloadLinks(): void;
  /** Requests to the API (not downloads), optionally under a path prefix. */
  apiRequests(prefix?: string): MockRequestLog[];
  close(): Promise<void>;
}

/** The files of the seed: text EDI documents and one binary part with every byte value. */
export function seedBinary(): Buffer {
  const bytes = Buffer.alloc(4096 + 37);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + (i >> 8)) & 0xff;
  return bytes;
}

const X12_850 =
  'ISA*00*          *00*          *ZZ*ZZGLOBEXCORP   *ZZ*ACME-AS2       *240301*1015*U*00401*000000905*0*P*>~\r\nGS*PO*ZZGLOBEXCORP*ACME-AS2*20240301*1015*905*X*004010~\r\nST*850*0001~\r\nBEG*00*SA*4500012345**20240301~\r\nSE*3*0001~\r\nGE*1*905~\r\nIEA*1*000000905~\r\n';
const X12_856 = 'ISA*00*          *00*          *ZZ*UMBRELLA_AS2   *ZZ*ACME-AS2       *240301*0930*U*00401*000000123*0*P*>~\r\nST*856*0001~\r\nBSN*00*000123*20240301*0930~\r\nSE*3*0001~\r\n';
const EDIFACT = "UNA:+.? 'UNB+UNOC:3+081466849:1+ACME-AS2:ZZZ+240301:0800+778812'UNH+1+ORDERS:D:96A:UN'BGM+220+PO778812+9'UNT+3+1'UNZ+1+778812'";
const X12_810 = 'ISA*00*          *00*          *ZZ*ACME-AS2       *ZZ*ZZGLOBEXCORP   *240301*1200*U*00401*000000411*0*P*>~\r\nST*810*0001~\r\nBIG*20240301*INV-99812~\r\nSE*3*0001~\r\n';

function seed(api: MockMftgApi, now: number): void {
  const min = 60_000;
  const hour = 60 * min;
  api.addMessage(
    'received',
    {
      as2MessageId: '<1609934788.3185.1616041941493@as2gateway.com>',
      senderAS2Id: 'UMBRELLA_AS2',
      receiverAS2Id: 'ACME-AS2',
      subject: 'Ship Notice 000123',
      timestamp: now - 5 * min,
      attachmentPaths: [`AS2/files/ACME-AS2/UMBRELLA_AS2/inbox/${now - 5 * min}-0/ASN_856_000123.x12`],
    },
    { ASN_856_000123: Buffer.from(X12_856) },
  );
  api.addMessage(
    'received',
    {
      as2MessageId: '<OPENAS2-20240301101500-4821@ZZGLOBEXCORP_ACME-AS2>',
      senderAS2Id: 'ZZGLOBEXCORP',
      receiverAS2Id: 'ACME-AS2',
      subject: 'Purchase Order 4500012345',
      timestamp: now - 40 * min,
      attachmentPaths: [`AS2/files/ACME-AS2/ZZGLOBEXCORP/inbox/${now - 40 * min}-1/PO_850_4500012345.edi`, `AS2/files/ACME-AS2/ZZGLOBEXCORP/inbox/${now - 40 * min}-1/Attachment.raw`],
    },
    { PO_850_4500012345: Buffer.from(X12_850), Attachment: seedBinary() },
  );
  api.addMessage(
    'received',
    {
      as2MessageId: '<1709280000.1187.1709280000412@edi.initech.example>',
      senderAS2Id: '081466849',
      receiverAS2Id: 'ACME-AS2',
      subject: 'ORDERS PO778812',
      timestamp: now - 3 * hour,
      attachmentPaths: [`AS2/files/ACME-AS2/081466849/inbox/${now - 3 * hour}-0/ORDERS_D96A_PO778812.edi`],
    },
    { ORDERS_D96A_PO778812: Buffer.from(EDIFACT) },
  );
  api.addMessage(
    'sent',
    {
      as2MessageId: '<516327493100432@mftgateway.com>',
      senderAS2Id: 'ACME-AS2',
      receiverAS2Id: 'ZZGLOBEXCORP',
      subject: 'Invoice INV-99812',
      timestamp: now - 20 * min,
      attachmentPaths: ['AS2/files/ACME-AS2/ZZGLOBEXCORP/outbox/516327493100432/INV_810_99812.edi'],
    },
    { INV_810_99812: Buffer.from(X12_810) },
  );
  api.addMessage(
    'failed',
    {
      as2MessageId: '<720784109397786.as2@mftgateway.com>',
      senderAS2Id: 'MCHP_NEW',
      receiverAS2Id: 'TEST_CON',
      subject: 'TEST',
      failures: 1,
      transportStatusReceived: 422,
      timestamp: now - 50 * min,
      attachmentPaths: ['AS2/files/MCHP_NEW/TEST_CON/outbox/720784109397786/EN_856.txt'],
    },
    { EN_856: Buffer.from(X12_856) },
  );
}

function fileName(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}

function parseQuery(raw: string): Record<string, string> {
  const query: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(raw)) query[k] = v;
  return query;
}

/** A mock MFTG API on 127.0.0.1 port 0. */
export async function startMockMftgApi(options: MockMftgApiOptions = {}): Promise<MockMftgApi> {
  const username = options.username ?? 'edi-api@acmecorp.example';
  const password = options.password ?? `pw-${randomBytes(9).toString('base64url')}`;
  const latencyMs = options.latencyMs ?? 0;
  const linkTtlMs = options.linkTtlMs ?? 600_000;
  const signingKey = randomBytes(32);

  const log: MockRequestLog[] = [];
  const faults: Array<MockFault & { left: number }> = [];
  const apiTokens = new Map<string, { expired: boolean }>();
  const refreshTokens = new Map<string, { expired: boolean }>();
  const tokensIssued: string[] = [];
  const links = new Map<string, { key: string; issuedAt: number; expired: boolean }>();
  const messages = new Map<string, MockMessage & { box: MockBox }>();
  const files = new Map<string, Buffer>();
  const read = new Set<string>();
  const hanging = new Set<ServerResponse>();
  let nextId = 48_210;
  let inFlight = 0;
  let maxInFlight = 0;
  let url = '';

  const issue = (kind: 'api' | 'refresh'): string => {
    const token = `${kind === 'api' ? 'eyJ' : 'rt-'}${randomBytes(24).toString('base64url')}`;
    (kind === 'api' ? apiTokens : refreshTokens).set(token, { expired: false });
    tokensIssued.push(token);
    return token;
  };

  const json = (res: ServerResponse, entry: MockRequestLog, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    entry.status = status;
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  /** 401 without or with an expired token, 403 for anything else (a `Bearer …` included). */
  const authorized = (req: IncomingMessage, res: ServerResponse, entry: MockRequestLog): boolean => {
    const header = req.headers.authorization;
    if (header === undefined || header === '') {
      json(res, entry, 401, { message: 'Unauthorized' });
      return false;
    }
    const token = apiTokens.get(header);
    if (!token) {
      json(res, entry, 403, { message: 'Invalid token' });
      return false;
    }
    if (token.expired) {
      json(res, entry, 401, { message: 'The incoming token has expired' });
      return false;
    }
    return true;
  };

  const sign = (key: string, linkId: string): string => createHmac('sha256', signingKey).update(`${key}\n${linkId}`).digest('hex');

  const downloadLink = (key: string): string => {
    const linkId = randomBytes(8).toString('hex');
    const signature = sign(key, linkId);
    links.set(signature, { key, issuedAt: Date.now(), expired: false });
    const bucket = 'mftg-acmecorp';
    const path = key.split('/').map(encodeURIComponent).join('/');
    const stamp = new Date().toISOString().replace(/[-:]|\.\d+/g, '');
    return `${url}/s3/${bucket}/${path}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAEXAMPLE%2F${stamp.slice(0, 8)}%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=${stamp}&X-Amz-Expires=${Math.round(linkTtlMs / 1000)}&X-Amz-SignedHeaders=host&X-Amz-Link=${linkId}&X-Amz-Signature=${signature}`;
  };

  const s3Error = (res: ServerResponse, entry: MockRequestLog, status: number, code: string, message: string): void => {
    entry.status = status;
    res.writeHead(status, { 'content-type': 'application/xml' });
    res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`);
  };

  const download = (req: IncomingMessage, res: ServerResponse, entry: MockRequestLog): void => {
    // S3 refuses a pre-signed URL that also carries an Authorization header.
    if (req.headers.authorization !== undefined) return s3Error(res, entry, 400, 'InvalidArgument', 'Only one auth mechanism allowed');
    const link = links.get(entry.query['X-Amz-Signature'] ?? '');
    const key = entry.path.slice('/s3/mftg-acmecorp/'.length).split('/').map(decodeURIComponent).join('/');
    if (!link || link.key !== key || sign(key, entry.query['X-Amz-Link'] ?? '') !== entry.query['X-Amz-Signature']) {
      return s3Error(res, entry, 403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
    }
    if (link.expired || Date.now() - link.issuedAt > linkTtlMs) return s3Error(res, entry, 403, 'AccessDenied', 'Request has expired');
    const content = files.get(key);
    if (!content) return s3Error(res, entry, 404, 'NoSuchKey', 'The specified key does not exist.');
    entry.status = 200;
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(content.length) });
    res.end(content);
  };

  const list = (res: ServerResponse, entry: MockRequestLog, box: MockBox): void => {
    const q = entry.query;
    const pageLength = Number(q.pageLength ?? '10');
    const pageOffset = Number(q.pageOffset ?? '0');
    const sortDir = q.sortDir ?? 'desc';
    if (!/^\d+$/.test(q.pageLength ?? '10') || pageLength < 1 || pageLength > 100) return json(res, entry, 400, { message: 'pageLength must be between 1 and 100' });
    if (!/^\d+$/.test(q.pageOffset ?? '0')) return json(res, entry, 400, { message: 'pageOffset must be a non-negative integer' });
    if (sortDir !== 'asc' && sortDir !== 'desc') return json(res, entry, 400, { message: 'sortDir must be asc or desc' });
    let found = [...messages.values()].filter((m) => m.box === box);
    // Only the inbox hides what was marked read (the outbox lists have no fetchAll).
    if (box === 'received' && q.fetchAll !== 'true') found = found.filter((m) => !read.has(m.as2MessageId));
    if (q.stationAS2Id !== undefined) found = found.filter((m) => (m.incoming ? m.receiverAS2Id : m.senderAS2Id) === q.stationAS2Id);
    if (q.partnerAS2Id !== undefined) found = found.filter((m) => (m.incoming ? m.senderAS2Id : m.receiverAS2Id) === q.partnerAS2Id);
    if (q.as2MessageId !== undefined) found = found.filter((m) => m.as2MessageId === q.as2MessageId);
    if (q.subject !== undefined) found = found.filter((m) => m.subject.includes(q.subject!));
    found.sort((a, b) => (sortDir === 'desc' ? b.timestamp - a.timestamp || b.id - a.id : a.timestamp - b.timestamp || a.id - b.id));
    const page = found.slice(pageOffset * pageLength, (pageOffset + 1) * pageLength);
    json(res, entry, 200, { messages: page.map((m) => m.as2MessageId) });
  };

  /** `/message/inbox/<encoded id>[/attachments]`: the raw segment must be percent-encoded. */
  const one = (res: ServerResponse, entry: MockRequestLog, boxes: MockBox[], rawId: string, sub: string | undefined): void => {
    let id: string;
    try {
      id = decodeURIComponent(rawId);
    } catch {
      return json(res, entry, 404, { message: 'Message not found' });
    }
    const message = messages.get(id);
    if (/[<>@]/.test(rawId) || !message || !boxes.includes(message.box)) return json(res, entry, 404, { message: 'Message not found' });
    if (sub === undefined) {
      // markAsRead defaults to true: a retrieval without markAsRead=false marks the message read.
      if (entry.query.markAsRead !== 'false') {
        read.add(id);
        message.apiFetched = true;
      }
      const { box: _box, ...answer } = message;
      return json(res, entry, 200, answer);
    }
    if (sub === 'attachments') {
      const attachments = message.attachmentPaths.map((key) => ({ name: fileName(key), url: downloadLink(key) }));
      return json(res, entry, 200, { total: attachments.length, attachments });
    }
    if (sub === 'mdn' && message.incoming) return json(res, entry, 200, { url: downloadLink(`${message.attachmentPaths[0] ?? 'mdn'}.mdn`) });
    json(res, entry, 404, { message: 'Not Found' });
  };

  const route = (req: IncomingMessage, res: ServerResponse, entry: MockRequestLog): void => {
    const { method, path } = entry;
    if (method === 'GET' && path.startsWith('/s3/')) return download(req, res, entry);
    if (method === 'POST' && (path === '/authorize' || path === '/refresh-session')) {
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(entry.body) as Record<string, unknown>;
      } catch {
        return json(res, entry, 400, { message: 'Invalid request body' });
      }
      if (path === '/authorize') {
        if (body.username !== username || body.password !== password) return json(res, entry, 401, { message: 'Incorrect username or password.' });
        return json(res, entry, 200, { api_token: issue('api'), refresh_token: issue('refresh') });
      }
      const refresh = refreshTokens.get(String(body.refreshToken));
      if (body.username !== username || !refresh || refresh.expired) return json(res, entry, 401, { message: 'Invalid Refresh Token' });
      return json(res, entry, 200, { api_token: issue('api'), refresh_token: body.refreshToken });
    }
    if (method !== 'GET') return json(res, entry, 404, { message: 'Not Found' });
    if (!authorized(req, res, entry)) return;
    const listPaths: Record<string, MockBox> = { '/message/inbox': 'received', '/message/outbox': 'sent', '/message/outbox/failed': 'failed' };
    const box = listPaths[path];
    if (box) return list(res, entry, box);
    if (path === '/message/outbox/queued') return json(res, entry, 200, { messages: [] });
    const item = /^\/message\/(inbox|outbox)\/([^/]+)(?:\/([^/]+))?$/.exec(path);
    if (item) return one(res, entry, item[1] === 'inbox' ? ['received'] : ['sent', 'failed'], item[2]!, item[3]);
    json(res, entry, 404, { message: 'Not Found' });
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = req.url ?? '/';
      const q = target.indexOf('?');
      const rawQuery = q < 0 ? '' : target.slice(q + 1);
      const entry: MockRequestLog = {
        method: req.method ?? '',
        path: q < 0 ? target : target.slice(0, q),
        rawQuery,
        query: parseQuery(rawQuery),
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
        status: null,
      };
      log.push(entry);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      let counted = true;
      const done = (): void => {
        if (counted) inFlight--;
        counted = false;
      };
      res.on('finish', done);
      res.on('close', done);
      const answer = (): void => {
        const fault = faults.find((f) => f.left > 0 && (f.match === undefined || (typeof f.match === 'string' ? entry.path.startsWith(f.match) : f.match(entry))));
        if (fault) {
          fault.left--;
          if (fault.hang) {
            hanging.add(res);
            return;
          }
          return json(res, entry, fault.status ?? 500, fault.body ?? { message: 'Internal server error' }, fault.headers);
        }
        route(req, res, entry);
      };
      if (latencyMs > 0) setTimeout(answer, latencyMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const api: MockMftgApi = {
    url,
    username,
    password,
    log,
    messages,
    files,
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    get tokensIssued() {
      return [...tokensIssued];
    },
    addMessage(box, init, content = {}) {
      const incoming = box === 'received';
      const message: MockMessage & { box: MockBox } = {
        id: nextId++,
        incoming,
        msgStatus: box === 'received' ? 'RECEIVED' : box === 'sent' ? 'SENT' : 'FAILED',
        mdnStatus: box === 'failed' ? 'PENDING' : incoming ? 'SENT' : 'RECEIVED',
        receiverAS2Id: 'ACME-AS2',
        senderAS2Id: 'ZZGLOBEXCORP',
        subject: 'Purchase Order',
        failures: 0,
        attachmentPaths: [],
        compressed: false,
        signed: true,
        encrypted: true,
        mic: 'sQz4w2Cf3m1mE6hlw9nU0x6R8Bk=, sha-256',
        micMatches: box !== 'failed',
        transportStatusReceived: 200,
        userAgent: incoming ? 'OpenAS2/2.10.0' : 'MFTG/3.1.1',
        timestamp: Date.now(),
        apiFetched: false,
        ...init,
        box,
      };
      message.transportHeaders ??= {
        'AS2-From': message.senderAS2Id,
        'AS2-To': message.receiverAS2Id,
        'AS2-Version': '1.2',
        'Message-ID': message.as2MessageId,
        Subject: message.subject,
        'Content-Type': 'application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m',
      };
      if (box !== 'failed') {
        message.mdnMessage ??= {
          disposition: 'automatic-action/MDN-sent-automatically; processed',
          humanMessage: 'The message was received successfully.',
          mic: message.mic,
          signed: true,
          status: 'processed',
          timestamp: message.timestamp + 412,
        };
      }
      messages.set(message.as2MessageId, message);
      for (const key of message.attachmentPaths) {
        const name = fileName(key);
        const stem = name.replace(/\.[^.]*$/, '');
        files.set(key, content[name] ?? content[stem] ?? Buffer.from(`${name} of ${message.as2MessageId}\r\n`));
      }
      return message;
    },
    isRead(id) {
      return read.has(id);
    },
    inject(fault) {
      faults.push({ ...fault, left: fault.times ?? 1 });
    },
    expireApiTokens() {
      for (const token of apiTokens.values()) token.expired = true;
    },
    expireRefreshTokens() {
      for (const token of refreshTokens.values()) token.expired = true;
    },
    issueToken() {
      return issue('api');
    },
    expireDownloadLinks() {
      for (const link of links.values()) link.expired = true;
    },
    apiRequests(prefix = '/') {
      return log.filter((entry) => !entry.path.startsWith('/s3/') && entry.path.startsWith(prefix));
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  if (options.seed !== false) seed(api, options.now ?? Date.now());
  return api;
}
