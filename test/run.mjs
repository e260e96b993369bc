#!/usr/bin/env node
// Runs every compiled test file with node's test runner. Node 20 does not expand globs itself, and a
// run that executes no test must fail rather than pass.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { lastDurations } from './durations-reporter.mjs';
import { join, relative } from 'node:path';

const root = new URL('../dist/test/', import.meta.url).pathname;
const sources = new URL('./', import.meta.url).pathname;
const only = process.argv.slice(2);
// Test files at a time: one per CPU, at least 2 (most files spend much of their time waiting on child
// processes); MFTG_HOOKS_TEST_CONCURRENCY overrides it (1 to run them one by one).
const concurrency = Number(process.env.MFTG_HOOKS_TEST_CONCURRENCY) > 0 ? Math.floor(Number(process.env.MFTG_HOOKS_TEST_CONCURRENCY)) : Math.max(2, availableParallelism());

function findTests(dir) {
  const found = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== 'bench' && name !== 'helpers') found.push(...findTests(path));
    } else if (name.endsWith('.test.js') && hasSource(path)) {
      found.push(path);
    }
  }
  return found.sort();
}

/** A compiled test whose source was deleted or renamed (tsc leaves it in dist/) is not run. */
function hasSource(compiled) {
  const base = join(sources, relative(root, compiled)).replace(/\.js$/, '');
  return existsSync(`${base}.ts`) || existsSync(`${base}.tsx`);
}

let files = findTests(root);
if (only.length > 0) files = files.filter((file) => only.some((part) => relative(root, file).includes(part)));
// The slowest files of the last run start first (new ones before them: their time is unknown), so
// the run does not end waiting on one long file.
const last = lastDurations();
files.sort((a, b) => (last.get(b) ?? Infinity) - (last.get(a) ?? Infinity) || a.localeCompare(b));
if (files.length === 0) {
  console.error('test/run.mjs: no test files found under dist/test (did the build run?)');
  process.exit(1);
}

const child = spawn(
  process.execPath,
  [
    '--test',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${new URL('durations-reporter.mjs', import.meta.url).pathname}`,
    '--test-reporter-destination=stdout',
    `--test-concurrency=${concurrency}`,
    ...files,
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
let output = '';
child.stdout.on('data', (chunk) => {
  output += chunk;
  if (output.length > 64 * 1024) output = output.slice(-16 * 1024);
  process.stdout.write(chunk);
});
child.on('close', (code) => {
  const tests = /ℹ tests (\d+)/.exec(output);
  if (code === 0 && (!tests || Number(tests[1]) === 0)) {
    console.error('test/run.mjs: the run executed no test');
    process.exit(1);
  }
  process.exit(code ?? 1);
});
