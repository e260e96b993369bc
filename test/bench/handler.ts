import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { proveSelfCheck, SELF_CHECK_PATH } from '../../src/core/self-check.js';

/** The developer's handler, as the benchmark plays it: counts, timestamps, optional delay. */
export interface BenchHandler {
  url: string;
  port: number;
  /** Requests received in full (self-checks excluded). */
  received: number;
  /** Resolves with performance.now() at the end of the next request's body. */
  nextArrival(timeoutMs?: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * A handler on 127.0.0.1 that reads each body, notes when it ended and answers `200 ok` (after
 * `delayMs`). With `selfCheckToken` it also answers the tunnel self-check like the capture server, so
 * a tunnel can point straight at it.
 */
export async function startBenchHandler(options: { delayMs?: number; selfCheckToken?: string | null } = {}): Promise<BenchHandler> {
  const delayMs = options.delayMs ?? 0;
  const arrivalWaiters: Array<(at: number) => void> = [];
  const timers = new Set<NodeJS.Timeout>();
  const selfCheckPrefix = `/${SELF_CHECK_PATH}/`;
  const server: Server = createServer((req, res) => {
    if (options.selfCheckToken !== undefined && req.url?.startsWith(selfCheckPrefix)) {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain' }).end(proveSelfCheck(options.selfCheckToken, req.url.slice(selfCheckPrefix.length)));
      return;
    }
    req.on('data', () => undefined);
    req.on('end', () => {
      const at = performance.now();
      handler.received++;
      arrivalWaiters.shift()?.(at);
      const answer = (): void => void res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' }).end('ok');
      if (delayMs <= 0) return answer();
      const timer = setTimeout(() => {
        timers.delete(timer);
        answer();
      }, delayMs);
      timers.add(timer);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const handler: BenchHandler = {
    url: `http://127.0.0.1:${port}/webhooks/mftg`,
    port,
    received: 0,
    nextArrival(timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const index = arrivalWaiters.indexOf(done);
          if (index >= 0) arrivalWaiters.splice(index, 1);
          reject(new Error(`the handler received nothing within ${timeoutMs} ms`));
        }, timeoutMs);
        function done(at: number): void {
          clearTimeout(timer);
          resolve(at);
        }
        arrivalWaiters.push(done);
      });
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return handler;
}
