import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { findCycles, importGraph, type ImportEdge } from '../helpers/import-graph.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CORE = join(ROOT, 'src/core/');

async function sources(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await sources(path)));
    else if (/\.tsx?$/.test(entry.name)) found.push(path);
  }
  return found;
}

const edges = await importGraph(ROOT, 'src');
const edgeName = (edge: ImportEdge): string => `${edge.from} → ${edge.to}${edge.typeOnly ? ' (types)' : ''}`;

/** A rule over the import graph: the edges that break it must be none, with no exception. */
function rule(name: string, breaks: (edge: ImportEdge) => boolean): void {
  const broken = edges.filter(breaks).map(edgeName);
  test(name, () => {
    assert.deepEqual(broken, [], `imports that break the rule:\n  ${broken.join('\n  ')}`);
  });
}

const UI_PACKAGES = /^package:(ink|ink-.*|react|react-dom|chalk|commander|preact|htm)$/;
const inCore = (file: string): boolean => file.startsWith('src/core/');
const isFace = (file: string): boolean => /^src\/(ui|web|output)\//.test(file);
/**
 * What a face may import from the core: the view port, the shared data types and pure helpers that
 * neither hold state nor reach the store, delivery or the network. Everything a face does to the
 * session goes through the port's intents (replay, trigger, retryTunnel, listAttachments,
 * saveAttachments); `src/live/` (the shared
 * view-model) is not core and is open to every face.
 */
const FACE_CORE_ALLOWED = new Set([
  'src/core/session-view.ts',
  'src/core/types.ts',
  'src/core/errors.ts',
  'src/core/ids.ts',
  'src/core/mftg.ts',
  'src/core/mftg-samples.ts',
  'src/core/json-edit.ts',
  'src/core/export.ts',
  'src/core/delivery-state.ts',
  'src/core/delivery/targets.ts',
  'src/core/reconcile/summary-text.ts',
]);
/** The sources of events: they hand events to ingest and never write the store themselves. */
const isSource = (file: string): boolean =>
  file === 'src/core/capture-server.ts' || file.startsWith('src/core/reconcile/') || file === 'src/commands/trigger.ts' || file === 'src/commands/reconcile.ts';

test('the import graph was read: every part of src has imports, and relative imports resolve to files', () => {
  assert.ok(edges.length > 200, `${edges.length} imports`);
  for (const part of ['src/core/', 'src/ui/', 'src/web/', 'src/output/', 'src/commands/'])
    assert.ok(
      edges.some((edge) => edge.from.startsWith(part)),
      part,
    );
  const unresolved = edges.filter((edge) => !edge.to.startsWith('package:') && !/\.tsx?$/.test(edge.to)).map(edgeName);
  assert.deepEqual(unresolved, []);
});

test('src/core is headless: no printing, no process.exit', async () => {
  const files = await sources(CORE);
  assert.ok(files.length > 10, 'the core sources were found');
  for (const file of files) {
    const text = await readFile(file, 'utf8');
    assert.doesNotMatch(text, /process\.exit\(|console\.(log|error|warn)\(/, `${file} prints or exits`);
  }
});

rule(
  'src/core imports nothing outside src/core, and no UI or CLI package (ink, react, chalk, commander)',
  (edge) => inCore(edge.from) && (edge.to.startsWith('package:') ? UI_PACKAGES.test(edge.to) : !inCore(edge.to)),
);

rule('faces (src/ui, src/web, src/output) reach the session only through the view port and the shared view-model', (edge) => isFace(edge.from) && inCore(edge.to) && !FACE_CORE_ALLOWED.has(edge.to));

rule('sources (capture server, trigger, reconcile) reach the store only through ingest', (edge) => isSource(edge.from) && edge.to.startsWith('src/core/store/') && !edge.typeOnly);

test('no import cycles in src (type-only and lazy imports count: they are dependencies of the design too)', () => {
  const cycles = findCycles(edges).map((cycle) => cycle.join(' → '));
  assert.deepEqual(cycles, [], `import cycles:\n  ${cycles.join('\n  ')}`);
});
