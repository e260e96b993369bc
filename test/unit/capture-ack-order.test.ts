import assert from 'node:assert/strict';
import { ServerResponse } from 'node:http';
import { test } from 'node:test';
import { CaptureServer } from '../../src/core/capture-server.js';

test('every request of one group commit is answered before any of its events is shown or forwarded, in arrival order', async (t) => {
  const log: string[] = [];
  // Every response this process sends in this test is the capture server's (fetch is a client).
  const end = ServerResponse.prototype.end;
  ServerResponse.prototype.end = function (this: ServerResponse, ...args: Parameters<typeof end>) {
    log.push(`ack ${this.req.url ?? ''}`);
    return end.apply(this, args);
  } as typeof end;
  t.after(() => {
    ServerResponse.prototype.end = end;
  });
  // Given a store that commits three events together (one group commit)
  const waiting: Array<() => void> = [];
  const server = new CaptureServer({
    port: 0,
    bind: '127.0.0.1',
    token: 'tok',
    maxBodyBytes: 1024,
    persist: () =>
      new Promise<void>((resolve) => {
        waiting.push(resolve);
        if (waiting.length === 3) for (const commit of waiting.splice(0)) commit();
      }),
    onCaptured: (event, body) => log.push(`captured ${event.path} ${body.toString()}`),
    onRejected: () => undefined,
  });
  const port = await server.listen();
  t.after(() => server.close());
  // When three deliveries arrive on three connections
  const statuses = await Promise.all(['a', 'b', 'c'].map(async (name) => (await fetch(`http://127.0.0.1:${port}/tok/${name}`, { method: 'POST', body: `{"n":"${name}"}` })).status));
  assert.deepEqual(statuses, [200, 200, 200]);
  // Then all three 200s were written before the first event reached the faces, which got them in order
  const acks = log.slice(0, 3);
  assert.deepEqual([...acks].sort(), ['ack /tok/a', 'ack /tok/b', 'ack /tok/c']);
  const order = acks.map((line) => line.slice('ack /tok'.length));
  assert.deepEqual(
    log.slice(3),
    order.map((path) => `captured ${path} {"n":"${path.slice(1)}"}`),
  );
});
