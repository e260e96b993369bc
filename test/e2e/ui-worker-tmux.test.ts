import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { receivedBoth } from '../fixtures/mftg-payloads.js';
import { BIN } from '../helpers/cli.js';
import { UI_PACKAGES, writeLoadHooks } from '../helpers/load-log.js';
import { hasTmux, tmuxTestSetup } from '../helpers/tmux.js';
import { waitUntil } from '../helpers/temp.js';
import { post } from '../ui/post.js';

test('the live UI draws from its worker: keys and resizes reach it, q gives the terminal back, the listener thread never loads Ink', { skip: !hasTmux() && 'tmux is not installed' }, async (t) => {
  const { home, handler, term } = await tmuxTestSetup(t);
  const tmux = term.cmd;
  let last = '';
  const waitForScreen = async (check: (screen: string) => boolean, what: string): Promise<string> => (last = (await term.waitForScreen(check, what)).screen);
  const register = await writeLoadHooks(home.path, { mainThreadOnly: true });
  const loadLog = join(home.path, 'loads.log');
  const exitFile = join(home.path, 'exit-code');
  const sttyFile = join(home.path, 'stty');

  // Given the built CLI in a 100×30 terminal, its main thread's module loads logged
  const command = `env CI=false NO_COLOR=1 MFTG_LOAD_LOG='${loadLog}' MFTG_HOOKS_HOME='${home.path}' '${process.execPath}' --import '${register}' '${BIN}' listen --no-tunnel --forward-to '${handler.url}'; echo $? > '${exitFile}'; stty -a > '${sttyFile}'; sleep 60`;
  await tmux('new-session', '-d', '-s', 'ui', '-x', '100', '-y', '30', command);
  const listener = await waitUntil(async () => JSON.parse(await readFile(join(home.path, 'listener.json'), 'utf8').catch(() => 'null')) as { captureUrl: string } | null, 'the listener');
  await waitForScreen((s) => s.includes(listener.captureUrl), 'the capture URL on screen');
  assert.equal((await tmux('display', '-p', '-t', 'ui', '#{alternate_on}')).trim(), '1', 'on the alternate screen');

  // When an event arrives, it shows with the handler's answer
  assert.equal(await post(listener.captureUrl, Buffer.from(JSON.stringify(receivedBoth))), 200);
  await waitForScreen((s) => s.includes('MESSAGE.RECEIVED.SUCCESS') && s.includes('200 · '), 'the event row');

  // When keys are typed, the worker's UI answers them: ? opens the help, Escape closes it
  await tmux('send-keys', '-t', 'ui', '?');
  await waitForScreen((s) => s.includes('mftg-hooks live view — keys'), 'the help');
  await tmux('send-keys', '-t', 'ui', 'Escape');
  await waitForScreen((s) => s.includes('PARTNER → STATION'), 'the list again');

  // When the terminal shrinks, the frame is drawn again for its new width
  assert.ok(last.includes('no public URL (--no-tunnel): capturing on this machine only'), last);
  await tmux('resize-window', '-t', 'ui', '-x', '60', '-y', '20');
  const narrow = await waitForScreen((s) => s.includes('no public URL (--no-tunnel)') && !s.includes('capturing on this machine only'), 'the narrow header');
  const lines = narrow.split('\n').filter((line) => line.trim() !== '');
  assert.ok(
    lines.every((line) => [...line].length <= 60),
    narrow,
  );

  // When q is pressed, the process exits 0 and the terminal is as it was: main screen, cursor, cooked mode
  await tmux('send-keys', '-t', 'ui', 'q');
  const code = await waitUntil(async () => (await readFile(exitFile, 'utf8').catch(() => '')).trim(), 'the exit code');
  assert.equal(code, '0');
  await waitForScreen((s) => s.replace(/\s+/g, '').includes('captured1event('), 'the exit line');
  assert.equal((await tmux('display', '-p', '-t', 'ui', '#{alternate_on}')).trim(), '0', 'the alternate screen is left');
  assert.equal((await tmux('display', '-p', '-t', 'ui', '#{cursor_flag}')).trim(), '1', 'the cursor is shown');
  const stty = await waitUntil(() => readFile(sttyFile, 'utf8').catch(() => ''), 'stty');
  assert.match(stty, /(^|\s)icanon(\s|$)/, 'canonical mode again');
  assert.match(stty, /(^|\s)echo(\s|$)/, 'echo again');

  // And the listener's thread loaded no UI package: Ink and React ran in the worker only
  const loads = (await readFile(loadLog, 'utf8').catch(() => '')).split('\n').filter(Boolean);
  assert.ok(
    loads.some((url) => url.includes('/node_modules/undici/')),
    'the hook logged the main thread',
  );
  const ui = loads.filter((url) => UI_PACKAGES.test(url));
  assert.deepEqual(ui, [], `the listener's thread loaded ${ui.length} UI modules: ${ui.slice(0, 3).join(', ')}…`);
});
