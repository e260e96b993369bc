import { createServer, type Socket } from 'node:net';
import { usageError } from '../core/errors.js';
import { listenReconcileOptions } from '../core/reconcile/settings.js';
import type { ListenReconcileOptions } from '../core/reconcile/scheduler.js';
import { ListenSession, type TunnelLike } from '../core/session.js';
import { newToken, readSettings, updateSettings } from '../core/store/state-files.js';
import { TunnelSupervisor, validateSubdomain } from '../core/tunnel.js';
import type { Face } from '../live/face.js';
import { jsonFace } from '../output/json-printer.js';
import { colorsFor } from '../output/format.js';
import { plainFace } from '../output/plain-printer.js';
import { uiFace } from '../ui/face.js';
import { parseRoutesFromEnv } from '../parse.js';
import type { InspectAddress } from '../web/address.js';
import { storeDirFrom } from './common.js';
import { capYoungGeneration, keepHeapSmall } from '../heap.js';

/** The options `listen` works with, after flags, environment and remembered settings are merged. */
export interface ListenOptions {
  storeDir: string;
  port: number;
  bind: string;
  forwardTo: string | null;
  routes: Record<string, string>;
  timeoutMs: number;
  retries: number;
  retryBackoffMs: number;
  insecure: boolean;
  tunnel: { host: string; subdomain: string | null } | null;
  token: string | null;
  maxBodyBytes: number;
  keep: number;
  output: 'json' | 'plain' | 'ui';
  /** Where the web inspector listens (`--inspect`), or null for `--no-inspect`. */
  inspect: InspectAddress | null;
  /** Reconciling through the MFTG API (`--reconcile [interval]`, credentials), or null when off. */
  reconcile: ListenReconcileOptions | null;
}

/** `--inspect` as parsed: an address, false for `--no-inspect`/`off`, undefined for the default one. */
export function inspectAddressFrom(value: unknown): InspectAddress | null {
  if (value === false) return null;
  if (value && typeof value === 'object') return value as InspectAddress;
  return { host: '127.0.0.1', port: null };
}

function routesFrom(options: Record<string, unknown>): Record<string, string> {
  if (options.route && typeof options.route === 'object') return options.route as Record<string, string>;
  const env = process.env.MFTG_HOOKS_ROUTE;
  if (!env) return {};
  try {
    return parseRoutesFromEnv(env);
  } catch (error) {
    throw usageError(`MFTG_HOOKS_ROUTE: ${(error as Error).message}`);
  }
}

/** True when a server could listen on `host:port` right now. */
function portIsFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

/**
 * The capture port: `--port` (or MFTG_HOOKS_PORT) as given, `0` for a free one; by default the last
 * run's port, so local scripts and bookmarks keep working, unless something else took it (then a
 * free one, and `notes` says so).
 */
async function capturePort(options: Record<string, unknown>, remembered: number | undefined, bind: string, stderr: NodeJS.WritableStream): Promise<number> {
  if (typeof options.port === 'number') return options.port;
  if (remembered === undefined || !Number.isInteger(remembered) || remembered <= 0 || remembered > 65535) return 0;
  if (await portIsFree(remembered, bind)) return remembered;
  // Before any face starts: one line, above the live UI or beside the --json records.
  stderr.write(`mftg-hooks: port ${remembered} (the last run's) is in use: capturing on a free port instead (--port picks one)\n`);
  return 0;
}

/** Flags → ListenOptions: the remembered token, subdomain and port are read (and a new token saved) here. */
export async function resolveListenOptions(options: Record<string, unknown>, stderr: NodeJS.WritableStream = process.stderr): Promise<ListenOptions> {
  const storeDir = storeDirFrom(options);
  const settings = await readSettings(storeDir).catch(() => ({}) as Awaited<ReturnType<typeof readSettings>>);
  let token: string | null;
  if (options.token === false) token = null;
  else if (typeof options.token === 'string') token = options.token;
  else token = settings.token ?? newToken();
  const tunnelHost = String(options.tunnelHost);
  let subdomain: string | null = null;
  if (typeof options.subdomain === 'string') {
    const problem = validateSubdomain(options.subdomain);
    if (problem) throw usageError(`--subdomain ${options.subdomain}: ${problem}`);
    subdomain = options.subdomain;
  } else if (settings.subdomain && settings.tunnelHost === tunnelHost) {
    subdomain = settings.subdomain;
  }
  const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  const output = options.json ? 'json' : options.ui !== false && interactive ? 'ui' : 'plain';
  const resolved: ListenOptions = {
    storeDir,
    port: await capturePort(options, settings.port, options.bind as string, stderr),
    bind: options.bind as string,
    forwardTo: (options.forwardTo as string | undefined) ?? null,
    routes: routesFrom(options),
    timeoutMs: options.timeout as number,
    retries: options.retry as number,
    retryBackoffMs: options.retryBackoff as number,
    insecure: options.insecure === true,
    tunnel: options.tunnel === false ? null : { host: tunnelHost, subdomain },
    token,
    maxBodyBytes: options.maxBody as number,
    keep: options.keep as number,
    output,
    inspect: inspectAddressFrom(options.inspect),
    reconcile: listenReconcileOptions(options.reconcile),
  };
  if (token !== null && token !== settings.token) await updateSettings(storeDir, { token });
  return resolved;
}

/** Where the tunnel's sockets reach the capture server: the bound address unless it is a wildcard. */
function tunnelLocalHost(bind: string): string {
  return bind === '0.0.0.0' || bind === '::' || bind === '' ? '127.0.0.1' : bind;
}

/**
 * Resolves on the first SIGINT/SIGTERM/SIGHUP (or `stop()` from the UI): the graceful shutdown. A
 * second one (Ctrl+C again while forwards finish) calls `quitNow` at once.
 */
function untilStopped(quitNow: () => void): { stopped: Promise<void>; stop: () => void } {
  let resolve!: () => void;
  const stopped = new Promise<void>((done) => (resolve = done));
  let stopping = false;
  const stop = (): void => {
    if (stopping) return quitNow();
    stopping = true;
    resolve();
  };
  // SIGHUP: the terminal was closed; shut down as cleanly as for Ctrl+C.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, stop);
  // `listen --json | head`: the reader went away; stop as cleanly as for Ctrl+C.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') stop();
  });
  return { stopped, stop };
}

/** How often the listener's thread looks whether it is idle and its heap worth collecting. */
const LISTENER_HEAP_LOOK_MS = 250;
/** How long the listener's thread must have been idle before its heap is collected. */
const LISTENER_IDLE_BEFORE_COLLECTING_MS = 2_000;

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The second Ctrl+C: exit now; what was cut short stays pending in the store. */
function quitNow(session: ListenSession): never {
  const { inFlight, pending } = session.quitNow();
  if (pending > 0) {
    const cut = inFlight > 0 ? `${plural(inFlight, 'forward')} cut short; ` : '';
    const message = `mftg-hooks: quit now: ${cut}${plural(pending, 'event')} not delivered ${pending === 1 ? 'stays' : 'stay'} pending and ${pending === 1 ? 'is' : 'are'} re-delivered, in arrival order, at the next \`mftg-hooks listen\` with a forward target\n`;
    // After the live UI has given the screen back (its exit handler was registered first).
    process.once('exit', () => process.stderr.write(message));
  }
  process.exit(130);
}

export async function listen(rawOptions: Record<string, unknown>): Promise<number> {
  const options = await resolveListenOptions(rawOptions);
  // The listener's thread: a small young generation, and a full collection once it has been idle for a while.
  const heapCare = [capYoungGeneration(), keepHeapSmall({ everyMs: LISTENER_HEAP_LOOK_MS, afterIdleMs: LISTENER_IDLE_BEFORE_COLLECTING_MS })];
  const tunnel = options.tunnel;
  const session = new ListenSession({
    storeDir: options.storeDir,
    keep: options.keep,
    port: options.port,
    bind: options.bind,
    token: options.token,
    maxBodyBytes: options.maxBodyBytes,
    targets: { forwardTo: options.forwardTo, routes: options.routes },
    timeoutMs: options.timeoutMs,
    retries: options.retries,
    retryBackoffMs: options.retryBackoffMs,
    insecure: options.insecure,
    tunnelHost: tunnel?.host ?? null,
    reconcile: options.reconcile,
    ...(tunnel
      ? {
          createTunnel: (localPort: number, accept: (socket: Socket) => void): TunnelLike =>
            new TunnelSupervisor({ host: tunnel.host, localPort, localHost: tunnelLocalHost(options.bind), accept, subdomain: tunnel.subdomain, token: options.token }),
        }
      : {}),
  });
  session.on((e) => (e.type === 'ready' ? void updateSettings(options.storeDir, { port: Number(new URL(e.localUrl).port) }).catch(() => undefined) : undefined));
  // Before the session starts, so its URL is in the first record; a taken --inspect port stops here.
  const inspector = options.inspect ? await (await import('../web/server.js')).startInspector(session, { address: options.inspect }) : null;
  session.inspectUrl = inspector?.url ?? null;
  const { stopped, stop } = untilStopped(() => quitNow(session));
  const faces: Face[] = options.output === 'json' ? [jsonFace()] : options.output === 'plain' ? [plainFace(colorsFor(process.stdout))] : [uiFace({ onQuit: stop, onQuitNow: () => quitNow(session) })];
  const view = session;
  // Attached before the start, so that each face sees `ready` and every element after it.
  const detaches = faces.map((face) => face.attach(view));
  try {
    await session.start();
    await stopped;
  } finally {
    await session.close();
    await inspector?.close();
    await Promise.all(detaches.map((detach) => detach()));
    for (const stop of heapCare) stop();
  }
  return 0;
}
