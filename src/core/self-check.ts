import { createHmac, randomBytes } from 'node:crypto';

/**
 * The end-to-end tunnel self-check: the tunnel supervisor issues a nonce and sends
 * `GET <publicBase>/<SELF_CHECK_PATH>/<nonce>` through the public URL; the capture server answers
 * with `proveSelfCheck(token, nonce)` and neither stores nor forwards the request. Only a matching
 * proof shows that the public URL reaches *this* capture server (not another one that took the
 * subdomain, not an interstitial page).
 *
 * The capture server answers only nonces that were issued in this process for its own token, once,
 * and only for a short time (issue 9): anything else is its plain `404`. Otherwise anyone who reaches
 * the port or the public URL would get `HMAC(token, x)` for any x, which fingerprints the tool and
 * links public URLs that share a token.
 */
export const SELF_CHECK_PATH = '.mftg-hooks/self-check';

/** Header sent with self-check requests so the public localtunnel service skips its reminder page. */
export const SELF_CHECK_HEADERS: Readonly<Record<string, string>> = {
  'bypass-tunnel-reminder': '1',
  'user-agent': 'mftg-hooks-self-check',
};

/** How long an issued nonce can be answered, at the least (a self-check's own timeout may be longer). */
export const SELF_CHECK_NONCE_TTL_MS = 30_000;
/** Nonces outstanding at once; the oldest is forgotten beyond this (one is issued per check). */
export const MAX_OUTSTANDING_NONCES = 64;

export function newSelfCheckNonce(): string {
  return randomBytes(16).toString('hex');
}

export function proveSelfCheck(token: string | null, nonce: string): string {
  return createHmac('sha256', token ?? '')
    .update(nonce)
    .digest('hex');
}

interface IssuedNonce {
  token: string | null;
  expiresAt: number;
}

/**
 * Nonces issued by tunnel supervisors and redeemed, once each, by capture servers. The supervisor
 * and the capture server of one listener meet in `selfCheckNonces` (one per process); tests give
 * each side its own instance to model a foreign listener.
 */
export class SelfCheckNonces {
  readonly #issued = new Map<string, IssuedNonce>();
  readonly #now: () => number;

  /** `now` is the clock (epoch ms); tests pass their own. */
  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** A fresh nonce the capture server with `token` will answer once, within `ttlMs`. */
  issue(token: string | null, ttlMs = SELF_CHECK_NONCE_TTL_MS): string {
    const now = this.#now();
    for (const [nonce, entry] of this.#issued) if (entry.expiresAt <= now) this.#issued.delete(nonce);
    // Map order is insertion order: the first key is the oldest.
    while (this.#issued.size >= MAX_OUTSTANDING_NONCES) this.#issued.delete(this.#issued.keys().next().value!);
    const nonce = newSelfCheckNonce();
    this.#issued.set(nonce, { token, expiresAt: now + Math.max(ttlMs, SELF_CHECK_NONCE_TTL_MS) });
    return nonce;
  }

  /** True (once) when `nonce` was issued for `token` and has not expired; it cannot be used again. */
  redeem(token: string | null, nonce: string): boolean {
    const entry = this.#issued.get(nonce);
    if (!entry || entry.token !== token) return false;
    this.#issued.delete(nonce);
    return entry.expiresAt > this.#now();
  }

  /** Forgets a nonce that will not be used (a check that ended without an answer). */
  withdraw(nonce: string): void {
    this.#issued.delete(nonce);
  }
}

/** The registry a listener's tunnel supervisor and capture server share unless given another. */
export const selfCheckNonces = new SelfCheckNonces();
