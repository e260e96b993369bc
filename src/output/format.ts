import { Chalk, type ChalkInstance } from 'chalk';
import { isSuccess, type CapturedEvent, type ForwardAttempt } from '../core/types.js';

/** Colours only on a TTY, never with NO_COLOR (https://no-color.org), forced with FORCE_COLOR. */
export function colorsFor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): ChalkInstance {
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  const force = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0';
  const level = noColor ? 0 : force || stream.isTTY ? 1 : 0;
  return new Chalk({ level });
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** Local wall-clock time HH:MM:SS of an ISO timestamp. */
export function formatClock(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** `2026-11-28 20:25:43` in local time. */
export function formatLocalDateTime(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${formatClock(iso)}`;
}

export function formatDuration(ms: number): string {
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 10_000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

/** `200`, `302 → /elsewhere`, `ECONNREFUSED`. */
export function formatOutcome(attempt: ForwardAttempt): string {
  if (attempt.status === null) return attempt.error ?? 'ERROR';
  const location = attempt.responseHeaders.find(([name]) => name.toLowerCase() === 'location');
  return location && attempt.status >= 300 && attempt.status < 400 ? `${attempt.status} → ${location[1]}` : String(attempt.status);
}

/** What an event is, in one short phrase: the MFTG eventType, or method and path. */
export function eventTitle(event: CapturedEvent): string {
  return event.mftg?.eventType ?? `${event.method} ${event.path}`;
}

/** `PARTNER → STATION`, the direction MFTG's fields describe; empty when unknown. */
export function partiesOf(event: CapturedEvent): string {
  const m = event.mftg;
  if (!m || (!m.partner && !m.station)) return '';
  const received = m.eventType === 'MESSAGE.RECEIVED.SUCCESS';
  const partner = m.partner ?? '?';
  const station = m.station ?? '?';
  return received ? `${partner} → ${station}` : `${station} → ${partner}`;
}

export type OutcomeTone = 'ok' | 'fail' | 'neutral';

export function toneOf(attempt: ForwardAttempt | undefined): OutcomeTone {
  if (!attempt) return 'neutral';
  return isSuccess(attempt) ? 'ok' : 'fail';
}

export function eventTypeTone(eventType: string | null | undefined): 'received' | 'sent' | 'failed' | 'other' {
  if (eventType === 'MESSAGE.RECEIVED.SUCCESS') return 'received';
  if (eventType === 'MESSAGE.SEND.SUCCESS') return 'sent';
  if (eventType === 'MESSAGE.SEND.FAILED') return 'failed';
  return 'other';
}

export function paint(colors: ChalkInstance, tone: OutcomeTone | ReturnType<typeof eventTypeTone>, text: string): string {
  switch (tone) {
    case 'ok':
    case 'sent':
      return colors.green(text);
    case 'fail':
    case 'failed':
      return colors.red(text);
    case 'received':
      return colors.cyan(text);
    default:
      return text;
  }
}
