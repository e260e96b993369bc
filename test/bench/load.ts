import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { within } from './common.js';

/**
 * Request loops for the benchmark. Every loop is bounded twice: a request count and a wall-clock
 * limit, whichever comes first; it then waits (bounded too) for the requests still on the wire.
 */

export interface LoadTarget {
  /** Full URL (path and query are sent as given). */
  url: string;
  body: Buffer;
  headers?: Record<string, string>;
  /** Overrides the Host header (localtunnel routes public requests by it). */
  host?: string;
}

export interface LoadResult {
  /** Requests started. */
  sent: number;
  /** Answered 2xx. */
  ok: number;
  /** Answered otherwise, or failed. */
  failed: number;
  /** Failure reasons (status codes or error codes) and how often. */
  failures: Record<string, number>;
  elapsedMs: number;
  /** ok / elapsed seconds. */
  throughput: number;
  /** Milliseconds from sending to the end of the answer, of every 2xx request. */
  latencies: number[];
}

/** How long a single request may take before it counts as failed. */
const REQUEST_TIMEOUT_MS = 15_000;

class Client {
  private readonly pool: Pool;
  private readonly path: string;
  private readonly headers: Record<string, string>;
  readonly result: LoadResult = { sent: 0, ok: 0, failed: 0, failures: {}, elapsedMs: 0, throughput: 0, latencies: [] };

  constructor(
    private readonly target: LoadTarget,
    connections: number,
  ) {
    const url = new URL(target.url);
    this.pool = new Pool(url.origin, { connections, pipelining: 1, headersTimeout: REQUEST_TIMEOUT_MS, bodyTimeout: REQUEST_TIMEOUT_MS, keepAliveTimeout: 30_000 });
    this.path = url.pathname + url.search;
    this.headers = { 'content-type': 'application/json', ...target.headers, ...(target.host ? { host: target.host } : {}) };
  }

  /** One request; resolves with its latency in ms (NaN when it failed). */
  async send(): Promise<number> {
    this.result.sent++;
    const started = performance.now();
    try {
      const response = await this.pool.request({ path: this.path, method: 'POST', headers: this.headers, body: this.target.body });
      await response.body.dump();
      const latency = performance.now() - started;
      if (response.statusCode >= 200 && response.statusCode < 300) {
        this.result.ok++;
        this.result.latencies.push(latency);
        return latency;
      }
      this.fail(String(response.statusCode));
    } catch (error) {
      const code = (error as { code?: string }).code ?? (error as Error).name;
      this.fail(code);
    }
    return Number.NaN;
  }

  private fail(reason: string): void {
    this.result.failed++;
    this.result.failures[reason] = (this.result.failures[reason] ?? 0) + 1;
  }

  async finish(startedAt: number, endedAt = performance.now()): Promise<LoadResult> {
    this.result.elapsedMs = endedAt - startedAt;
    this.result.throughput = this.result.ok / (this.result.elapsedMs / 1000);
    await this.pool.close();
    return this.result;
  }
}

/**
 * Closed loop: `concurrency` requests always on the wire (one per keep-alive connection) until
 * `count` were sent or `maxMs` passed. Measures throughput.
 */
export async function closedLoop(target: LoadTarget, options: { concurrency: number; count: number; maxMs: number }): Promise<LoadResult> {
  const client = new Client(target, options.concurrency);
  const started = performance.now();
  const deadline = started + options.maxMs;
  let issued = 0;
  const worker = async (): Promise<void> => {
    while (issued < options.count && performance.now() < deadline) {
      issued++;
      await client.send();
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return client.finish(started);
}

/**
 * Open loop: one request every 1000/rate ms whatever the answers (a sender like MFTG does not wait
 * for us), until `count` were sent or `maxMs` passed; then waits for the answers (bounded). Measures
 * latency under a steady load.
 */
export async function openLoop(target: LoadTarget, options: { rate: number; count: number; maxMs: number; connections?: number }): Promise<LoadResult> {
  const client = new Client(target, options.connections ?? 64);
  const started = performance.now();
  const interval = 1000 / options.rate;
  const pending = new Set<Promise<number>>();
  for (let i = 0; i < options.count; i++) {
    const due = started + i * interval;
    if (due - started > options.maxMs) break;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const request = client.send();
    pending.add(request);
    void request.finally(() => pending.delete(request));
  }
  const sentAt = performance.now();
  await within(Promise.allSettled([...pending]), REQUEST_TIMEOUT_MS, null);
  return client.finish(started, Math.max(sentAt, performance.now()));
}
