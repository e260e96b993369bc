import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { chmod, mkdtemp, readdir, rm, stat, unlink } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { EventStore, SEGMENT_MAX_EVENTS } from '../../src/core/store/store.js';
import { startJsonListener, type JsonListener } from '../helpers/cli.js';
import { tempDir, waitUntil } from '../helpers/temp.js';

const isRoot = process.getuid?.() === 0;
const PAGE = 4096;

/** A small tmpfs of its own (root only), unmounted when the test ends. */
async function mountTmpfs(t: TestContext, options: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mftg-hooks-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `${options},mode=0700`, 'tmpfs', dir]);
  t.after(async () => {
    try {
      execFileSync('umount', [dir]);
    } catch {
      execFileSync('umount', ['-l', dir]);
    }
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Writes into `path` until the file system is full. */
function fillSpace(path: string): void {
  const fd = openSync(path, 'w');
  try {
    for (const size of [64 * 1024, PAGE, 1]) {
      const chunk = Buffer.alloc(size, 0x55);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** Creates empty files under `dir` until there are no inodes left; returns them. */
function fillInodes(dir: string): string[] {
  const made: string[] = [];
  for (;;) {
    const path = join(dir, `filler-${made.length}`);
    try {
      closeSync(openSync(path, 'wx'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      return made;
    }
    made.push(path);
  }
}

async function post(url: string, seq: number, body: string): Promise<number> {
  const response = await fetch(url, { method: 'POST', headers: { 'x-seq': String(seq).padStart(6, '0'), 'content-type': 'text/plain' }, body });
  await response.arrayBuffer();
  return response.status;
}

/** Idle client connections that never send a byte; what each one receives is kept. */
async function idleClients(port: number, count: number): Promise<{ received: () => number; close: () => void }> {
  const sockets: Socket[] = [];
  let received = 0;
  for (let i = 0; i < count; i++) {
    const socket = connect(port, '127.0.0.1');
    socket.on('data', (chunk: Buffer) => (received += chunk.length));
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    sockets.push(socket);
  }
  return { received: () => received, close: () => sockets.forEach((socket) => socket.destroy()) };
}

interface Exhaustion {
  /** Where the store lives. */
  storeDir: string;
  /** Makes creating the next segment fail (the disk full, no inodes…). */
  exhaust: () => Promise<void>;
  /** Gives the room back. */
  recover: () => Promise<void>;
}

/**
 * Given a listener (a real `listen` process: every descriptor in it is the store's or a server
 * socket) whose segment is one event short of full, when the store runs out of room exactly at the
 * roll: the event that fills the segment is stored and acknowledged, every later one gets 503, no
 * byte goes to any other socket, and deliveries are stored again once room is back.
 */
async function rollFailsEndToEnd(fault: Exhaustion, fillUp: (url: string) => Promise<number>): Promise<void> {
  const listener = startJsonListener(['--no-tunnel', '--port', '0', '--keep', '1000000', '--store', fault.storeDir, '--token', 'disk-full-token-0123']);
  // Stopped here, not in t.after: those run in order, after the file system is unmounted.
  const cleanups: Array<() => unknown> = [() => listener.stop()];
  let failure: unknown = null;
  try {
    await rollFailsWhileRunning(listener, fault, fillUp, cleanups);
  } catch (error) {
    failure = error;
  }
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (error) {
      failure ??= error;
    }
  }
  if (failure) throw failure;
}

async function rollFailsWhileRunning(listener: JsonListener, fault: Exhaustion, fillUp: (url: string) => Promise<number>, cleanups: Array<() => unknown>): Promise<void> {
  const ready = await listener.waitForRecord((r) => r.type === 'ready', 'ready');
  const url = String(ready.localUrl);
  const port = Number(new URL(url).port);
  const acked = new Set<number>();
  const warnings = (): string[] => listener.records.flatMap((r) => (r.type === 'warning' ? [String(r.message)] : []));

  // Given a segment one event short of full
  const sent = await fillUp(url);
  for (let seq = 0; seq < sent; seq++) acked.add(seq);
  assert.equal(sent, SEGMENT_MAX_EVENTS - 1);
  // When the store runs out of room, and the event that fills the segment arrives
  await fault.exhaust();
  assert.equal(await post(url, sent, 'the last one that fits'), 200);
  acked.add(sent);
  await listener.waitForRecord((r) => r.type === 'warning' && /new segment/.test(String(r.message)), 'the failed roll warning');
  // Then with connections accepted after the failed roll (they get the lowest free descriptors)
  const idle = await idleClients(port, 4);
  cleanups.push(idle.close);
  // every further delivery is refused with 503, and none of its bytes reach anything but the store
  for (let seq = sent + 1; seq <= sent + 5; seq++) assert.equal(await post(url, seq, `refused ${seq}`), 503);
  const rejected = await waitUntil(() => {
    const count = listener.records.filter((r) => r.type === 'rejected' && r.reason === 'store-failed').length;
    return count >= 5 ? count : null;
  }, 'the rejected records');
  assert.equal(rejected, 5);
  assert.equal(idle.received(), 0, 'no byte was written to another socket');
  // When room comes back
  await fault.recover();
  for (let seq = sent + 6; seq <= sent + 8; seq++) {
    assert.equal(await post(url, seq, `after recovery ${seq}`), 200);
    acked.add(seq);
  }
  // Then exactly the acknowledged deliveries are stored, the new ones in a new segment
  const reader = await EventStore.open(fault.storeDir);
  const stored = (await reader.list({ limit: 10_000 })).map((e) => Number(e.headers.find(([name]) => name === 'x-seq')![1]));
  assert.equal(stored.length, acked.size, 'each acknowledged delivery is stored once');
  assert.deepEqual(
    stored.sort((a, b) => a - b),
    [...acked].sort((a, b) => a - b),
  );
  const segments = (await readdir(join(fault.storeDir, 'events'))).filter((name) => name.endsWith('.seg')).sort();
  assert.deepEqual(segments, ['00000001.seg', '00000002.seg']);
  await listener.waitForRecord((r) => r.type === 'warning' && /can write again/.test(String(r.message)), 'the recovery warning');
  assert.ok(!warnings().some((m) => /EBADF/.test(m)), warnings().join('\n'));
  assert.equal(idle.received(), 0, 'no byte was written to another socket');
  // And the listener stops cleanly
  assert.equal(await listener.stop(), 0);
}

/** Sends SEGMENT_MAX_EVENTS - 1 events, `concurrency` at a time; the bodies come from `bodyOf`. */
async function sendMany(url: string, bodyOf: (seq: number) => string, concurrency = 16): Promise<number> {
  const total = SEGMENT_MAX_EVENTS - 1;
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const seq = next++;
        assert.equal(await post(url, seq, bodyOf(seq)), 200);
      }
    }),
  );
  return total;
}

test('disk full exactly at the segment roll: 503 until a segment can be opened, nothing written to other sockets, then recovery', async (t) => {
  if (!isRoot) {
    // Without root there is no tmpfs to fill: a segments directory that refuses new files fails the roll at the same point.
    const dir = await tempDir();
    t.after(dir.cleanup);
    const events = join(dir.path, 'events');
    await rollFailsEndToEnd({ storeDir: dir.path, exhaust: () => chmod(events, 0o500), recover: () => chmod(events, 0o700) }, (url) => sendMany(url, () => 'x'.repeat(100)));
    return;
  }
  const mount = await mountTmpfs(t, 'size=4m,nr_inodes=4096');
  const storeDir = join(mount, 'store');
  const segment = join(storeDir, 'events', '00000001.seg');
  const filler = join(mount, 'filler');
  const fillUp = async (url: string): Promise<number> => {
    // 998 events of one size, then one sized so that the segment ends early in a page: the event
    // that fills the segment then fits in that page, and the roll is the first thing that needs room.
    const body = (length: number) => 'x'.repeat(length);
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < SEGMENT_MAX_EVENTS - 3) {
          const seq = next++;
          assert.equal(await post(url, seq, body(1500)), 200);
        }
      }),
    );
    const before = (await stat(segment)).size;
    assert.equal(await post(url, SEGMENT_MAX_EVENTS - 3, body(1500)), 200);
    const size = (await stat(segment)).size;
    const frame = size - before;
    const length = 1500 + ((((512 - size - frame) % PAGE) + PAGE) % PAGE);
    assert.equal(await post(url, SEGMENT_MAX_EVENTS - 2, body(length)), 200);
    assert.equal((await stat(segment)).size % PAGE, 512);
    return SEGMENT_MAX_EVENTS - 1;
  };
  await rollFailsEndToEnd({ storeDir, exhaust: async () => fillSpace(filler), recover: () => unlink(filler) }, fillUp);
});

test('no inodes left exactly at the segment roll: 503 until a segment can be opened, nothing written to other sockets, then recovery', async (t) => {
  if (!isRoot) {
    const dir = await tempDir();
    t.after(dir.cleanup);
    const events = join(dir.path, 'events');
    await rollFailsEndToEnd({ storeDir: dir.path, exhaust: () => chmod(events, 0o500), recover: () => chmod(events, 0o700) }, (url) => sendMany(url, () => 'y'.repeat(50)));
    return;
  }
  const mount = await mountTmpfs(t, 'size=16m,nr_inodes=64');
  let fillers: string[] = [];
  await rollFailsEndToEnd(
    {
      storeDir: join(mount, 'store'),
      exhaust: async () => {
        fillers = fillInodes(mount);
        assert.ok(fillers.length > 0);
      },
      recover: async () => {
        for (const path of fillers) await unlink(path);
      },
    },
    (url) => sendMany(url, (seq) => `event ${seq}`),
  );
});
