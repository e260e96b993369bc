import type { ChalkInstance } from 'chalk';
import type { SessionElement, TunnelState } from '../core/session.js';
import { eventTitle, formatBytes, formatClock, formatDuration, formatOutcome, partiesOf, paint, eventTypeTone, toneOf } from './format.js';

/** Said once when the tunnel server cannot be reached at all. */
export const UNREACHABLE_HINT = 'no route to the tunnel server (offline, or a firewall?): retrying with backoff; deliveries to the local URL are still captured. --no-tunnel stops trying; --tunnel-host points at a self-hosted server.';

/** Where the public URL goes in the MFTG console. */
export const MFTG_PASTE_HINT = 'paste it into MFTG: Integrations → Webhooks → your station → URL';

function tunnelLine(colors: ChalkInstance, tunnel: TunnelState, publicCaptureUrl: string | null): string | null {
  switch (tunnel.state) {
    case 'disabled':
      return colors.dim('tunnel   off (--no-tunnel): capturing on this machine only');
    case 'connecting':
      return `tunnel   connecting…`;
    case 'online':
      return `tunnel   ${colors.green('online')}  ${colors.bold(publicCaptureUrl ?? '')}  (${MFTG_PASTE_HINT})`;
    case 'reconnecting': {
      const next = tunnel.nextRetryAt ? ` next try in ${Math.max(0, Math.round((tunnel.nextRetryAt - Date.now()) / 1000))} s` : '';
      return `tunnel   ${colors.yellow('reconnecting')} (attempt ${tunnel.attempt}${next}): ${tunnel.reason ?? 'unknown reason'} — local capture keeps working`;
    }
    case 'offline':
      if (tunnel.reason === 'tunnel closed') return colors.dim('tunnel   closed');
      return `tunnel   ${colors.red('offline')}: ${tunnel.reason ?? 'unknown reason'} — local capture keeps working`;
  }
}

/**
 * Plain log lines (not a TTY, or `--no-ui`): one line per event, one per attempt. Human text goes to
 * `out`; nothing here is meant for machines (that is `--json`).
 */
export function attachPlainPrinter(
  subscribe: (listener: (element: SessionElement) => void) => () => void,
  colors: ChalkInstance,
  out: NodeJS.WritableStream = process.stdout,
): () => void {
  const line = (text: string): void => void out.write(text + '\n');
  let hintedUnreachable = false;
  return subscribe((element) => {
    switch (element.type) {
      case 'ready':
        line(`${colors.bold('mftg-hooks')} capturing at ${colors.bold(element.localUrl)}`);
        line(`forward  ${element.forwardTo ?? colors.dim('none (capture and show only; add --forward-to <url>)')}`);
        for (const [type, url] of Object.entries(element.routes)) line(`route    ${type} → ${url}`);
        line(colors.dim(`store    ${element.store}`));
        break;
      case 'tunnel': {
        const { tunnel } = element;
        if (tunnel.urlChanged && tunnel.state === 'online') {
          line(colors.bold.yellow(`!! The public URL changed: ${tunnel.urlChanged.previous} → ${tunnel.urlChanged.current}`));
          line(colors.bold.yellow(`!! Update it in MFTG (Integrations → Webhooks → your station): ${element.publicCaptureUrl ?? ''}`));
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
        const title = paint(colors, eventTypeTone(event.mftg?.eventType), eventTitle(event));
        const parts = [formatClock(event.receivedAt), colors.dim(event.id), '←', title, event.mftg?.messageId ?? '', partiesOf(event), colors.dim(formatBytes(event.size))];
        line(parts.filter((p) => p !== '').join('  '));
        break;
      }
      case 'attempt': {
        const { attempt } = element;
        const outcome = paint(colors, toneOf(attempt), formatOutcome(attempt));
        line(`${formatClock(attempt.startedAt)}  ${colors.dim(attempt.eventId)}  → ${attempt.kind} ${outcome}  ${formatDuration(attempt.durationMs)}  ${colors.dim(attempt.target)}`);
        break;
      }
      case 'pending':
        if (element.pending?.state === 'waiting-for-handler') line(colors.yellow(`         ${element.eventId}  waiting for ${element.pending.target} to answer again`));
        break;
      case 'rejected':
        line(colors.yellow(`rejected ${element.reason}  ${element.path}${element.detail ? `  (${element.detail})` : ''}`));
        break;
      case 'warning':
        line(colors.yellow(`warning  ${element.message}`));
        break;
      case 'cleared':
        line(colors.dim('events cleared from another terminal'));
        break;
    }
  });
}
