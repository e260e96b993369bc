// A test reporter that prints, after the run, how long each test file's top-level tests took (slowest
// first): what to look at when the suite gets slow. test/run.mjs adds it beside the spec reporter.
import { relative } from 'node:path';

export default async function* durations(source) {
  const perFile = new Map();
  for await (const event of source) {
    if ((event.type === 'test:pass' || event.type === 'test:fail') && event.data.nesting === 0 && event.data.file) {
      perFile.set(event.data.file, (perFile.get(event.data.file) ?? 0) + (event.data.details?.duration_ms ?? 0));
    }
  }
  const rows = [...perFile].sort((a, b) => b[1] - a[1]);
  yield '\nper-file durations (sum of top-level tests):\n';
  for (const [file, ms] of rows) yield `${(ms / 1000).toFixed(1).padStart(7)} s  ${relative(process.cwd(), file)}\n`;
  const total = rows.reduce((sum, [, ms]) => sum + ms, 0);
  yield `${(total / 1000).toFixed(1).padStart(7)} s  in all (${rows.length} files; the run's wall time is the duration_ms above)\n`;
}
