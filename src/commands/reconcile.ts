import { MftgApiClient } from '../core/mftg-api/client.js';
import { EVENT_TYPE_OF } from '../core/mftg-api/to-webhook.js';
import { MESSAGE_TYPES, type MessageType } from '../core/mftg-api/types.js';
import { reconcileRecord } from '../core/reconcile/summary-text.js';
import { failSummary, Reconciler, recoveredMessages, type ReconcileProgress, type ReconcileSink, type ReconcileSummary } from '../core/reconcile/reconciler.js';
import { apiOptionsFromEnv } from '../core/reconcile/settings.js';
import { IngestSink, ListenerSink } from '../core/reconcile/sinks.js';
import { openStoredEvents, runningListener, StoreIngest } from '../core/standalone-ingest.js';
import { isSuccess } from '../core/types.js';
import { colorsFor, formatLocalDateTime } from '../output/format.js';
import { terminalSafe } from '../output/terminal-text.js';
import { storeDirFrom } from './common.js';

/** A progress line on a terminal's stderr, rewritten in place; nothing when stderr is not a terminal. */
function progressLine(stream: NodeJS.WriteStream): { update: (progress: ReconcileProgress) => void; clear: () => void } {
  if (!stream.isTTY) return { update: () => undefined, clear: () => undefined };
  let shown = false;
  return {
    update(progress) {
      const text =
        progress.phase === 'listing'
          ? `checking ${progress.type} messages${progress.station ? ` of ${progress.station}` : ''}: ${progress.pages} page${progress.pages === 1 ? '' : 's'}, ${progress.messages} message${progress.messages === 1 ? '' : 's'}…`
          : `recovering ${progress.done}/${progress.total}…`;
      stream.write(`\r\x1b[2K${text.slice(0, Math.max(20, (stream.columns || 80) - 1))}`);
      shown = true;
    },
    clear() {
      if (shown) stream.write('\r\x1b[2K');
      shown = false;
    },
  };
}

function report(summary: ReconcileSummary, where: string): string {
  const colors = colorsFor(process.stdout);
  const lines: string[] = [];
  const scope = summary.stations.length > 0 ? summary.stations.join(', ') : 'all stations';
  lines.push(`${summary.dryRun ? 'Dry run: compared' : 'Compared'} MFTG with the store since ${formatLocalDateTime(summary.since)} (${summary.types.join(', ')}; ${terminalSafe(scope)})`);
  for (const type of MESSAGE_TYPES) {
    if (!summary.types.includes(type)) continue;
    const t = summary.byType[type];
    const parts = [`${t.inMftg} in MFTG`, `${t.alreadyCaptured} already captured`, `${t.recovered.length} ${summary.dryRun ? 'to recover' : 'recovered'}`];
    if (t.leftForWebhook > 0) parts.push(`${t.leftForWebhook} younger than 2 min left for their webhook`);
    if (!t.complete) parts.push(colors.yellow('not fully checked'));
    lines.push(`  ${type.padEnd(8)}  ${parts.join(', ')}`);
  }
  const recovered = recoveredMessages(summary);
  if (recovered.length > 0) {
    lines.push(summary.dryRun ? 'Would recover (nothing was changed):' : `Recovered ${where}:`);
    for (const m of recovered) lines.push(`  ${m.eventId ?? '-'}  ${EVENT_TYPE_OF[m.type]}  ${terminalSafe(m.messageId)}`);
  } else if (summary.state === 'done') {
    lines.push(colors.green('Nothing missed.'));
  }
  return lines.join('\n') + '\n';
}

/** `mftg-hooks reconcile`: finds the deliveries MFTG's webhooks never brought, and ingests them. */
export async function reconcileCommand(options: Record<string, unknown>): Promise<number> {
  const apiOptions = apiOptionsFromEnv();
  const storeDir = storeDirFrom(options);
  const dryRun = options.dryRun === true;
  const listener = await runningListener(storeDir);
  // With a listener running, it ingests (and this process only reads the store); else this process
  // is the store's one writer for the run, through a store-backed ingest path.
  const standalone = listener ? null : await StoreIngest.open(storeDir);
  const reads = standalone ?? (await openStoredEvents(storeDir));
  const sink: ReconcileSink = standalone ? new IngestSink(standalone, standalone.ingest) : new ListenerSink(reads, storeDir);
  const client = new MftgApiClient(apiOptions);
  const progress = progressLine(process.stderr);
  let summary: ReconcileSummary;
  try {
    const reconciler = new Reconciler({ api: client, sink, onProgress: progress.update });
    summary = await reconciler.run({
      since: typeof options.since === 'number' ? options.since : null,
      stations: (options.station as string[] | undefined) ?? [],
      types: (options.types as MessageType[] | undefined) ?? undefined,
      dryRun,
    });
    // The forwards go out behind the store: the run is over once the last one is recorded.
    await standalone?.drain().catch((error: unknown) => failSummary(summary, error));
  } finally {
    progress.clear();
    await client.close();
    await reads.close();
  }

  const attempts = standalone?.attempts ?? [];
  const where = listener
    ? `through the listener at ${listener.captureUrl}`
    : standalone?.forwardTo
      ? `into the store and forwarded to ${standalone.forwardTo}`
      : 'into the store (no --forward-to remembered: start `mftg-hooks listen -f <url>` to forward them)';
  if (options.json === true) {
    process.stdout.write(JSON.stringify(reconcileRecord(summary)) + '\n');
  } else {
    process.stdout.write(report(summary, where));
    const failed = attempts.filter((attempt) => !isSuccess(attempt));
    if (failed.length > 0) process.stdout.write(`${failed.length} of ${attempts.length} forwards failed; they are stored: \`mftg-hooks replay --failed\` sends them again.\n`);
  }
  if (summary.state === 'failed') {
    process.stderr.write(`mftg-hooks: reconcile incomplete: ${summary.error}${summary.hint ? ` (${summary.hint})` : ''}\n`);
    return 1;
  }
  return 0;
}
