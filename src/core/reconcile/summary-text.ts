import { MESSAGE_TYPES } from '../mftg-api/types.js';
import { recoveredMessages, type ReconcileSummary } from './reconciler.js';

/** How a face says a listener's reconcile run: the plain line and the terminal UI's notice. */
export interface ReconcileNotice {
  tone: 'info' | 'ok' | 'fail';
  text: string;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
const deliveries = (n: number): string => `${n} missed deliver${n === 1 ? 'y' : 'ies'}`;

/**
 * `reconcile: recovered 2 missed deliveries through the MFTG API (checked 35 messages since …, 20
 * already captured)`, and the wording of `running` and `failed`. `time` formats the window's start.
 */
export function reconcileNotice(summary: ReconcileSummary, time: (iso: string) => string = (iso) => iso): ReconcileNotice {
  const since = time(summary.since);
  if (summary.state === 'running') return { tone: 'info', text: `reconcile: checking the MFTG API for ${summary.types.join(' and ')} messages since ${since}…` };
  const recovered = recoveredMessages(summary).length;
  let checked = 0;
  let captured = 0;
  let young = 0;
  for (const type of MESSAGE_TYPES) {
    checked += summary.byType[type].inMftg;
    captured += summary.byType[type].alreadyCaptured;
    young += summary.byType[type].leftForWebhook;
  }
  const youngText = young > 0 ? `, ${young} younger than 2 min left for their webhook` : '';
  if (summary.state === 'failed') {
    const partial = recovered > 0 ? ` (recovered ${deliveries(recovered)} before it stopped)` : '';
    const hint = summary.hint ? ` (${summary.hint})` : '';
    return { tone: 'fail', text: `reconcile failed: ${summary.error ?? 'unknown error'}${hint}${partial}; capture goes on, the next run tries again` };
  }
  const window = `checked ${plural(checked, 'message')} since ${since}`;
  if (recovered === 0) return { tone: 'info', text: `reconcile: nothing missed (${window}${checked > 0 ? ', all captured' : ''}${youngText})` };
  return { tone: 'ok', text: `reconcile: recovered ${deliveries(recovered)} through the MFTG API (${window}, ${captured} already captured${youngText})` };
}

/**
 * The `reconcile` `--json` record, with more detail after the required fields:
 * `recovered` holds event ids (empty in a dry run), `messages` what was (or would be) recovered.
 */
export function reconcileRecord(summary: ReconcileSummary): Record<string, unknown> {
  const recovered = recoveredMessages(summary);
  const checked = { received: summary.byType.received.inMftg, sent: summary.byType.sent.inMftg, failed: summary.byType.failed.inMftg };
  let alreadyCaptured = 0;
  let leftForWebhook = 0;
  for (const type of MESSAGE_TYPES) {
    alreadyCaptured += summary.byType[type].alreadyCaptured;
    leftForWebhook += summary.byType[type].leftForWebhook;
  }
  return {
    type: 'reconcile',
    state: summary.state,
    since: summary.since,
    checked,
    alreadyCaptured,
    recovered: recovered.flatMap((m) => (m.eventId === null ? [] : [m.eventId])),
    error: summary.error,
    dryRun: summary.dryRun,
    types: summary.types,
    stations: summary.stations,
    leftForWebhook,
    messages: recovered.map((m) => ({ type: m.type, messageId: m.messageId, eventId: m.eventId })),
  };
}
