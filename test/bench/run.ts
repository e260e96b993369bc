/**
 * `npm run bench [-- --only <names>] [--quick] [--rounds <n>] [--json]`
 *
 * Measures the product against its speed and size targets, each figure side by side with a
 * baseline in the same run. Everything runs on 127.0.0.1 and is stopped at the end. Progress goes to
 * stderr; the table (or with --json one JSON document) to stdout. Exit code 1 when a scenario failed
 * or lost events; a missed target is reported, not an error.
 */
import { renderNotes, renderTable, runScenario, type BenchContext, type Scenario, type ScenarioReport } from './harness.js';
import { SCENARIOS } from './scenarios/index.js';
import { cpus } from 'node:os';
import { resolve } from 'node:path';

interface Options {
  only: string[];
  quick: boolean;
  rounds: number | null;
  json: boolean;
  cpuProf: string | null;
}

const USAGE = `usage: npm run bench -- [--only <name,...>] [--quick] [--rounds <n>] [--json] [--cpu-prof <dir>]
scenarios: ${SCENARIOS.map((s) => s.name).join(', ')}`;

function parseArgs(argv: string[]): Options {
  const options: Options = { only: [], quick: false, rounds: null, json: false, cpuProf: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const next = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === '--quick') options.quick = true;
    else if (arg === '--json') options.json = true;
    else if (arg === '--only' || arg.startsWith('--only=')) options.only.push(...value().split(',').filter(Boolean));
    else if (arg === '--rounds' || arg.startsWith('--rounds=')) {
      const rounds = Number(value());
      if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds takes a positive integer');
      options.rounds = rounds;
    } else if (arg === '--cpu-prof' || arg.startsWith('--cpu-prof=')) {
      options.cpuProf = resolve(value());
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write(USAGE + '\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}`);
  }
  for (const name of options.only) if (!SCENARIOS.some((s) => s.name === name)) throw new Error(`unknown scenario ${name}`);
  return options;
}

async function runBench(scenarios: readonly Scenario[], ctx: BenchContext): Promise<ScenarioReport[]> {
  const reports: ScenarioReport[] = [];
  for (const scenario of scenarios) {
    ctx.log(`▸ ${scenario.name}: ${scenario.title}`);
    const report = await runScenario(scenario, ctx);
    if (report.error) ctx.log(report.error);
    reports.push(report);
  }
  return reports;
}

async function main(): Promise<number> {
  let options: Options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const selected = options.only.length > 0 ? SCENARIOS.filter((s) => options.only.includes(s.name)) : SCENARIOS;
  const ctx: BenchContext = {
    quick: options.quick,
    rounds: options.rounds ?? (options.quick ? 1 : 5),
    log: (line) => process.stderr.write(line + '\n'),
    // Each listener writes a .cpuprofile there when it stops (open it in Chrome DevTools).
    listenerNodeArgs: options.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProf}`] : [],
  };
  const started = new Date();
  const reports = await runBench(selected, ctx);
  const machine = { node: process.version, platform: `${process.platform} ${process.arch}`, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown' };
  if (options.json) {
    process.stdout.write(JSON.stringify({ startedAt: started.toISOString(), quick: options.quick, rounds: ctx.rounds, machine, scenarios: reports }, null, 2) + '\n');
  } else {
    process.stdout.write(
      `\nmftg-hooks bench — ${started.toISOString()} — Node ${machine.node}, ${machine.cpus} × ${machine.cpuModel}${options.quick ? ' — QUICK (tiny sizes, not representative)' : ''}\n\n`,
    );
    process.stdout.write(renderTable(reports) + '\n\n' + renderNotes(reports) + '\n');
  }
  const failed = reports.some((report) => report.notes.some((note) => note.startsWith('FAILED')) || report.lost > 0);
  return failed ? 1 : 0;
}

process.exitCode = await main();
