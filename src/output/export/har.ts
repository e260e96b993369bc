import { headerValue, utf8Text, type ExportItem } from '../../core/export.js';
import type { ForwardAttempt, HeaderPairs } from '../../core/types.js';
import { indent, type ExportFormat } from './format.js';

/** HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/): one entry per event. */

export interface HarNameValue {
  name: string;
  value: string;
}

export interface HarEntry {
  startedDateTime: string;
  time: number;
  request: {
    method: string;
    url: string;
    httpVersion: string;
    cookies: HarNameValue[];
    headers: HarNameValue[];
    queryString: HarNameValue[];
    postData?: { mimeType: string; text: string; comment?: string; _encoding?: 'base64' };
    headersSize: number;
    bodySize: number;
  };
  response: {
    status: number;
    statusText: string;
    httpVersion: string;
    cookies: HarNameValue[];
    headers: HarNameValue[];
    content: { size: number; mimeType: string; text?: string; encoding?: 'base64'; comment?: string };
    redirectURL: string;
    headersSize: number;
    bodySize: number;
    _error?: string;
  };
  cache: Record<string, never>;
  timings: { blocked: number; dns: number; connect: number; ssl: number; send: number; wait: number; receive: number };
  comment?: string;
  _mftgHooks: {
    eventId: string;
    eventType: string | null;
    messageId: string | null;
    attempts: Array<Pick<ForwardAttempt, 'kind' | 'target' | 'startedAt' | 'status' | 'error' | 'durationMs' | 'modified'>>;
  };
}

export interface Har {
  log: {
    version: '1.2';
    creator: { name: string; version: string };
    entries: HarEntry[];
    comment?: string;
  };
}

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No Content',
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  304: 'Not Modified',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

const nameValues = (headers: HeaderPairs): HarNameValue[] => headers.map(([name, value]) => ({ name, value }));

function cookiesOf(headers: HeaderPairs, header: 'cookie' | 'set-cookie'): HarNameValue[] {
  const cookies: HarNameValue[] = [];
  for (const [name, value] of headers) {
    if (name.toLowerCase() !== header) continue;
    const pairs = header === 'cookie' ? value.split(';') : [value.split(';')[0] ?? ''];
    for (const pair of pairs) {
      const at = pair.indexOf('=');
      if (at > 0) cookies.push({ name: pair.slice(0, at).trim(), value: pair.slice(at + 1).trim() });
    }
  }
  return cookies;
}

function queryOf(url: string): HarNameValue[] {
  try {
    return [...new URL(url).searchParams].map(([name, value]) => ({ name, value }));
  } catch {
    return [];
  }
}

function harEntry(item: ExportItem): HarEntry {
  const { event, body, url, headers } = item;
  const attempt = event.attempts[event.attempts.length - 1];
  const mimeType = headerValue(headers, 'content-type') ?? 'application/octet-stream';
  const text = utf8Text(body);
  const request: HarEntry['request'] = {
    method: event.method,
    url,
    httpVersion: 'HTTP/1.1',
    cookies: cookiesOf(headers, 'cookie'),
    headers: nameValues(headers),
    queryString: queryOf(url),
    headersSize: -1,
    bodySize: body.length,
  };
  if (body.length > 0) {
    request.postData = text !== null ? { mimeType, text } : { mimeType, text: body.toString('base64'), _encoding: 'base64', comment: 'binary body, base64-encoded' };
  }

  let response: HarEntry['response'];
  let wait = 0;
  if (attempt) {
    const preview = item.lastResponseBody ?? Buffer.alloc(0);
    const previewText = utf8Text(preview);
    const truncated = attempt.responseSize > preview.length;
    wait = attempt.durationMs;
    response = {
      status: attempt.status ?? 0,
      statusText: attempt.status !== null ? (STATUS_TEXT[attempt.status] ?? '') : (attempt.error ?? 'ERROR'),
      httpVersion: attempt.status !== null ? 'HTTP/1.1' : '',
      cookies: cookiesOf(attempt.responseHeaders, 'set-cookie'),
      headers: nameValues(attempt.responseHeaders),
      content: {
        size: attempt.responseSize,
        mimeType: headerValue(attempt.responseHeaders, 'content-type') ?? (attempt.responseSize > 0 ? 'application/octet-stream' : 'x-unknown'),
        ...(preview.length > 0 ? (previewText !== null ? { text: previewText } : { text: preview.toString('base64'), encoding: 'base64' as const }) : {}),
        ...(truncated ? { comment: `response body truncated to the first ${preview.length} of ${attempt.responseSize} bytes` } : {}),
      },
      redirectURL: headerValue(attempt.responseHeaders, 'location') ?? '',
      headersSize: -1,
      bodySize: attempt.status !== null ? attempt.responseSize : -1,
      ...(attempt.error ? { _error: attempt.error } : {}),
    };
  } else {
    // Never forwarded: the only answer was the capture server's immediate, empty 200.
    response = {
      status: 200,
      statusText: 'OK',
      httpVersion: 'HTTP/1.1',
      cookies: [],
      headers: [{ name: 'content-length', value: '0' }],
      content: { size: 0, mimeType: 'x-unknown' },
      redirectURL: '',
      headersSize: -1,
      bodySize: 0,
    };
  }

  return {
    startedDateTime: attempt?.startedAt ?? event.receivedAt,
    time: wait,
    request,
    response,
    cache: {},
    timings: { blocked: -1, dns: -1, connect: -1, ssl: -1, send: 0, wait, receive: 0 },
    comment: attempt
      ? `mftg-hooks event ${event.id}, captured ${event.receivedAt}; response: the ${attempt.kind} to ${attempt.target}`
      : `mftg-hooks event ${event.id}, captured ${event.receivedAt}; never forwarded`,
    _mftgHooks: {
      eventId: event.id,
      eventType: event.mftg?.eventType ?? null,
      messageId: event.mftg?.messageId ?? null,
      attempts: event.attempts.map(({ kind, target, startedAt, status, error, durationMs, modified }) => ({ kind, target, startedAt, status, error, durationMs, modified })),
    },
  };
}

/** HAR 1.2 creator block. */
export function harCreator(version: string): Har['log']['creator'] {
  return { name: 'mftg-hooks', version };
}

/**
 * A HAR 1.2 log (http://www.softwareishard.com/blog/har-12-spec/), one entry per event: the request
 * as `item.headers`/`item.url` describe it, and as response the handler's answer to the event's last
 * attempt (or the capture's empty 200 when it was never forwarded). Binary request bodies are
 * base64 in `postData.text` with `_encoding: "base64"` (HAR 1.2 has no encoding field there).
 */
export function toHar(items: ExportItem[], creatorVersion = '0.1.0'): Har {
  return { log: { ...harLog(creatorVersion), entries: items.map(harEntry) } };
}

export { harEntry };

/** The envelope around the entries: `{"log": {version, creator, entries}}`. */
export function harLog(creatorVersion: string): Omit<Har['log'], 'entries'> {
  return { version: '1.2', creator: harCreator(creatorVersion) };
}

export const harFormat: ExportFormat = {
  name: 'har',
  description: "HAR 1.2, with the handler's answer to the last attempt",
  needsResponse: true,
  begin: ({ version }) => {
    const log = harLog(version);
    return `{\n  "log": {\n    "version": ${JSON.stringify(log.version)},\n    "creator": ${JSON.stringify(log.creator)},\n    "entries": [`;
  },
  entry: (item, index) => `${index > 0 ? ',' : ''}\n      ${indent(JSON.stringify(harEntry(item), null, 2), '      ')}`,
  end: (count) => `${count > 0 ? '\n    ' : ''}]\n  }\n}\n`,
};
