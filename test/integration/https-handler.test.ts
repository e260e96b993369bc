import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { allBytes } from '../fixtures/mftg-payloads.js';
import { startSession } from '../helpers/session.js';
import { waitUntil } from '../helpers/temp.js';

const fixture = (name: string): Promise<Buffer> => readFile(fileURLToPath(new URL(`../../../test/fixtures/${name}`, import.meta.url)));

/** An https handler with a self-signed certificate (test/fixtures/self-signed.*, valid for 100 years). */
async function startHttpsHandler(): Promise<{ url: string; bodies: Buffer[]; close: () => Promise<void> }> {
  const bodies: Buffer[] = [];
  const server = createServer({ key: await fixture('self-signed.key'), cert: await fixture('self-signed.crt') }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks));
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    bodies,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

test('an https handler with a self-signed certificate: refused by default, forwarded byte for byte with --insecure', async (t) => {
  const handler = await startHttpsHandler();
  t.after(handler.close);
  for (const insecure of [false, true]) {
    const { session, elements, close } = await startSession({ targets: { forwardTo: handler.url, routes: {} }, insecure });
    t.after(close);
    const ack = await fetch(session.captureUrl, { method: 'POST', body: allBytes });
    assert.equal(ack.status, 200, 'capture never depends on the handler');
    const attempt = await waitUntil(() => elements.find((e) => e.type === 'attempt'), 'an attempt');
    if (attempt.type !== 'attempt') throw new Error('unreachable');
    if (insecure) {
      assert.equal(attempt.attempt.status, 200);
      assert.ok(handler.bodies.at(-1)!.equals(allBytes), 'the exact bytes reached the https handler');
    } else {
      assert.equal(attempt.attempt.status, null);
      assert.match(String(attempt.attempt.error), /SELF_SIGNED|CERT/);
      assert.equal(handler.bodies.length, 0, 'nothing was delivered over an untrusted connection');
    }
  }
});
