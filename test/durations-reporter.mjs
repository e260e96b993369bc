// A test reporter that prints, after the run, how long each test file's top-level tests took (slowest
// first): what to look at when the suite gets slow. test/run.mjs adds it beside the spec reporter, and
// starts the slowest files of the last run first (DURATIONS_FILE), so no long file is left for the end.
import { readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';

/** Where the last run's per-file durations are kept (beside the compiled tests, never committed). */
export const DURATIONS_FILE = new URL('../dist/test/durations.json', import.meta.url);

/** The last run's milliseconds per compiled test file (absolute path); empty when unknown. */
export function lastDurations() {
  try {
    return new Map(Object.entries(JSON.parse(readFileSync(DURATIONS_FILE, 'utf8'))));
  } catch {
    return new Map();
  }
}

export default async function* durations(source) {
  const perFile = new Map();
  for await (const event of source) {
    if ((event.type === 'test:pass' || event.type === 'test:fail') && event.data.nesting === 0 && event.data.file) {
      perFile.set(event.data.file, (perFile.get(event.data.file) ?? 0) + (event.data.details?.duration_ms ?? 0));
    }
  }
  const rows = [...perFile].sort((a, b) => b[1] - a[1]);
  // Merged into what earlier runs learnt, so a filtered run does not forget the other files.
  try {
    writeFileSync(DURATIONS_FILE, JSON.stringify(Object.fromEntries([...lastDurations(), ...rows])));
  } catch {
    // Only an ordering hint: a read-only dist/ changes nothing else.
  }
  yield '\nper-file durations (sum of top-level tests):\n';
  for (const [file, ms] of rows) yield `${(ms / 1000).toFixed(1).padStart(7)} s  ${relative(process.cwd(), file)}\n`;
  const total = rows.reduce((sum, [, ms]) => sum + ms, 0);
  yield `${(total / 1000).toFixed(1).padStart(7)} s  in all (${rows.length} files; the run's wall time is the duration_ms above)\n`;
}
