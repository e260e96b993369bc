import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const CORE = fileURLToPath(new URL('../../../src/core/', import.meta.url));

async function sources(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await sources(path)));
    else if (/\.tsx?$/.test(entry.name)) found.push(path);
  }
  return found;
}

test('src/core is headless: no UI or CLI package, no printing, no process.exit', async () => {
  const files = await sources(CORE);
  assert.ok(files.length > 10, 'the core sources were found');
  for (const file of files) {
    const text = await readFile(file, 'utf8');
    assert.doesNotMatch(text, /from ['"](ink|react|chalk|commander)(\/[^'"]*)?['"]/, `${file} imports a UI or CLI package`);
    assert.doesNotMatch(text, /process\.exit\(|console\.(log|error|warn)\(/, `${file} prints or exits`);
  }
});
