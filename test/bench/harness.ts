/**
 * The benchmark harness: scenario and metric types, rounds with a warm-up, medians with min/max,
 * targets and the two outputs (a table for people, `--json` for machines).
 */

export type Unit = 'ms' | 'µs' | 'req/s' | 'x' | 'MB' | 'events';

/** A target bound, checked against the median. */
export interface Target {
  op: '<=' | '>=';
  value: number;
}

/** What a scenario measures; every round adds one sample per metric. */
export interface MetricSpec {
  id: string;
  label: string;
  unit: Unit;
  target?: Target;
}

export interface MetricResult extends MetricSpec {
  median: number;
  min: number;
  max: number;
  samples: number[];
  /** null when the metric has no target or no sample. */
  met: boolean | null;
}

export interface ScenarioReport {
  name: string;
  title: string;
  rounds: number;
  metrics: MetricResult[];
  /** Events answered 2xx but missing afterwards (from the store, the handler or the output): must be 0. */
  lost: number;
  /** What the figures rest on (sizes, concurrency) and anything that could not be measured. */
  notes: string[];
  elapsedMs: number;
}

/** Sizes: `full` for `npm run bench`, `quick` (tiny) for the smoke test and development. */
export interface BenchContext {
  quick: boolean;
  /** Measured rounds (a warm-up runs before them and is discarded). */
  rounds: number;
  log: (line: string) => void;
  /** Node flags for every listener started (`--cpu-prof …` with `npm run bench -- --cpu-prof <dir>`). */
  listenerNodeArgs: string[];
}

export interface Scenario {
  /** Short name for `--only` (e.g. `capture`). */
  name: string;
  title: string;
  metrics: MetricSpec[];
  run(ctx: BenchContext, out: Recorder): Promise<void>;
}

/** Collects samples per metric, lost events and notes while a scenario runs. */
export class Recorder {
  readonly samples = new Map<string, number[]>();
  readonly notes: string[] = [];
  lost = 0;
  rounds = 0;

  constructor(private readonly specs: MetricSpec[]) {
    for (const spec of specs) this.samples.set(spec.id, []);
  }

  add(id: string, value: number): void {
    const list = this.samples.get(id);
    if (!list) throw new Error(`unknown metric ${id}`);
    if (Number.isFinite(value)) list.push(value);
  }

  /** Adds one sample per metric of a round and counts the round. */
  round(values: Record<string, number>): void {
    for (const [id, value] of Object.entries(values)) this.add(id, value);
    this.rounds++;
  }

  note(text: string): void {
    if (!this.notes.includes(text)) this.notes.push(text);
  }

  addLost(count: number, what: string): void {
    if (count > 0) this.note(`LOST ${count} ${what}`);
    this.lost += Math.max(0, count);
  }

  results(): MetricResult[] {
    return this.specs.map((spec) => {
      const samples = this.samples.get(spec.id) ?? [];
      const median = medianOf(samples);
      const met = spec.target && samples.length > 0 ? (spec.target.op === '<=' ? median <= spec.target.value : median >= spec.target.value) : null;
      return { ...spec, median, min: samples.length ? Math.min(...samples) : Number.NaN, max: samples.length ? Math.max(...samples) : Number.NaN, samples, met };
    });
  }
}

export function medianOf(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentile (p in 0..100) of unsorted values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

/** Runs a scenario, turning a failure into a report note instead of ending the whole run. */
export async function runScenario(scenario: Scenario, ctx: BenchContext): Promise<ScenarioReport & { error: string | null }> {
  const recorder = new Recorder(scenario.metrics);
  const started = Date.now();
  let error: string | null = null;
  try {
    await scenario.run(ctx, recorder);
  } catch (caught) {
    error = caught instanceof Error ? (caught.stack ?? caught.message) : String(caught);
    recorder.note(`FAILED: ${caught instanceof Error ? caught.message : String(caught)}`);
  }
  return { name: scenario.name, title: scenario.title, rounds: recorder.rounds, metrics: recorder.results(), lost: recorder.lost, notes: recorder.notes, elapsedMs: Date.now() - started, error };
}

// ---- output -------------------------------------------------------------------------------------

export function formatValue(value: number, unit: Unit): string {
  if (!Number.isFinite(value)) return '–';
  switch (unit) {
    case 'ms':
      return value >= 100 ? `${Math.round(value)} ms` : value >= 10 ? `${value.toFixed(1)} ms` : `${value.toFixed(2)} ms`;
    case 'µs':
      return `${value.toFixed(1)} µs`;
    case 'req/s':
      return `${Math.round(value)}/s`;
    case 'x':
      return `${value.toFixed(2)}×`;
    case 'MB':
      return `${value.toFixed(1)} MB`;
    case 'events':
      return String(Math.round(value));
  }
}

function formatTarget(target: Target | undefined, unit: Unit): string {
  if (!target) return '';
  return `${target.op === '<=' ? '≤' : '≥'} ${formatValue(target.value, unit)}`;
}

function verdict(met: boolean | null): string {
  return met === null ? '' : met ? 'met' : 'MISSED';
}

/** The results table (markdown, readable in a terminal and pastable into the README). */
export function renderTable(reports: readonly ScenarioReport[]): string {
  const rows: string[][] = [['scenario', 'metric', 'median', 'min … max', 'target', '']];
  for (const report of reports) {
    report.metrics.forEach((metric, index) => {
      rows.push([
        index === 0 ? report.name : '',
        metric.label,
        formatValue(metric.median, metric.unit),
        metric.samples.length > 1 ? `${formatValue(metric.min, metric.unit)} … ${formatValue(metric.max, metric.unit)}` : '',
        formatTarget(metric.target, metric.unit),
        verdict(metric.met),
      ]);
    });
  }
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const line = (row: string[]): string => `| ${row.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  return [line(rows[0]!), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

export function renderNotes(reports: readonly ScenarioReport[]): string {
  const lines: string[] = [];
  for (const report of reports) {
    lines.push(`${report.name} — ${report.title} (${report.rounds} round${report.rounds === 1 ? '' : 's'}, ${(report.elapsedMs / 1000).toFixed(1)} s, lost events: ${report.lost})`);
    for (const note of report.notes) lines.push(`  · ${note}`);
  }
  return lines.join('\n');
}
