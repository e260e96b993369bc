import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MftgHooksError } from '../../src/core/errors.js';
import { ListenSession } from '../../src/core/session.js';
import { LOCK_FILE, LOCK_STALE_MS } from '../../src/core/store/lock.js';
import { startJsonListener } from '../helpers/cli.js';
import { tempDir, waitUntil } from '../helpers/temp.js';

function session(storeDir: string): ListenSession {
  return new ListenSession({
    storeDir,
    port: 0,
    bind: '127.0.0.1',
    token: 'lock-test-token-0123',
    maxBodyBytes: 1024,
    targets: { forwardTo: null, routes: {} },
    timeoutMs: 1_000,
    retries: 0,
    retryBackoffMs: 100,
    insecure: false,
  });
}

/** Starts two sessions on one store at the same moment; exactly one must run. */
async function raceTwo(storeDir: string): Promise<void> {
  const sessions = [session(storeDir), session(storeDir)];
  const results = await Promise.allSettled(sessions.map((s) => s.start()));
  try {
    const running = results.filter((r) => r.status === 'fulfilled');
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    assert.equal(running.length, 1, `exactly one listener runs: ${refused.map(String).join('; ')}`);
    assert.equal(refused.length, 1);
    assert.ok(refused[0] instanceof MftgHooksError);
    assert.equal(refused[0].code, 'E_STORE_BUSY');
    assert.match(refused[0].message, new RegExp(`another listener \\(pid ${process.pid}\\) is using the store`));
  } finally {
    await Promise.all(sessions.map((s) => s.close()));
  }
}

/** A lock file as a listener writes it, for a holder that is gone (or never was). */
async function writeLock(storeDir: string, fields: Record<string, unknown>, touchedAgoMs = 0): Promise<void> {
  const path = join(storeDir, LOCK_FILE);
  await writeFile(path, JSON.stringify({ nonce: 'left-behind', startedAt: new Date().toISOString(), hostname: hostname(), bootId: bootId(), processStart: null, ...fields }));
  const at = new Date(Date.now() - touchedAgoMs);
  await utimes(path, at, at);
}

function bootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return null;
  }
}

/** A pid that is no longer running: a child that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.on('close', resolve));
  return child.pid!;
}

test('two listeners started at the same moment, 20 times: exactly one runs, the other gets E_STORE_BUSY', async (t) => {
  for (let round = 0; round < 20; round++) {
    const dir = await tempDir();
    t.after(dir.cleanup);
    await raceTwo(dir.path);
  }
});

test('two listeners racing to take over the same stale lock, 20 times: exactly one runs', async (t) => {
  const pid = await deadPid();
  for (let round = 0; round < 20; round++) {
    const dir = await tempDir();
    t.after(dir.cleanup);
    await writeLock(dir.path, { pid });
    await raceTwo(dir.path);
  }
});

test('two listener processes started together: exactly one is ready, the other exits 1 with one clear line', { timeout: 60_000 }, async (t) => {
  for (let round = 0; round < 5; round++) {
    const dir = await tempDir();
    t.after(dir.cleanup);
    const listeners = [0, 1].map(() => startJsonListener(['--no-tunnel', '--port', '0', '--store', dir.path]));
    t.after(() => Promise.all(listeners.map((l) => l.stop('SIGKILL'))));
    // One of them exits; the other reports ready and keeps running
    const exitedFirst = await Promise.race(listeners.map((l, i) => l.exited.then(() => i)));
    const loser = listeners[exitedFirst]!;
    const winner = listeners[1 - exitedFirst]!;
    assert.equal(await loser.exited, 1);
    assert.match(loser.stderr(), /^mftg-hooks: another listener \(pid \d+\) is using the store .*\n$/);
    assert.equal(loser.stderr().trim().split('\n').length, 1);
    await winner.waitForRecord((r) => r.type === 'ready', 'ready');
    assert.equal(await winner.stop(), 0);
  }
});

test('a lock left by a SIGKILLed listener is taken over by the next one', { timeout: 30_000 }, async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  // Given a listener that is killed without a chance to clean up
  const first = startJsonListener(['--no-tunnel', '--port', '0', '--store', dir.path]);
  await first.waitForRecord((r) => r.type === 'ready', 'ready');
  const lock = JSON.parse(await readFile(join(dir.path, LOCK_FILE), 'utf8')) as { pid: number };
  assert.equal(lock.pid, first.child.pid);
  await first.stop('SIGKILL');
  // When the next one starts, then it runs
  const second = startJsonListener(['--no-tunnel', '--port', '0', '--store', dir.path]);
  t.after(() => second.stop('SIGKILL'));
  await second.waitForRecord((r) => r.type === 'ready', 'ready');
  const taken = JSON.parse(await readFile(join(dir.path, LOCK_FILE), 'utf8')) as { pid: number };
  assert.equal(taken.pid, second.child.pid);
  assert.equal(await second.stop(), 0);
  // And a clean stop leaves no lock behind
  await assert.rejects(readFile(join(dir.path, LOCK_FILE)), { code: 'ENOENT' });
});

test('a pid that is reused or unreaped, or a lock from another machine, does not block a restart for long', async (t) => {
  const linux = bootId() !== null;
  // A reused pid: pid 1 runs, but it started long before the lock was taken
  if (linux) {
    const reused = await tempDir();
    t.after(reused.cleanup);
    await writeLock(reused.path, { pid: 1, processStart: 1 });
    const s = session(reused.path);
    await s.start();
    await s.close();
  }
  // An unreaped pid: a zombie still has its pid, but it is not running
  if (linux) {
    const zombie = await tempDir();
    t.after(zombie.cleanup);
    // sh forks a short sleep and replaces itself with a sleep that never reaps it
    const parent = spawn('sh', ['-c', 'sleep 0.3 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    t.after(() => parent.kill('SIGKILL'));
    let out = '';
    parent.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const pid = await waitUntil(() => (/^\d+\n/.test(out) ? Number.parseInt(out, 10) : null), 'the child pid');
    await waitUntil(() => /\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')), 'the zombie');
    const start = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]);
    await writeLock(zombie.path, { pid, processStart: start });
    const s = session(zombie.path);
    await s.start();
    await s.close();
  }
  // Another machine (or a system without /proc): a live-looking pid counts only while the lock is kept fresh
  const remote = await tempDir();
  t.after(remote.cleanup);
  await writeLock(remote.path, { pid: process.pid, nonce: 'elsewhere', hostname: 'another-host', bootId: null });
  await assert.rejects(session(remote.path).start(), (error: unknown) => error instanceof MftgHooksError && error.code === 'E_STORE_BUSY' && /on another-host/.test(error.message));
  await writeLock(remote.path, { pid: process.pid, nonce: 'elsewhere', hostname: 'another-host', bootId: null }, LOCK_STALE_MS + 1_000);
  const s = session(remote.path);
  await s.start();
  await s.close();
});
