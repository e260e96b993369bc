import { InvalidArgumentError } from 'commander';
import { resolveEventType } from './core/mftg.js';

/** Flag value parsers: each rejects a bad value at parse time with one clear sentence (exit 2). */

export function parseNonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError('expected a whole number ≥ 0.');
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('number too large.');
  return n;
}

export function parsePositiveInt(value: string): number {
  const n = parseNonNegativeInt(value);
  if (n === 0) throw new InvalidArgumentError('expected a whole number ≥ 1.');
  return n;
}

export function parsePort(value: string): number {
  const n = parseNonNegativeInt(value);
  if (n > 65535) throw new InvalidArgumentError('expected a port between 0 and 65535.');
  return n;
}

/**
 * An http(s) URL. Without a scheme (`localhost:3000/hook`, as Stripe CLI's docs write it) it means
 * `http://`: a local handler rarely has a certificate.
 */
export function parseHttpUrl(value: string): string {
  let url: URL;
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value.trim()) ? value.trim() : `http://${value.trim()}`;
  try {
    url = new URL(withScheme);
  } catch {
    throw new InvalidArgumentError(`"${value}" is not a URL (expected e.g. http://localhost:3000/webhooks/mftg).`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError(`"${value}" must start with http:// or https://.`);
  return url.toString();
}

export function parseRoute(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = value.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError(`"${value}" is not TYPE=url (e.g. MESSAGE.SEND.FAILED=http://localhost:3000/failed).`);
  return { ...previous, [value.slice(0, at).trim()]: parseHttpUrl(value.slice(at + 1).trim()) };
}

/** The environment twin carries several routes separated by commas or whitespace. */
export function parseRoutesFromEnv(value: string): Record<string, string> {
  return value
    .split(/[\s,]+/)
    .filter(Boolean)
    .reduce<Record<string, string>>((routes, entry) => parseRoute(entry, routes), {});
}

export function parseToken(value: string): string {
  if (!/^[A-Za-z0-9._~-]{8,128}$/.test(value)) throw new InvalidArgumentError('expected 8–128 URL-safe characters (letters, digits, . _ ~ -).');
  return value;
}

export function parseBind(value: string): string {
  const v = value.trim();
  if (!/^[0-9a-fA-F:.]+$/.test(v) && v !== 'localhost') throw new InvalidArgumentError('expected an IP address such as 127.0.0.1 or 0.0.0.0.');
  return v;
}

/**
 * `--type` of `events list`: what `trigger` accepts (`received`, `sent`, `failed`, the full name,
 * any unique part, any case) → the full eventType. Any other value is kept as typed, for documents
 * with an eventType of their own; a part several types share is refused.
 */
export function parseEventTypeFilter(value: string): string {
  const match = resolveEventType(value);
  if (match && 'ambiguous' in match) throw new InvalidArgumentError(`"${value}" matches ${match.ambiguous.join(' and ')}; say which.`);
  return match ? match.type : value.trim();
}

const TRUE_WORDS = new Set(['1', 'true', 'yes', 'on']);

/** True for `1`/`true`/`yes`/`on` (any case): how boolean environment variables are read. */
export function isTrueish(value: string | undefined): boolean {
  return value !== undefined && TRUE_WORDS.has(value.trim().toLowerCase());
}
