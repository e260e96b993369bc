import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/** One import of a source file: `import`, `export … from` or a dynamic `import()`. */
export interface ImportEdge {
  /** The importing file, relative to the repository root (`src/core/ingest.ts`). */
  from: string;
  /** The imported file relative to the root, or `package:<name>` for a package (`package:ink`, `package:node:fs`). */
  to: string;
  specifier: string;
  /** Only types are imported: erased by the compiler, but still a dependency of the design. */
  typeOnly: boolean;
  dynamic: boolean;
}

async function sourceFiles(root: string, dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(join(root, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await sourceFiles(root, path)));
    else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) found.push(path);
  }
  return found.sort();
}

function packageName(specifier: string): string {
  if (specifier.startsWith('node:')) return specifier;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** A relative specifier as a file of the tree: `./x.js` is `x.ts` or `x.tsx` when that exists. */
function resolveSpecifier(root: string, from: string, specifier: string, files: Set<string>): string {
  const target = relative(root, resolve(root, dirname(from), specifier));
  const base = target.replace(/\.(m?js|jsx)$/, '');
  for (const candidate of [`${base}.ts`, `${base}.tsx`, target, join(target, 'index.ts')]) if (files.has(candidate)) return candidate;
  return target;
}

function importsOf(file: string, text: string): Array<Omit<ImportEdge, 'from' | 'to'>> {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const found: Array<Omit<ImportEdge, 'from' | 'to'>> = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const named = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings.elements : undefined;
      const typeOnly = clause !== undefined && (clause.isTypeOnly || (clause.name === undefined && named !== undefined && named.length > 0 && named.every((element) => element.isTypeOnly)));
      found.push({ specifier: node.moduleSpecifier.text, typeOnly, dynamic: false });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const named = node.exportClause && ts.isNamedExports(node.exportClause) ? node.exportClause.elements : undefined;
      const typeOnly = node.isTypeOnly || (named !== undefined && named.length > 0 && named.every((element) => element.isTypeOnly));
      found.push({ specifier: node.moduleSpecifier.text, typeOnly, dynamic: false });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteralLike(node.arguments[0])) {
      found.push({ specifier: node.arguments[0].text, typeOnly: false, dynamic: true });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push({ specifier: node.argument.literal.text, typeOnly: true, dynamic: false });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Every import of every TypeScript file under `dir` (relative to `root`), in file order. */
export async function importGraph(root: string, dir: string): Promise<ImportEdge[]> {
  const files = await sourceFiles(root, dir);
  const known = new Set(files);
  const edges: ImportEdge[] = [];
  for (const from of files) {
    for (const found of importsOf(from, await readFile(join(root, from), 'utf8'))) {
      const to = found.specifier.startsWith('.') ? resolveSpecifier(root, from, found.specifier, known) : `package:${packageName(found.specifier)}`;
      edges.push({ from, to, ...found });
    }
  }
  return edges;
}

/** The import cycles among files: each as the path `a → b → … → a`, found by a depth-first search. */
export function findCycles(edges: ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const edge of edges) {
    if (edge.to.startsWith('package:')) continue;
    const list = next.get(edge.from) ?? [];
    if (!list.includes(edge.to)) list.push(edge.to);
    next.set(edge.from, list);
  }
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const to of next.get(file) ?? []) {
      if (state.get(to) === 'open') cycles.push([...stack.slice(stack.indexOf(to)), to]);
      else if (!state.has(to)) visit(to);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of [...next.keys()].sort()) if (!state.has(file)) visit(file);
  return cycles;
}
