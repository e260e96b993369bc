import { usageError } from '../errors.js';
import { MESSAGE_TYPES, type MessageType } from '../mftg-api/types.js';

// The flags of `reconcile` and `listen --reconcile`, parsed without loading the API client: the CLI's
// flag definitions import this, and `--help` must stay fast.

/** How often `listen` reconciles by default (`--reconcile` without a value). */
export const DEFAULT_RECONCILE_INTERVAL_MS = 10 * 60_000;
/** The shortest `--reconcile` interval: the MFTG API is rate limited. */
export const MIN_RECONCILE_INTERVAL_MS = 10_000;

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since`: `30m`, `2h`, `1d`, `90s` (before now) or an ISO-8601 time → epoch ms. Throws a usage error. */
export function parseSince(value: string, now: number = Date.now()): number {
  const text = value.trim();
  const relative = /^(\d+)\s*([smhd])$/i.exec(text);
  if (relative) {
    const amount = Number(relative[1]);
    if (amount === 0) throw usageError(`--since ${value} is now: give a duration such as 30m, 2h or 1d`);
    return now - amount * UNIT_MS[relative[2]!.toLowerCase()]!;
  }
  // An ISO-8601 date or date-time (a bare date is midnight UTC, as Date.parse reads it).
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i.test(text)) {
    const at = Date.parse(text.replace(' ', 'T'));
    if (!Number.isNaN(at)) {
      if (at > now) throw usageError(`--since ${value} is in the future`);
      return at;
    }
  }
  throw usageError(`--since ${value} is not a duration or a time`, 'use e.g. 30m, 2h, 1d or 2024-03-01T08:00:00Z');
}

/** `--types received,sent,failed` (any case, any order, `all`) → the types in a fixed order. */
export function parseTypes(value: string): MessageType[] {
  const words = value
    .split(',')
    .map((word) => word.trim().toLowerCase())
    .filter((word) => word !== '');
  if (words.length === 0) throw usageError('--types needs at least one of received, sent, failed');
  const picked = new Set<MessageType>();
  for (const word of words) {
    if (word === 'all') MESSAGE_TYPES.forEach((type) => picked.add(type));
    else if ((MESSAGE_TYPES as readonly string[]).includes(word)) picked.add(word as MessageType);
    else throw usageError(`--types: unknown type ${word}`, 'use received, sent and/or failed, comma-separated');
  }
  return MESSAGE_TYPES.filter((type) => picked.has(type));
}

/** `--reconcile [interval]`: `30s`, `10m`, `1h` → ms; `off` (also as MFTG_HOOKS_RECONCILE) → false. Throws a usage error. */
export function parseReconcileInterval(value: string): number | false {
  const text = value.trim().toLowerCase();
  if (['off', 'false', 'no', 'none', '0'].includes(text)) return false;
  const match = /^(\d+)\s*([smh])$/.exec(text);
  if (!match) throw usageError(`--reconcile ${value} is not an interval`, 'use e.g. 30s, 10m or 1h (or off)');
  const ms = Number(match[1]) * UNIT_MS[match[2]!]!;
  if (ms < MIN_RECONCILE_INTERVAL_MS) throw usageError(`--reconcile ${value} is too often`, `at least ${MIN_RECONCILE_INTERVAL_MS / 1000}s: the MFTG API is rate limited`);
  return ms;
}
