import type { Agent } from 'undici';
import { proveSelfCheck, SELF_CHECK_HEADERS, SELF_CHECK_PATH, type SelfCheckNonces } from './self-check.js';
import { AttemptFailure, boundedGet, snippet } from './tunnel-connection.js';

// The probe through the public URL, apart from the nonce registry: the capture server needs only the
// registry, and must not load the HTTP client with it (`--help` loads the capture server's limits).

export interface SelfCheckRequest {
  /** The tunnel's public base URL (without the token path). */
  publicUrl: string;
  /** The tunnel server, used to reach `*.localhost` public URLs. */
  hostUrl: URL;
  /** The capture token the proof is made with. */
  token: string | null;
  nonces: SelfCheckNonces;
  timeoutMs: number;
  signal: AbortSignal;
  /** The supervisor's HTTP agent (closed with it). */
  dispatcher: Agent;
}

/**
 * Sends `GET <publicUrl>/<SELF_CHECK_PATH>/<nonce>` through the tunnel and checks the proof; throws an
 * `AttemptFailure` saying what answered instead. `*.localhost` names do not resolve everywhere
 * (self-hosted servers started with `--domain localhost`): those go to the tunnel server's own
 * address with the public Host header.
 */
export async function checkThroughTunnel(check: SelfCheckRequest): Promise<void> {
  // Issued for this check only: the capture server answers it once, and nothing else.
  const nonce = check.nonces.issue(check.token, check.timeoutMs);
  try {
    await probe(check, nonce);
  } finally {
    check.nonces.withdraw(nonce);
  }
}

async function probe(check: SelfCheckRequest, nonce: string): Promise<void> {
  const pub = new URL(check.publicUrl);
  const path = `${pub.pathname.replace(/\/+$/, '')}/${SELF_CHECK_PATH}/${nonce}`;
  let target = `${pub.origin}${path}`;
  const headers: Record<string, string> = { ...SELF_CHECK_HEADERS };
  if (pub.hostname.endsWith('.localhost')) {
    target = `${check.hostUrl.origin}${path}`;
    const port = check.hostUrl.port || pub.port;
    headers.host = port ? `${pub.hostname}:${port}` : pub.hostname;
  }
  const answer = await boundedGet(target, headers, { signal: check.signal, timeoutMs: check.timeoutMs, dispatcher: check.dispatcher, what: 'self-check', hostUrl: check.hostUrl });
  if (answer.status === 200 && answer.text.trim() === proveSelfCheck(check.token, nonce)) return;
  if (answer.status === 200) {
    throw new AttemptFailure(`self-check failed: the public URL is answered by something else (${snippet(answer.text)})`);
  }
  if (answer.status === 401 && /tunnel|reminder/i.test(answer.text)) {
    throw new AttemptFailure('self-check failed: 401 the tunnel service shows its reminder page instead of forwarding');
  }
  if (answer.status === 503) {
    throw new AttemptFailure('self-check failed: 503 no tunnel client connected');
  }
  // localtunnel servers answer a bare "404" for a host they have no tunnel for.
  if (answer.status === 404 && answer.text.trim() === '404') {
    throw new AttemptFailure('self-check failed: 404 the tunnel server does not know this tunnel');
  }
  const message = snippet(answer.text);
  throw new AttemptFailure(`self-check failed: ${answer.status}${message ? ` ${message}` : ''}`);
}
