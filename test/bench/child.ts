/**
 * The benchmark's baselines, each in its own process like the listener it is compared with:
 *   node child.js bare                                        a bare node:http server answering 200
 *   node child.js tunnel-client <host> <port> <subdomain> <token|->
 *                                                            the supervised tunnel straight to <port>
 *   node child.js lt-client <host> <port> <subdomain> [<local-host>]
 *                                                            the real `localtunnel` client straight to <port>
 * Each prints one JSON line once ready and stops on SIGTERM.
 */
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { TunnelSupervisor } from '../../src/core/tunnel.js';

const [mode, ...args] = process.argv.slice(2);

function onStop(stop: () => Promise<void> | void): void {
  const handler = (): void => {
    void Promise.resolve(stop()).finally(() => process.exit(0));
  };
  process.once('SIGTERM', handler);
  process.once('SIGINT', handler);
}

if (mode === 'bare') {
  const server = createServer((req, res) => {
    req.on('data', () => undefined);
    req.on('end', () => {
      res.writeHead(200, { 'content-length': '0' });
      res.end();
    });
  });
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(JSON.stringify({ port: (server.address() as AddressInfo).port }) + '\n');
  });
  onStop(() => {
    server.closeAllConnections();
    server.close();
  });
} else if (mode === 'tunnel-client') {
  const [host, port, subdomain, token] = args;
  const supervisor = new TunnelSupervisor({ host: host!, localPort: Number(port), localHost: '127.0.0.1', subdomain: subdomain!, token: token === '-' ? null : token! });
  const hold = setInterval(() => undefined, 60_000);
  let announced = false;
  supervisor.onState((state) => {
    if (state.state === 'online' && !announced) {
      announced = true;
      process.stdout.write(JSON.stringify({ state: state.state, publicUrl: state.publicUrl, subdomain: state.subdomain }) + '\n');
    } else if (state.state !== 'online' && state.state !== 'connecting') {
      process.stderr.write(`tunnel ${state.state}: ${state.reason ?? ''}\n`);
    }
  });
  supervisor.start();
  onStop(async () => {
    clearInterval(hold);
    await supervisor.close();
  });
} else if (mode === 'lt-client') {
  // The tool a user would pick instead: `lt --port <port> --subdomain <name> [--local-host <host>]`.
  const [host, port, subdomain, localHost] = args;
  const localtunnel = createRequire(import.meta.url)('localtunnel') as (options: Record<string, unknown>) => Promise<LtTunnel>;
  const tunnel = await localtunnel({ host, port: Number(port), subdomain, ...(localHost ? { local_host: localHost } : {}) });
  // An `error` without a listener would end the process; the benchmark sees failures as failed requests.
  tunnel.on('error', (error: Error) => process.stderr.write(`lt error: ${error.message}\n`));
  process.stdout.write(JSON.stringify({ url: tunnel.url, subdomain: tunnel.clientId }) + '\n');
  onStop(() => tunnel.close());
} else {
  process.stderr.write(`unknown mode ${mode ?? ''}\n`);
  process.exit(2);
}

interface LtTunnel {
  url: string;
  clientId: string;
  on(event: 'error', listener: (error: Error) => void): void;
  close(): void;
}
