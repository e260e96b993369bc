import type { ChalkInstance } from 'chalk';
import type { PendingDelivery } from '../core/session-view.js';
import type { DeliveryPhase, SessionElement, SessionStats, TunnelState } from '../core/session-view.js';
import { reconcileNotice } from '../core/reconcile/summary-text.js';
import { eventTitle, formatBytes, formatClock, formatDuration, formatLocalDateTime, formatOutcome, partiesOf, paint, eventTypeTone, toneOf } from './format.js';
import { terminalSafe } from './terminal-text.js';
import { assertNever, sourceOf } from '../core/types.js';
import type { Face } from '../live/face.js';
import { attachLaggingOutput, type CatchUpView, type LaggingOptions } from '../live/lagging-output.js';

/** Said once when the tunnel server cannot be reached at all. */
export const UNREACHABLE_HINT =
  'no route to the tunnel server (offline, or a firewall?): retrying with backoff; deliveries to the local URL are still captured. --no-tunnel stops trying; --tunnel-host points at a self-hosted server.';

/** Where the public URL goes in the MFTG console. */
export const MFTG_PASTE_HINT = 'paste it into MFTG: Integrations → Webhooks → your station → URL';

function tunnelLine(colors: ChalkInstance, tunnel: TunnelState, publicCaptureUrl: string | null): string | null {
  switch (tunnel.state) {
    case 'disabled':
      return colors.dim('tunnel   off (--no-tunnel): capturing on this machine only');
    case 'connecting':
      return `tunnel   connecting…`;
    case 'online':
      return `tunnel   ${colors.green('online')}  ${colors.bold(terminalSafe(publicCaptureUrl ?? ''))}  (${MFTG_PASTE_HINT})`;
    case 'reconnecting': {
      const next = tunnel.nextRetryAt ? ` next try in ${Math.max(0, Math.round((tunnel.nextRetryAt - Date.now()) / 1000))} s` : '';
      return `tunnel   ${colors.yellow('reconnecting')} (attempt ${tunnel.attempt}${next}): ${terminalSafe(tunnel.reason ?? 'unknown reason')} — local capture keeps working`;
    }
    case 'offline':
      if (tunnel.reason === 'tunnel closed') return colors.dim('tunnel   closed');
      return `tunnel   ${colors.red('offline')}: ${terminalSafe(tunnel.reason ?? 'unknown reason')} — local capture keeps working`;
  }
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** `in 4s`, `in 0.1s`: when a scheduled retry goes out. The live UI words it the same way. */
export function retryIn(at: number, now: number = Date.now()): string {
  const ms = Math.max(0, at - now);
  return ms < 1_000 ? `in ${(ms / 1000).toFixed(1)}s` : `in ${Math.round(ms / 1000)}s`;
}

/** `retry 2/3 in 4s`: the wording of a scheduled retry, in every face. */
export function retryText(pending: Extract<PendingDelivery, { state: 'retry-scheduled' }>, now: number = Date.now()): string {
  return `retry ${pending.retry}/${pending.of} ${retryIn(pending.at, now)}`;
}

/** The line said once per handler origin while it does not accept connections. */
function waitingText(pending: Extract<PendingDelivery, { state: 'waiting-for-handler' }>): string {
  const target = terminalSafe(pending.target);
  const why = pending.reason ? ` (${terminalSafe(pending.reason)})` : '';
  return pending.answeredBefore
    ? `waiting for ${target} to answer again${why}: events wait and go out in arrival order`
    : `${target} does not answer${why}: events wait and go out in arrival order once it does`;
}

/** `captured 3 events; delivered 2, failed 0, pending 1; handler attempts 4 ok, 1 failed`. */
export function countsText(stats: SessionStats): string {
  return `captured ${plural(stats.captured, 'event')}; forwarded ok ${stats.delivered}, failed ${stats.failed}, pending ${stats.waiting}; handler attempts ${stats.attempts.ok} ok, ${stats.attempts.failed} failed (forwards, retries and replays)`;
}

function deliveryLines(colors: ChalkInstance, element: DeliveryPhase): string[] {
  switch (element.phase) {
    case 'redelivering':
      return [colors.yellow(`re-delivering ${plural(element.pending, 'event')} left pending by the last run, in arrival order, before new ones`)];
    case 'finishing':
      return [colors.yellow(`finishing ${plural(element.inFlight, 'forward')}… (Ctrl+C again to quit now)`)];
    case 'stopped': {
      const lines = [`stopped: ${countsText(element.stats)}`];
      if (element.pending > 0)
        lines.push(colors.yellow(`${plural(element.pending, 'event')} still waiting for the handler: ${element.pending === 1 ? 'it is' : 'they are'} re-delivered at the next start`));
      return lines;
    }
  }
}

const originOf = (url: string): string => {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
};
const hostOf = (url: string): string => {
  try {
    return new URL(url).hostname;
  } catch {
    return url;
  }
};

/**
 * Plain log lines (not a TTY, or `--no-ui`): one line per event, one per attempt, and what waits.
 * Human text goes to `out`; nothing here is meant for machines (that is `--json`). Captured text
 * (event types, paths, ids, anything from the network) goes through terminalSafe.
 */
export function attachPlainPrinter(view: CatchUpView, colors: ChalkInstance, out: NodeJS.WritableStream = process.stdout, options: LaggingOptions = {}): () => Promise<void> {
  const line = (text: string): void => void out.write(text + '\n');
  let hintedUnreachable = false;
  let forwardTo: string | null = null;
  /** Handler origins said to be down, and hosts said not to resolve: said once until they answer. */
  const down = new Set<string>();
  const unresolved = new Set<string>();
  const put = (element: SessionElement): void => {
    switch (element.type) {
      case 'ready':
        forwardTo = element.forwardTo;
        line(`${colors.bold('mftg-hooks')} capturing at ${colors.bold(element.localUrl)}`);
        line(`forward  ${element.forwardTo ?? colors.dim('none (capture and show only; add --forward-to <url>)')}`);
        for (const [type, url] of Object.entries(element.routes)) line(`route    ${terminalSafe(type)} → ${url}`);
        line(colors.dim(`store    ${element.store}`));
        if (element.inspectUrl) line(`inspect  ${colors.bold(element.inspectUrl)}  (the web inspector)`);
        break;
      case 'tunnel': {
        const { tunnel } = element;
        if (tunnel.urlChanged && tunnel.state === 'online') {
          line(colors.bold.yellow(`!! The public URL changed: ${terminalSafe(tunnel.urlChanged.previous)} → ${terminalSafe(tunnel.urlChanged.current)}`));
          line(colors.bold.yellow(`!! Update it in MFTG (Integrations → Webhooks → your station): ${terminalSafe(element.publicCaptureUrl ?? '')}`));
        }
        const text = tunnelLine(colors, tunnel, element.publicCaptureUrl);
        if (text) line(text);
        if (!hintedUnreachable && tunnel.state === 'reconnecting' && /unreachable/.test(tunnel.reason ?? '')) {
          hintedUnreachable = true;
          line(colors.dim(`         ${UNREACHABLE_HINT}`));
        }
        break;
      }
      case 'event': {
        const { event } = element;
        const title = paint(colors, eventTypeTone(event.mftg?.eventType), terminalSafe(eventTitle(event)));
        // Webhooks are the rule: only the other sources are named.
        const source = sourceOf(event);
        const parts = [
          formatClock(event.receivedAt),
          colors.dim(terminalSafe(event.id)),
          source === 'webhook' ? '←' : `← ${colors.cyan(source)}`,
          title,
          terminalSafe(event.mftg?.messageId ?? ''),
          terminalSafe(partiesOf(event)),
          colors.dim(formatBytes(event.size)),
        ];
        line(parts.filter((p) => p !== '').join('  '));
        break;
      }
      case 'attempt': {
        const { attempt } = element;
        const outcome = paint(colors, toneOf(attempt), terminalSafe(formatOutcome(attempt)));
        line(
          `${formatClock(attempt.startedAt)}  ${colors.dim(terminalSafe(attempt.eventId))}  → ${attempt.kind} ${outcome}  ${formatDuration(attempt.durationMs)}  ${colors.dim(terminalSafe(attempt.target))}`,
        );
        if (attempt.status !== null) {
          down.delete(originOf(attempt.target));
          unresolved.delete(hostOf(attempt.target));
        } else if (attempt.error === 'ENOTFOUND' && !unresolved.has(hostOf(attempt.target))) {
          const host = hostOf(attempt.target);
          unresolved.add(host);
          const flag = forwardTo !== null && hostOf(forwardTo) === host ? '--forward-to' : '--route';
          line(colors.red(`         host not found: check ${flag} (${terminalSafe(host)} does not resolve); not retried — fix it and run \`mftg-hooks replay --failed\``));
        }
        break;
      }
      case 'pending': {
        const { pending } = element;
        if (pending?.state === 'retry-scheduled') line(colors.yellow(`         ${terminalSafe(element.eventId)}  ${retryText(pending)}`));
        else if (pending?.state === 'waiting-for-handler' && !down.has(originOf(pending.target))) {
          down.add(originOf(pending.target));
          line(colors.yellow(`         ${waitingText(pending)}`));
        }
        break;
      }
      case 'rejected':
        line(colors.yellow(`rejected ${element.reason}  ${terminalSafe(element.path)}${element.detail ? `  (${terminalSafe(element.detail)})` : ''}`));
        break;
      case 'warning':
        line(colors.yellow(`warning  ${terminalSafe(element.message)}`));
        break;
      case 'cleared':
        line(colors.dim('events cleared from another terminal'));
        break;
      case 'reconcile': {
        const notice = reconcileNotice(element.summary, formatLocalDateTime);
        const text = terminalSafe(notice.text);
        line(notice.tone === 'fail' ? colors.red(text) : notice.tone === 'ok' ? colors.green(text) : text);
        break;
      }
      case 'delivery':
        for (const text of deliveryLines(colors, element)) line(text);
        break;
      default:
        assertNever(element, 'session element');
    }
  };
  // A reader that stalls (`listen --no-ui | less`) never grows memory: see lagging-output.ts.
  const output = attachLaggingOutput(view, out, { put, flush: () => undefined, bufferedBytes: () => 0 }, options);
  return output.detach;
}

/** The plain-lines face (not a TTY, or `--no-ui`). */
export const plainFace = (colors: ChalkInstance, out: NodeJS.WritableStream = process.stdout): Face => ({ attach: (view) => attachPlainPrinter(view, colors, out) });
