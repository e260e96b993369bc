import { createHmac, randomBytes } from 'node:crypto';

/**
 * The end-to-end tunnel self-check: the tunnel supervisor sends
 * `GET <publicBase>/<SELF_CHECK_PATH>/<nonce>` through the public URL; the capture server answers
 * with `proveSelfCheck(token, nonce)` and neither stores nor forwards the request. Only a matching
 * proof shows that the public URL reaches *this* capture server (not another one that took the
 * subdomain, not an interstitial page).
 */
export const SELF_CHECK_PATH = '.mftg-hooks/self-check';

/** Header sent with self-check requests so the public localtunnel service skips its reminder page. */
export const SELF_CHECK_HEADERS: Readonly<Record<string, string>> = {
  'bypass-tunnel-reminder': '1',
  'user-agent': 'mftg-hooks-self-check',
};

export function newSelfCheckNonce(): string {
  return randomBytes(16).toString('hex');
}

export function proveSelfCheck(token: string | null, nonce: string): string {
  return createHmac('sha256', token ?? '').update(nonce).digest('hex');
}
