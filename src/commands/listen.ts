import type { Socket } from 'node:net';
import { usageError } from '../core/errors.js';
import { setBrokenPipeHandler } from '../main.js';
import { ListenSession, type SessionElement, type TunnelLike } from '../core/session.js';
import { newToken, readSettings, updateSettings } from '../core/store/state-files.js';
import { TunnelSupervisor, validateSubdomain } from '../core/tunnel.js';
import { attachJsonPrinter } from '../output/json-printer.js';
import { colorsFor } from '../output/format.js';
import { attachPlainPrinter } from '../output/plain-printer.js';
import { parseRoutesFromEnv } from '../parse.js';
import { storeDirFrom } from './common.js';

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

/** Flags → ListenOptions: the remembered token and subdomain are read (and a new token saved) here. */
export async function resolveListenOptions(options: Record<string, unknown>): Promise<ListenOptions> {
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
    port: options.port as number,
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
  };
  if (token !== null && token !== settings.token) await updateSettings(storeDir, { token });
  return resolved;
}

/** Where the tunnel's sockets reach the capture server: the bound address unless it is a wildcard. */
function tunnelLocalHost(bind: string): string {
  return bind === '0.0.0.0' || bind === '::' || bind === '' ? '127.0.0.1' : bind;
}

/** Resolves on the first SIGINT/SIGTERM (or `stop()` from the UI); a second Ctrl+C exits at once. */
function untilStopped(): { stopped: Promise<void>; stop: () => void } {
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  // SIGHUP: the terminal was closed; shut down as cleanly as for Ctrl+C.
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const onSignal = (): void => {
    for (const signal of signals) process.off(signal, onSignal);
    process.once('SIGINT', () => process.exit(130));
    stop();
  };
  for (const signal of signals) process.on(signal, onSignal);
  setBrokenPipeHandler(stop);
  return { stopped, stop };
}

export async function listen(rawOptions: Record<string, unknown>): Promise<number> {
  const options = await resolveListenOptions(rawOptions);
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
    ...(tunnel
      ? {
          createTunnel: (localPort: number, accept: (socket: Socket) => void): TunnelLike =>
            new TunnelSupervisor({ host: tunnel.host, localPort, localHost: tunnelLocalHost(options.bind), accept, subdomain: tunnel.subdomain, token: options.token }),
        }
      : {}),
  });
  const subscribe = (listener: (element: SessionElement) => void): (() => void) => session.on(listener);
  const { stopped, stop } = untilStopped();
  let detach: () => void = () => undefined;
  let waitForUi: Promise<void> | null = null;
  const earlyWarnings: string[] = [];
  try {
    if (options.output === 'ui') {
      // Loading Ink and React takes a few hundred milliseconds: capture starts meanwhile, and the
      // UI then reads the session's state and the store's history when it attaches.
      const loadingUi = import('../ui/start.js');
      const collectWarnings = session.on((element) => {
        if (element.type === 'warning') earlyWarnings.push(element.message);
      });
      await session.start();
      const ui = await loadingUi;
      collectWarnings();
      const handle = ui.startLiveUi(session, { onQuit: stop });
      detach = handle.unmount;
      waitForUi = handle.exited;
    } else {
      detach = options.output === 'json' ? attachJsonPrinter(subscribe) : attachPlainPrinter(subscribe, colorsFor(process.stdout));
      await session.start();
    }
    await stopped;
  } finally {
    await session.close();
    detach();
    if (waitForUi) await waitForUi;
    // Warnings from opening the store (torn records…) came before the UI could show them.
    for (const message of earlyWarnings.splice(0)) process.stderr.write(`mftg-hooks: warning: ${message}\n`);
  }
  return 0;
}
