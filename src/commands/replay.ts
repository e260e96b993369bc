import { usageError } from '../core/errors.js';
import type { SetInstruction } from '../core/json-edit.js';
import { DEFAULT_TIMEOUT_MS } from '../core/http-send.js';
import { replay, type ReplaySelection } from '../core/replay.js';
import { isSuccess, type EventRecord, type ForwardAttempt } from '../core/types.js';
import { colorsFor, eventTitle, formatDuration, formatOutcome, paint, toneOf } from '../output/format.js';
import { jsonLine } from '../output/json-printer.js';
import { attemptRecord } from '../output/records.js';
import { terminalSafe } from '../output/terminal-text.js';
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
  // A slow handler: say what is on the wire, on a terminal only (nothing extra when piped).
  const progress = process.stderr.isTTY === true;
  let progressShown = false;
  const clearProgress = (): void => {
    if (progressShown) process.stderr.write('\r\u001b[2K');
    progressShown = false;
  };
  const sending = (n: number, total: number, _event: EventRecord, target: string): void => {
    if (!progress) return;
    clearProgress();
    const line = `replaying ${n} of ${total} → ${terminalSafe(target)}…`;
    const width = process.stderr.columns || 80;
    // One terminal line, so \r can take it back.
    process.stderr.write(line.length < width ? line : line.slice(0, width - 2) + '…');
    progressShown = true;
  };
  const print = (attempt: ForwardAttempt, event: EventRecord): void => {
    clearProgress();
    if (json) {
      process.stdout.write(jsonLine(attemptRecord(attempt)));
      return;
    }
    const outcome = paint(colors, toneOf(attempt), terminalSafe(formatOutcome(attempt)));
    const modified = attempt.modified ? colors.yellow(' (modified)') : '';
    process.stdout.write(`replay  ${colors.dim(event.id)}  ${terminalSafe(eventTitle(event))}  → ${terminalSafe(attempt.target)}  ${outcome}  ${formatDuration(attempt.durationMs)}${modified}\n`);
  };

  const results = await replay({
    onSending: sending,
    storeDir: storeDirFrom(options),
    selection,
    to: typeof options.to === 'string' ? options.to : null,
    sets: (options.set as SetInstruction[] | undefined) ?? [],
    headers: (options.header as Array<[string, string]> | undefined) ?? [],
    edit: options.edit === true,
    timeoutMs: typeof options.timeout === 'number' ? options.timeout : DEFAULT_TIMEOUT_MS,
    insecure: options.insecure === true,
    onAttempt: print,
  }).finally(clearProgress);
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
