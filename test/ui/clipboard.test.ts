import assert from 'node:assert/strict';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { copyText, osc52, OSC52_MAX_BYTES } from '../../src/ui/clipboard.js';
import { tempDir } from '../helpers/temp.js';

test('a clipboard tool on the PATH gets the text (xclip under X11, wl-copy under Wayland)', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  for (const tool of ['xclip', 'wl-copy']) {
    await writeFile(join(dir.path, tool), `#!/bin/sh\n/bin/cat > "${join(dir.path, `${tool}.out`)}"\necho "$@" > "${join(dir.path, `${tool}.args`)}"\n`);
    await chmod(join(dir.path, tool), 0o755);
  }
  const text = "curl 'http://127.0.0.1:3000/hook' --data-raw '{\"a\":1}'";
  const x11 = await copyText(text, { env: { PATH: dir.path, DISPLAY: ':0' }, platform: 'linux', writeToTerminal: () => assert.fail('no OSC 52 when a tool worked') });
  assert.equal(x11.method, 'xclip');
  assert.equal(await readFile(join(dir.path, 'xclip.out'), 'utf8'), text);
  assert.equal((await readFile(join(dir.path, 'xclip.args'), 'utf8')).trim(), '-selection clipboard');
  const wayland = await copyText(text, { env: { PATH: dir.path, WAYLAND_DISPLAY: 'wayland-0', DISPLAY: ':0' }, platform: 'linux' });
  assert.equal(wayland.method, 'wl-copy');
});

test('without a tool: OSC 52 to the terminal, or nothing (and why) when it cannot work', async () => {
  let written = '';
  const result = await copyText('curl x', { env: { PATH: '' }, platform: 'linux', writeToTerminal: (data) => (written += data) });
  assert.equal(result.method, 'osc52');
  assert.equal(written, `\u001b]52;c;${Buffer.from('curl x').toString('base64')}\u0007`);
  assert.equal(written, osc52('curl x'));
  const noTerminal = await copyText('curl x', { env: { PATH: '' }, platform: 'linux', writeToTerminal: null });
  assert.equal(noTerminal.method, 'none');
  assert.match(noTerminal.reason ?? '', /no clipboard tool/);
  const huge = await copyText('x'.repeat(OSC52_MAX_BYTES + 1), { env: { PATH: '' }, platform: 'linux', writeToTerminal: () => assert.fail('too large for OSC 52') });
  assert.equal(huge.method, 'none');
  assert.match(huge.reason ?? '', /too large for OSC 52/);
});
