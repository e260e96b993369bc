import assert from 'node:assert/strict';
import { chmod, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { EventStore } from '../../src/core/store/store.js';
import { runCli, startJsonListener } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { tempDir } from '../helpers/temp.js';

const isRoot = process.getuid?.() === 0;
/** A store path that cannot be created ends at once; a hang fails here instead of blocking the suite. */
const QUICK = { timeoutMs: 10_000 };

/** One line on stderr saying why, and exit code 1. */
function assertCannotCreate(result: { code: number | null; stderr: string }, dir: string, reason: RegExp): void {
  assert.equal(result.code, 1, result.stderr);
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, result.stderr);
  assert.ok(lines[0]!.startsWith(`mftg-hooks: cannot create the store ${dir}: `), lines[0]);
  assert.match(lines[0]!, reason);
}

test('a store path under /proc is one clear line and exit 1, for listen and events list (no endless mkdir)', { timeout: 60_000 }, async () => {
  for (const args of [
    ['listen', '--no-tunnel', '--port', '0'],
    ['events', 'list'],
  ]) {
    const result = await runCli([...args, '--store', '/proc/nope'], QUICK);
    assertCannotCreate(result, '/proc/nope', /ENOENT/);
    const nested = await runCli([...args, '--store', '/proc/nope/deeper/store'], QUICK);
    assertCannotCreate(nested, '/proc/nope/deeper/store', /ENOENT/);
  }
});

test('a store path that is a file, or lies under one, or is not permitted, is one clear line and exit 1', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const file = join(dir.path, 'a-file');
  await writeFile(file, 'x');
  for (const args of [
    ['listen', '--no-tunnel', '--port', '0'],
    ['events', 'list'],
  ]) {
    // (the /proc test above runs real processes; these run in the test process)
    assertCannotCreate(await runCliInProcess([...args, '--store', file]), file, /a file is in the way \(ENOTDIR\)/);
    assertCannotCreate(await runCliInProcess([...args, '--store', join(file, 'store')]), join(file, 'store'), /a file is in the way \(ENOTDIR/);
  }
  // No permission: a directory only root may write, for a user who is not root
  const locked = join(dir.path, 'locked');
  await mkdir(locked, { mode: 0o755 });
  if (isRoot) {
    const { spawn } = await import('node:child_process');
    const { BIN } = await import('../helpers/cli.js');
    // Root passes every permission check; without the capability that lets it (setpriv, util-linux)
    // the directory's mode applies to it as to anyone, and the checkout it runs from stays readable.
    await chmod(locked, 0o555);
    for (const args of [
      ['listen', '--no-tunnel', '--port', '0'],
      ['events', 'list'],
    ]) {
      const child = spawn('setpriv', ['--bounding-set=-dac_override,-dac_read_search', process.execPath, BIN, ...args, '--store', join(locked, 'store')], { env: { ...process.env, NO_COLOR: '1' } });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.stdin.end();
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      assertCannotCreate({ code, stderr }, join(locked, 'store'), /permission denied \(EACCES/);
    }
  } else {
    await chmod(locked, 0o500);
    assertCannotCreate(await runCliInProcess(['events', 'list', '--store', join(locked, 'store')]), join(locked, 'store'), /permission denied/);
  }
});

test('a store directory other users can read is made private, with a warning', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  // Given a store created open to everyone, its events directory too
  const store = join(dir.path, 'store');
  await mkdir(join(store, 'events'), { recursive: true });
  await chmod(store, 0o777);
  await chmod(join(store, 'events'), 0o755);
  // When events list opens it
  const listed = await runCliInProcess(['events', 'list', '--store', store]);
  // Then both are 0700 and stderr says so
  assert.equal(listed.code, 0, listed.stderr);
  assert.equal((await stat(store)).mode & 0o777, 0o700);
  assert.equal((await stat(join(store, 'events'))).mode & 0o777, 0o700);
  assert.match(listed.stderr, /warning: .*store was readable by other users \(mode 0777\): changed to 0700/);
  assert.match(listed.stderr, /warning: .*events was readable by other users \(mode 0755\): changed to 0700/);
  // And a listener says so too, as a warning record
  await chmod(store, 0o750);
  const listener = startJsonListener(['--no-tunnel', '--port', '0', '--store', store]);
  t.after(() => listener.stop('SIGKILL'));
  await listener.waitForRecord((r) => r.type === 'warning' && /readable by other users \(mode 0750\)/.test(String(r.message)), 'the warning record');
  assert.equal((await stat(store)).mode & 0o777, 0o700);
  assert.equal(await listener.stop(), 0);
});

test('a directory where a segment should be, and a damaged listener.json, are warnings, not crashes', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  // Given a store with two events, a directory named like the next segment, and a listener.json
  // of a live process whose capture URL is not a URL
  const writer = await EventStore.open(dir.path);
  await writer.openForWriting();
  const event = (n: number) => ({
    id: `01aaaaaaaa000${n}`,
    receivedAt: new Date().toISOString(),
    method: 'POST',
    path: '/',
    headers: [['content-type', 'text/plain']] as Array<[string, string]>,
    remoteAddress: '127.0.0.1',
    size: 3,
    mftg: null,
  });
  await writer.appendEvent(event(1), Buffer.from('one'));
  await writer.appendEvent(event(2), Buffer.from('two'));
  await writer.close();
  await mkdir(join(dir.path, 'events', '00000003.seg'));
  await writeFile(join(dir.path, 'listener.json'), JSON.stringify({ pid: process.pid, startedAt: 'x', captureUrl: 'not a url', publicUrl: null, forwardTo: null, routes: {} }));
  const env = { MFTG_HOOKS_HOME: dir.path };
  // When events list, events export and listen run, then each works and warns
  const listed = await runCliInProcess(['events', 'list', '--json'], { env });
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(
    listed.stdout
      .toString()
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { id: string }).id),
    ['01aaaaaaaa0001', '01aaaaaaaa0002'],
  );
  assert.match(listed.stderr, /warning: ignored events\/00000003\.seg: not a regular file/);
  assert.doesNotMatch(listed.stderr, /unexpected error/);
  for (const format of ['json', 'curl', 'har']) {
    const exported = await runCliInProcess(['events', 'export', '--all', '--format', format], { env });
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stdout.toString(), /01aaaaaaaa0002|two/);
    assert.match(exported.stderr, /warning: ignored .*listener\.json: it is damaged/);
    assert.match(exported.stderr, /warning: ignored events\/00000003\.seg: not a regular file/);
  }
  const listener = startJsonListener(['--no-tunnel', '--port', '0'], env);
  t.after(() => listener.stop('SIGKILL'));
  const ready = await listener.waitForRecord((r) => r.type === 'ready', 'ready');
  await listener.waitForRecord((r) => r.type === 'warning' && /00000003\.seg: not a regular file/.test(String(r.message)), 'the warning record');
  const response = await fetch(String(ready.localUrl), { method: 'POST', body: 'three' });
  assert.equal(response.status, 200);
  assert.equal(await listener.stop(), 0);
  // And the new event went into a segment above the directory
  assert.deepEqual((await readdir(join(dir.path, 'events'))).filter((name) => name.endsWith('.seg')).sort(), ['00000001.seg', '00000003.seg', '00000004.seg']);
  const after = await runCliInProcess(['events', 'list', '--json'], { env });
  assert.equal(after.stdout.toString().trim().split('\n').length, 3);
});
