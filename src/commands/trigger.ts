import { usageError } from '../core/errors.js';
import { applySet, type SetInstruction } from '../core/json-edit.js';
import { createDispatcher, DEFAULT_TIMEOUT_MS, httpRequest } from '../core/http-send.js';
import { postThroughListener, SAMPLE_HEADERS } from '../core/ingest.js';
import { buildSample, SAMPLE_DESCRIPTIONS, type SampleVariant } from '../core/mftg-samples.js';
import { resolveEventType } from '../core/mftg.js';
import { isSuccess } from '../core/types.js';
import { colorsFor, formatDuration, wrapWords } from '../output/format.js';
import { storeDirFrom } from './common.js';

/** What came back from the one POST a trigger makes (no retry: best effort, like MFTG). */
interface TriggerResult {
  url: string;
  status: number | null;
  error: string | null;
  durationMs: number;
  /** The event it became in the listener's store (through the listener only). */
  eventId: string | null;
}

/** `--to`: straight to that URL, as a plain HTTP request (nothing is stored). */
async function postSample(url: string, body: Buffer, options: { timeoutMs: number; insecure: boolean }): Promise<TriggerResult> {
  const dispatcher = createDispatcher({ insecure: options.insecure });
  try {
    const result = await httpRequest({ target: url, method: 'POST', headers: [...SAMPLE_HEADERS], body, timeoutMs: options.timeoutMs, dispatcher });
    return { url, status: result.status, error: result.error, durationMs: result.durationMs, eventId: null };
  } finally {
    await dispatcher.close();
  }
}

/** The width `trigger --list` wraps to: the terminal's, else `COLUMNS`, else 80. */
function textWidth(stream: NodeJS.WriteStream = process.stdout, env: NodeJS.ProcessEnv = process.env): number {
  if (stream.isTTY && stream.columns > 0) return stream.columns;
  const columns = Number(env.COLUMNS);
  return Number.isInteger(columns) && columns > 0 ? columns : 80;
}

/** `trigger --list`: each type, when MFTG sends it and its own fields, wrapped at words to `width`. */
export function describeTypes(width: number, colors = colorsFor(process.stdout)): string {
  const lines: string[] = [];
  for (const d of SAMPLE_DESCRIPTIONS) {
    lines.push(`${colors.bold(d.eventType)}  (or: ${d.alias})`);
    lines.push(...wrapWords(`when: ${d.when}`, width - 2, '    ').map((line) => `  ${line}`));
    lines.push(...wrapWords(`own fields: ${d.specificFields.join(', ')}`, width - 2, '    ').map((line) => `  ${line}`));
  }
  lines.push('');
  lines.push(
    ...wrapWords(
      'Every sample also has to, messageSubject, partnerName, stationName, attachments (S3 keys), bucketName, tenantName, tenantId, tenantEmail, eventType, ' +
        'and the ids under their pre-3.1.1 names (messageAS2ID, partnerAS2ID, stationAS2ID) and/or the new ones (messageIdentifier, partnerIdentifier, stationIdentifier): ' +
        'both by default (what MFTG sends today), --legacy for the old names only, --modern for the new ones only.',
      width,
    ),
  );
  lines.push('', ...wrapWords('The type can be the full name, the short name, or any unique part of it, in any case (e.g. `trigger fail`).', width));
  return lines.join('\n');
}

function listTypes(): number {
  process.stdout.write(describeTypes(textWidth()) + '\n');
  return 0;
}

/** `mftg-hooks trigger <eventType>`: a realistic sample through the running listener (or to --to). */
export async function triggerCommand(options: Record<string, unknown>, args: string[]): Promise<number> {
  if (options.list === true) return listTypes();
  const name = args[0];
  if (!name) throw usageError('which event type? e.g. `mftg-hooks trigger MESSAGE.RECEIVED.SUCCESS`', 'see `mftg-hooks trigger --list`');
  const match = resolveEventType(name);
  if (!match) throw usageError(`unknown event type ${name}`, `one of ${SAMPLE_DESCRIPTIONS.map((d) => `${d.alias} (${d.eventType})`).join(', ')}; see --list`);
  if ('ambiguous' in match) throw usageError(`"${name}" matches ${match.ambiguous.join(' and ')}; say which`, 'see --list');
  const eventType = match.type;
  const variant: SampleVariant = options.legacy === true ? 'legacy' : options.modern === true ? 'modern' : 'both';

  const doc = buildSample(eventType, { variant, attachments: typeof options.attachments === 'number' ? options.attachments : 1 });
  for (const instruction of (options.set as SetInstruction[] | undefined) ?? []) applySet(doc, instruction);
  const body = Buffer.from(JSON.stringify(doc), 'utf8');
  const messageId = String(doc.messageIdentifier ?? doc.messageAS2ID ?? '');

  if (options.print === true) {
    process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
    return 0;
  }

  const timeoutMs = typeof options.timeout === 'number' ? options.timeout : DEFAULT_TIMEOUT_MS;
  const viaListener = typeof options.to !== 'string';
  // Through the listener, the sample is marked as a trigger (its source) and flows like a delivery.
  const delivery: TriggerResult = viaListener
    ? await postThroughListener(storeDirFrom(options), { source: 'trigger', body, headers: [...SAMPLE_HEADERS], timeoutMs })
    : await postSample(options.to as string, body, { timeoutMs, insecure: options.insecure === true });
  const ok = isSuccess(delivery);
  const { url, eventId } = delivery;

  if (options.json === true) {
    process.stdout.write(JSON.stringify({ type: 'trigger', eventType, messageId, url: delivery.url, status: delivery.status, error: delivery.error, durationMs: delivery.durationMs, eventId }) + '\n');
  } else {
    const colors = colorsFor(process.stdout);
    const outcome = delivery.status !== null ? String(delivery.status) : (delivery.error ?? 'ERROR');
    const where = viaListener ? `the listener at ${url}` : url;
    process.stdout.write(`${eventType} ${messageId} → ${where}  ${ok ? colors.green(outcome) : colors.red(outcome)}  ${formatDuration(delivery.durationMs)}\n`);
    if (eventId) process.stdout.write(`captured as event ${eventId} (replay it with \`mftg-hooks replay ${eventId}\`)\n`);
  }
  if (!ok) process.stderr.write(`mftg-hooks: the sample was not accepted (${delivery.status ?? delivery.error}) by ${url}\n`);
  return ok ? 0 : 1;
}
