import { usageError } from '../core/errors.js';
import type { SetInstruction } from '../core/json-edit.js';
import { DEFAULT_REPLAY_TIMEOUT_MS, replay, type ReplaySelection } from '../core/replay.js';
import { isSuccess, type EventRecord, type ForwardAttempt } from '../core/types.js';
import { colorsFor, eventTitle, formatDuration, formatOutcome, paint, toneOf } from '../output/format.js';
import { attemptRecord } from '../output/records.js';
import { storeDirFrom } from './common.js';

/** `mftg-hooks replay (<id>... | --last [n] | --failed)`: flags → ReplayOptions → one line (or record) per attempt. */
export async function replayCommand(options: Record<string, unknown>, args: string[]): Promise<number> {
  const last = options.last === true ? 1 : typeof options.last === 'number' ? options.last : undefined;
  const failed = options.failed === true;
  if (args.length > 0 && (last !== undefined || failed)) throw usageError('give event ids, or --last / --failed, not both');
  if (args.length === 0 && last === undefined && !failed) throw usageError('which events? give event ids (or unique prefixes), --last [n] or --failed', 'see `mftg-hooks events list`');
  const selection: ReplaySelection = args.length > 0 ? { ids: args } : { ...(last !== undefined ? { last } : {}), failed };

  const json = options.json === true;
  const colors = colorsFor(process.stdout);
  const print = (attempt: ForwardAttempt, event: EventRecord): void => {
    if (json) {
      process.stdout.write(JSON.stringify(attemptRecord(attempt)) + '\n');
      return;
    }
    const outcome = paint(colors, toneOf(attempt), formatOutcome(attempt));
    const modified = attempt.modified ? colors.yellow(' (modified)') : '';
    process.stdout.write(`replay  ${colors.dim(event.id)}  ${eventTitle(event)}  → ${attempt.target}  ${outcome}  ${formatDuration(attempt.durationMs)}${modified}\n`);
  };

  const results = await replay({
    storeDir: storeDirFrom(options),
    selection,
    to: typeof options.to === 'string' ? options.to : null,
    sets: (options.set as SetInstruction[] | undefined) ?? [],
    headers: (options.header as Array<[string, string]> | undefined) ?? [],
    edit: options.edit === true,
    timeoutMs: typeof options.timeout === 'number' ? options.timeout : DEFAULT_REPLAY_TIMEOUT_MS,
    insecure: options.insecure === true,
    onAttempt: print,
  });
  if (results.length === 0) {
    process.stderr.write('No failed events to replay.\n');
    return 0;
  }
  const failures = results.filter(({ attempt }) => !isSuccess(attempt)).length;
  if (failures > 0) {
    process.stderr.write(`mftg-hooks: ${failures} of ${results.length} replay${results.length === 1 ? '' : 's'} did not get a 2xx answer\n`);
    return 1;
  }
  return 0;
}
