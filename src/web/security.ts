import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The header the page sends its per-run secret in, on every state-changing request. */
export const SECRET_HEADER = 'x-mftg-hooks-secret';

/** A fresh secret for one inspector run (embedded in the page it serves). */
export function newSecret(): string {
  return randomBytes(24).toString('base64url');
}

/** A fresh nonce for the one inline script of a page (its import map). */
export function newNonce(): string {
  return randomBytes(16).toString('base64');
}

/**
 * The Host values the inspector answers: the exact `host:port` it serves and `localhost:port`.
 * Anything else is a DNS-rebinding attempt (a foreign name resolving to 127.0.0.1) or a mistake.
 */
export function allowedHosts(host: string, port: number): Set<string> {
  const shown = host.includes(':') ? `[${host}]` : host;
  return new Set([`${shown}:${port}`.toLowerCase(), `localhost:${port}`]);
}

/** Origins allowed to make requests: the page's own, under each allowed host. */
export function allowedOrigins(hosts: ReadonlySet<string>): Set<string> {
  return new Set([...hosts].map((host) => `http://${host}`));
}

/**
 * Headers sent with every answer: a strict CSP (scripts only from this server, plus the page's
 * nonce'd import map), no framing, no sniffing, no referrer. There is never a CORS header.
 */
export function securityHeaders(nonce?: string): Record<string, string> {
  const script = nonce ? `'self' 'nonce-${nonce}'` : `'self'`;
  return {
    'content-security-policy': `default-src 'self'; script-src ${script}; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'cache-control': 'no-store',
  };
}

/** Constant-time comparison of the secret a request carries with the run's. */
export function hasSecret(req: IncomingMessage, secret: string): boolean {
  const given = req.headers[SECRET_HEADER];
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}

export type Verdict = { ok: true } | { ok: false; status: 403 | 421; message: string };

const SAFE_METHODS = new Set(['GET', 'HEAD']);

/**
 * The checks every request passes before anything is read or done:
 * - `Host` must be one the inspector serves (else 421: DNS rebinding);
 * - an `Origin`, when sent, must be the page's own (else 403);
 * - a state-changing method must carry the per-run secret (else 403: CSRF).
 */
export function checkRequest(req: IncomingMessage, hosts: ReadonlySet<string>, origins: ReadonlySet<string>, secret: string): Verdict {
  const host = (req.headers.host ?? '').toLowerCase();
  if (!hosts.has(host)) return { ok: false, status: 421, message: `this inspector answers only requests for ${[...hosts].join(' or ')}` };
  const origin = req.headers.origin;
  if (origin !== undefined && !origins.has(origin.toLowerCase())) return { ok: false, status: 403, message: 'requests from another origin are refused' };
  const method = (req.method ?? 'GET').toUpperCase();
  if (!SAFE_METHODS.has(method) && !hasSecret(req, secret)) return { ok: false, status: 403, message: `missing or wrong ${SECRET_HEADER} header (the page sends it; see GET /api/session)` };
  return { ok: true };
}

/** Writes a small plain-text refusal with the security headers. */
export function refuse(res: ServerResponse, status: number, message: string): void {
  const body = Buffer.from(JSON.stringify({ error: { code: status === 421 ? 'E_HOST' : 'E_FORBIDDEN', message } }) + '\n');
  res.writeHead(status, { ...securityHeaders(), 'content-type': 'application/json; charset=utf-8', 'content-length': String(body.length), connection: 'close' });
  res.end(body);
}
