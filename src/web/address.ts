import { isIP } from 'node:net';
import { MftgHooksError, isErrnoException, usageError } from '../core/errors.js';

/** Where the inspector listens by default (then the next ports up to LAST_DEFAULT_INSPECT_PORT). */
export const DEFAULT_INSPECT_HOST = '127.0.0.1';
export const DEFAULT_INSPECT_PORT = 4141;
/** Without an explicit port, the inspector tries DEFAULT_INSPECT_PORT up to this one, then any free port. */
export const LAST_DEFAULT_INSPECT_PORT = 4150;

/** A parsed `--inspect <[host:]port>`. */
export interface InspectAddress {
  /** A loopback address (`localhost` is taken as 127.0.0.1, so the URL never depends on DNS). */
  host: string;
  /** An exact port (0 = any free one), or null for the default rule: 4141…4150, else any free port. */
  port: number | null;
}

/** True for 127.0.0.0/8, ::1 and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || bare === '0:0:0:0:0:0:0:1';
  return false;
}

function parsePort(text: string, whole: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535)
    throw usageError(`invalid --inspect address "${whole}": the port must be a number from 0 to 65535`, 'e.g. --inspect 4141 or --inspect 127.0.0.1:4141');
  return Number(text);
}

/**
 * Parses `--inspect <[host:]port>` (also `host` alone, `[::1]:4141`). A host that is not loopback is
 * refused: the inspector can replay and trigger, so it must never be reachable from the network.
 */
export function parseInspectAddress(text: string | undefined | null): InspectAddress {
  const whole = (text ?? '').trim();
  if (whole === '') return { host: DEFAULT_INSPECT_HOST, port: null };
  let host: string;
  let port: number | null = null;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(whole);
  if (bracketed) {
    host = bracketed[1]!;
    if (bracketed[2] !== undefined) port = parsePort(bracketed[2], whole);
  } else if (/^\d+$/.test(whole)) {
    host = DEFAULT_INSPECT_HOST;
    port = parsePort(whole, whole);
  } else if (isIP(whole) === 6) {
    host = whole;
  } else {
    const colon = whole.lastIndexOf(':');
    host = colon < 0 ? whole : whole.slice(0, colon);
    if (colon >= 0) port = parsePort(whole.slice(colon + 1), whole);
  }
  if (!isLoopbackHost(host)) {
    throw usageError(
      `--inspect ${whole}: the web inspector binds loopback only (127.0.0.1, ::1 or localhost), not "${host}"`,
      'it can replay and trigger events, so it must not be reachable from other machines; use an SSH tunnel to reach it remotely',
    );
  }
  if (host.toLowerCase() === 'localhost') host = DEFAULT_INSPECT_HOST;
  return { host, port };
}

/** The ports tried, in order, for an address (`null` port: the default range, then 0). */
export function candidatePorts(address: InspectAddress): number[] {
  if (address.port !== null) return [address.port];
  const ports: number[] = [];
  for (let port = DEFAULT_INSPECT_PORT; port <= LAST_DEFAULT_INSPECT_PORT; port++) ports.push(port);
  ports.push(0);
  return ports;
}

/**
 * Binds `listen(port)` to the first candidate port that is free: an explicit port is
 * used or refused (E_PORT_IN_USE); the default tries 4141…4150, then any free port.
 */
export async function bindFirstFree(address: InspectAddress, listen: (port: number) => Promise<number>): Promise<number> {
  for (const port of candidatePorts(address)) {
    try {
      return await listen(port);
    } catch (error) {
      const inUse = isErrnoException(error) && (error.code === 'EADDRINUSE' || error.code === 'EACCES');
      if (!inUse)
        throw new MftgHooksError(
          'E_BIND',
          `the web inspector cannot listen on ${address.host}:${port} (${(error as Error).message})`,
          'pick another address with --inspect <[host:]port>, or --no-inspect',
          { cause: error },
        );
      if (address.port !== null) {
        throw new MftgHooksError('E_PORT_IN_USE', `the web inspector's port ${address.host}:${port} is in use`, 'pick another with --inspect <port> (0 = any free one), or --no-inspect');
      }
    }
  }
  throw new MftgHooksError('E_PORT_IN_USE', `no free port for the web inspector on ${address.host}`, 'pick one with --inspect <port>, or --no-inspect');
}
