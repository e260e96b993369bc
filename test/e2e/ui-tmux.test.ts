import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { EventStore } from '../../src/core/store/store.js';
import { receivedBoth, sentModern } from '../fixtures/mftg-payloads.js';
import { BIN } from '../helpers/cli.js';
import { post } from '../ui/post.js';
import { waitUntil } from '../helpers/temp.js';
import { hasTmux, tmuxTestSetup } from '../helpers/tmux.js';

const selectedLine = (screen: string): string => screen.split('\n').find((line) => line.startsWith('›')) ?? '';

test('the live UI in a real terminal: URL, a delivered event, r replays, a 2,000-event burst, q exits 0', { skip: !hasTmux() && 'tmux is not installed' }, async (t) => {
  const { home, handler, term } = await tmuxTestSetup(t);
  const exitFile = join(home.path, 'exit-code');
  // Given the built CLI in a 100×30 terminal (CI=false: Ink draws nothing until exit under CI=true)
  const command = `env CI=false NO_COLOR=1 MFTG_HOOKS_HOME='${home.path}' '${process.execPath}' '${BIN}' listen --no-tunnel --forward-to '${handler.url}'; echo $? > '${exitFile}'; sleep 60`;
  await term.cmd('new-session', '-d', '-s', 'ui', '-x', '100', '-y', '30', command);
  const listener = await waitUntil(async () => JSON.parse(await readFile(join(home.path, 'listener.json'), 'utf8').catch(() => 'null')) as { captureUrl: string } | null, 'the listener');
  const first = await term.waitForScreen((s) => s.includes(listener.captureUrl), 'the capture URL on screen');
  assert.ok(first.screen.includes('no public URL (--no-tunnel)'), first.screen);
  assert.ok(first.screen.includes(`forward → ${handler.url}`), first.screen);

  // When an MFTG event is delivered, it shows with the handler's answer
  assert.equal(await post(listener.captureUrl, Buffer.from(JSON.stringify(receivedBoth))), 200);
  await handler.waitFor(1);
  await term.waitForScreen((s) => selectedLine(s).includes('MESSAGE.RECEIVED.SUCCESS') && selectedLine(s).includes('200 · '), 'the event row');

  // When r is pressed, a new attempt reaches the handler and shows on screen
  const keyAt = Date.now();
  await term.keys('r');
  const replayed = await term.waitForScreen((s) => selectedLine(s).includes('↻ 200 · '), 'the replay on screen');
  await handler.waitFor(2);
  assert.deepEqual(handler.requests[1]!.body, handler.requests[0]!.body);
  t.diagnostic(`r → replay result on screen: ${Date.now() - keyAt} ms (${replayed.ms} ms of polling)`);

  // When 2,000 deliveries arrive in a burst, a key pressed in the middle of it is still answered
  const burst = 2_000;
  const body = Buffer.from(JSON.stringify(sentModern));
  let sent = 0;
  let helpMs = -1;
  const started = Date.now();
  const worker = async (): Promise<void> => {
    while (sent < burst) {
      sent++;
      if (sent === burst / 2) {
        const pressed = Date.now();
        void term.keys('?').then(() => term.waitForScreen((s) => s.includes('mftg-hooks live view — keys'), 'help during the burst').then(() => (helpMs = Date.now() - pressed)));
      }
      assert.equal(await post(listener.captureUrl, body), 200);
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  const burstMs = Date.now() - started;
  await waitUntil(() => helpMs >= 0, 'the help screen during the burst', 15_000);
  t.diagnostic(`burst: ${burst} deliveries in ${burstMs} ms (${Math.round((burst / burstMs) * 1000)}/s); ? answered on screen in ${helpMs} ms mid-burst`);

  // Then every delivery is in the store…
  const store = await EventStore.open(home.path);
  const stored = await waitUntil(async () => {
    const events = await store.list({ limit: burst + 10 });
    return events.length === burst + 1 ? events : null;
  }, 'every event stored');
  assert.equal(stored.length, burst + 1);
  // …the header counts them, and keys are still answered at once
  await term.keys('Escape');
  await term.waitForScreen((s) => s.includes(`captured ${burst + 1}`) && s.includes('PARTNER → STATION'), 'the count after the burst', { timeoutMs: 15_000 });
  const moveAt = Date.now();
  await term.keys('k');
  const moved = await term.waitForScreen((s) => s.includes('HELD') && s.includes('1 newer ↓'), 'k answered after the burst');
  t.diagnostic(`k answered on screen in ${Date.now() - moveAt} ms after the burst (${moved.ms} ms polling)`);

  // When q is pressed (once every forward is answered: with events waiting, q asks first), the process exits 0
  await handler.waitFor(burst + 2, 30_000);
  // The handler has answered; the screen says so once the last attempts are recorded and drawn
  await term.waitForScreen((s) => /\bwaiting 0\b/.test(s) && s.includes(`${burst + 2} ok`), 'no event waiting on screen', { timeoutMs: 15_000 });
  await term.keys('q');
  const code = await waitUntil(async () => (await readFile(exitFile, 'utf8').catch(() => '')).trim(), 'the exit code');
  assert.equal(code, '0');
  // …and leaves one line behind: what was captured, what the handler answered (the replay included)
  // tmux drops the space at a wrapped line's end: compare without white space.
  const exitLine = new RegExp(`captured${burst + 1}events\\(\\d+forwardedok,0failed,0waiting\\);${burst + 2}handlerattempts\\(${burst + 2}ok,0failed:forwards,retriesandreplays\\)`);
  await term.waitForScreen((s) => exitLine.test(s.replace(/\s+/g, '')), 'the exit line');
  await store.close();
});
