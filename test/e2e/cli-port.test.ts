import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { test } from 'node:test';
import { startJsonListener } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

const portOf = (record: Record<string, unknown>): number => Number(new URL(String(record.localUrl)).port);

test('the capture port is remembered: the same across runs, a free one (said so) when it was taken, -p 0 a free one', async (t) => {
  const dir = await tempDir();
  let blocker: Server | null = null;
  t.after(async () => {
    blocker?.close();
    await dir.cleanup();
  });
  const env = { MFTG_HOOKS_HOME: dir.path };
  const run = async (args: string[] = []): Promise<{ port: number; stderr: string }> => {
    const listener = startJsonListener(['--no-tunnel', ...args], env);
    t.after(() => listener.stop('SIGKILL'));
    const ready = await listener.waitForRecord((r) => r.type === 'ready', 'ready');
    assert.equal(await listener.stop('SIGTERM'), 0);
    return { port: portOf(ready), stderr: listener.stderr() };
  };
  // Given a first run on a free port
  const first = await run();
  assert.ok(first.port > 0);
  // When listen starts again without --port
  const second = await run();
  // Then it captures on the same port, without a word about it
  assert.equal(second.port, first.port);
  assert.equal(second.stderr, '');
  // When something else took that port
  blocker = createServer();
  await new Promise<void>((resolve) => blocker!.listen(first.port, '127.0.0.1', resolve));
  const third = await run();
  // Then a free one is used, and one line says why
  assert.notEqual(third.port, first.port);
  assert.equal(third.stderr, `mftg-hooks: port ${first.port} (the last run's) is in use: capturing on a free port instead (--port picks one)\n`);
  blocker.close();
  blocker = null;
  // And the new port is the one remembered next
  assert.equal((await run()).port, third.port);
  // -p 0 still picks a free one
  const free = await run(['-p', '0']);
  assert.ok(free.port > 0);
});
