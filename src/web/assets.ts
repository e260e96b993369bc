import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The page's files: its own JS and CSS from `src/web/page/` (plain files tsc does not copy, so they
 * are read from the source tree next to the compiled code, `dist/src/web/` → `src/web/page/`), and
 * Preact and htm from the installed packages. Nothing comes from the internet.
 */
export const PAGE_DIR = fileURLToPath(new URL('../../../src/web/page/', import.meta.url));

const require = createRequire(import.meta.url);

interface Asset {
  file: string;
  type: string;
}

const JS = 'text/javascript; charset=utf-8';

/** The ES module build beside a package entry point (`exports` hides the files themselves). */
const moduleBeside = (specifier: string, file: string): string => join(dirname(require.resolve(specifier)), file);

/** URL path → file. Page modules import each other (and the vendor modules) by these paths. */
export const ASSETS: Record<string, Asset> = {
  '/assets/preact.mjs': { file: moduleBeside('preact', 'preact.mjs'), type: JS },
  '/assets/hooks.mjs': { file: moduleBeside('preact/hooks', 'hooks.mjs'), type: JS },
  '/assets/htm.mjs': { file: moduleBeside('htm', 'htm.mjs'), type: JS },
  '/assets/app.js': { file: `${PAGE_DIR}app.js`, type: JS },
  '/assets/body-view.js': { file: `${PAGE_DIR}body-view.js`, type: JS },
  '/assets/text.js': { file: `${PAGE_DIR}text.js`, type: JS },
  '/assets/style.css': { file: `${PAGE_DIR}style.css`, type: 'text/css; charset=utf-8' },
  '/favicon.svg': { file: `${PAGE_DIR}favicon.svg`, type: 'image/svg+xml' },
};

const cache = new Map<string, Buffer>();

/** The bytes of an asset (read once per process: they do not change while it runs). */
export async function readAsset(path: string): Promise<{ body: Buffer; type: string } | null> {
  const asset = Object.hasOwn(ASSETS, path) ? ASSETS[path]! : null;
  if (!asset) return null;
  let body = cache.get(path);
  if (!body) {
    body = await readFile(asset.file);
    cache.set(path, body);
  }
  return { body, type: asset.type };
}

const escapeAttribute = (text: string): string => text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * The page: an import map (the one inline script, allowed by its nonce) so `hooks.mjs`'s bare
 * `preact` import resolves to our copy, and the per-run secret in a meta tag the app reads.
 */
export function pageHtml(options: { nonce: string; secret: string; title: string }): string {
  const importMap = JSON.stringify({ imports: { preact: '/assets/preact.mjs', 'preact/hooks': '/assets/hooks.mjs', htm: '/assets/htm.mjs' } });
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="mftg-hooks-secret" content="${escapeAttribute(options.secret)}">
<title>${escapeAttribute(options.title)}</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/style.css">
<script type="importmap" nonce="${escapeAttribute(options.nonce)}">${importMap}</script>
<script type="module" src="/assets/app.js"></script>
</head>
<body>
<div id="app"><p class="boot">Loading the inspector…</p></div>
<noscript>The mftg-hooks inspector needs JavaScript. The same data is at /api/events.</noscript>
</body>
</html>
`;
}
