import { MftgHooksError, usageError } from '../core/errors.js';
import { applySet, type SetInstruction } from '../core/json-edit.js';
import { createDispatcher, send } from '../core/http-send.js';
import { resolveEventType } from '../core/mftg.js';
import { buildSample, SAMPLE_DESCRIPTIONS, type SampleVariant } from '../core/mftg-samples.js';
import { readListener } from '../core/store/state-files.js';
import { EventStore } from '../core/store/store.js';
import { isSuccess } from '../core/types.js';
import { colorsFor, formatDuration, wrapWords } from '../output/format.js';
import { storeDirFrom } from './common.js';

/** Default timeout of a trigger's request. */
const TRIGGER_TIMEOUT_MS = 30_000;

/** What `trigger` sends besides the body: JSON, and a User-Agent that tells samples from real deliveries. */
export const SAMPLE_HEADERS: ReadonlyArray<[string, string]> = [
  ['content-type', 'application/json'],
  ['user-agent', 'mftg-hooks-trigger'],
];

/** POSTs a sample once (no retry: best effort, like MFTG) and says what came back. */
async function postSample(url: string, body: Buffer, options: { timeoutMs: number; insecure: boolean }): Promise<{ url: string; status: number | null; error: string | null; durationMs: number }> {
  const dispatcher = createDispatcher({ insecure: options.insecure });
  try {
    // `send` is the one HTTP primitive (error codes, timeouts); the attempt it describes is not stored.
    const { attempt } = await send({ eventId: '', kind: 'forward', target: url, method: 'POST', headers: [...SAMPLE_HEADERS], body, timeoutMs: options.timeoutMs, dispatcher });
    return { url, status: attempt.status, error: attempt.error, durationMs: attempt.durationMs };
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

  const storeDir = storeDirFrom(options);
  let url: string;
  let viaListener = false;
  if (typeof options.to === 'string') {
    url = options.to;
  } else {
    const listener = await readListener(storeDir);
    if (!listener) {
      throw new MftgHooksError('E_NO_LISTENER', `no listener is running for the store ${storeDir}`, 'start `mftg-hooks listen` in another terminal (same --store or MFTG_HOOKS_HOME), or pass --to <url>');
    }
    url = listener.captureUrl;
    viaListener = true;
  }

  const delivery = await postSample(url, body, { timeoutMs: typeof options.timeout === 'number' ? options.timeout : TRIGGER_TIMEOUT_MS, insecure: options.insecure === true });
  const ok = isSuccess(delivery);
  // The listener stores an event before it answers, so a 2xx means it is in the store already.
  let eventId: string | null = null;
  if (ok && viaListener) {
    const store = await EventStore.open(storeDir);
    const recent = await store.list({ limit: 20, eventType });
    eventId = recent.reverse().find((event) => event.mftg?.messageId === messageId)?.id ?? null;
    await store.close();
  }

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
