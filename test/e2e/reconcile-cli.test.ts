import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { newId } from '../../src/core/ids.js';
import { toWebhookPayload } from '../../src/core/mftg-api/to-webhook.js';
import { summarize } from '../../src/core/mftg.js';
import { updateSettings } from '../../src/core/store/state-files.js';
import { EventStore } from '../../src/core/store/store.js';
import { runCli } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { seedBinary, startMockMftgApi, type MockMftgApi } from '../helpers/mock-mftg-api.js';
import { startRecordingHandler } from '../helpers/recording-handler.js';
import { tempDir } from '../helpers/temp.js';
import { closedPort } from '../helpers/tunnel-servers.js';

const PO_ID = '<OPENAS2-20240301101500-4821@ZZGLOBEXCORP_ACME-AS2>';

/** Every file under dir, as text (the store must never hold a credential). */
async function allFiles(dir: string): Promise<string> {
  let text = '';
  for (const name of await readdir(dir, { recursive: true })) {
    const path = join(dir, name);
    if ((await stat(path)).isFile()) text += await readFile(path, 'latin1');
  }
  return text;
}

function env(api: MockMftgApi, store: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { MFTG_HOOKS_HOME: store, MFTG_API_USERNAME: api.username, MFTG_API_PASSWORD: api.password, MFTG_API_TOKEN: '', MFTG_HOOKS_API_URL: api.url, ...extra };
}

test('reconcile --json: recovers the seeded messages into the store, forwards them, prints the record last; a second run recovers none', async (t) => {
  // Given the seeded mock (3 received, 1 sent, 1 failed, 5 to 180 min old), an empty store and a remembered handler
  const api = await startMockMftgApi();
  const handler = await startRecordingHandler();
  const home = await tempDir();
  t.after(async () => {
    await api.close();
    await handler.close();
    await home.cleanup();
  });
  await updateSettings(home.path, { forwardTo: handler.url, routes: {} });

  // When reconcile runs (default types received,failed; empty store → 24 h back)
  const result = await runCli(['reconcile', '--json'], { env: env(api, home.path) });

  // Then 3 received and 1 failed were recovered and forwarded, exit 0
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.toString().trim().split('\n');
  const record = JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
  assert.equal(record.type, 'reconcile');
  assert.equal(record.state, 'done');
  assert.deepEqual(record.checked, { received: 3, sent: 0, failed: 1 });
  assert.equal(record.alreadyCaptured, 0);
  assert.equal((record.recovered as string[]).length, 4);
  assert.equal(record.error, null);
  assert.equal(handler.requests.length, 4);

  // When it runs again, Then it recovers nothing (the runs after the first in the test process)
  const again = await runCliInProcess(['reconcile', '--json'], { env: env(api, home.path) });
  assert.equal(again.code, 0, again.stderr);
  const second = JSON.parse(again.stdout.toString().trim().split('\n').pop()!) as Record<string, unknown>;
  assert.deepEqual(second.recovered, []);
  assert.equal(second.alreadyCaptured, 4);
  assert.equal(handler.requests.length, 4);

  // And `events attachments --save` of the recovered PO saves its files byte for byte
  const store = await EventStore.open(home.path);
  const po = (await store.list({ limit: 10 })).find((e) => e.mftg?.messageId === PO_ID)!;
  await store.close();
  const files = join(home.path, 'saved');
  const saved = await runCliInProcess(['events', 'attachments', po.id.slice(0, 14), '--save', files], { env: env(api, home.path) });
  assert.equal(saved.code, 0, saved.stderr);
  assert.match(saved.stdout.toString(), /Attachment\.raw\s+4\.\d KiB\s+saved/);
  assert.ok((await readFile(join(files, 'Attachment.raw'))).equals(seedBinary()));
});

test('bad credentials: the clear error, exit 1, and the password nowhere (stdout, stderr, store)', async (t) => {
  // Given a store with a real delivery and a wrong password
  const api = await startMockMftgApi();
  const home = await tempDir();
  t.after(async () => {
    await api.close();
    await home.cleanup();
  });
  const store = await EventStore.open(home.path);
  await store.openForWriting();
  const { box, ...message } = api.messages.get(PO_ID)!;
  const body = Buffer.from(JSON.stringify(toWebhookPayload(message, box)));
  await store.appendEvent({ id: newId(), receivedAt: new Date().toISOString(), method: 'POST', path: '/', headers: [], remoteAddress: null, size: body.length, mftg: summarize(body) }, body);
  await store.close();
  const wrong = 'S3cret-wrong-Pa55word';

  // When reconcile and events attachments run with it
  // (the first as a real process, the others in the test process)
  for (const args of [['reconcile'], ['reconcile', '--json'], ['events', 'attachments', (await EventStore.open(home.path).then((s) => s.list({ limit: 1 })))[0]!.id]]) {
    const result = await (args.length === 1 ? runCli : runCliInProcess)(args, { env: env(api, home.path, { MFTG_API_PASSWORD: wrong }) });
    // Then each says MFTG refused the credentials, exits 1, and never shows the password
    assert.equal(result.code, 1, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, /MFTG refused the credentials in MFTG_API_USERNAME\/MFTG_API_PASSWORD/);
    assert.ok(!result.stderr.includes(wrong) && !result.stdout.toString().includes(wrong), args.join(' '));
  }
  assert.ok(!(await allFiles(home.path)).includes(wrong));
});

test('no credentials: exit 1 naming the variables to set; an unreachable API: exit 1 with the hint', async (t) => {
  const home = await tempDir();
  t.after(() => home.cleanup());
  const none = await runCliInProcess(['reconcile'], { env: { MFTG_HOOKS_HOME: home.path, MFTG_API_USERNAME: '', MFTG_API_PASSWORD: '', MFTG_API_TOKEN: '' } });
  assert.equal(none.code, 1);
  assert.match(none.stderr, /set MFTG_API_USERNAME and MFTG_API_PASSWORD .*or MFTG_API_TOKEN/);

  const port = await closedPort();
  const down = await runCliInProcess(['reconcile', '--json'], { env: { MFTG_HOOKS_HOME: home.path, MFTG_API_TOKEN: 'tok-123', MFTG_HOOKS_API_URL: `http://127.0.0.1:${port}` } });
  assert.equal(down.code, 1);
  assert.match(down.stderr, /cannot reach the MFTG API at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\).*check your network connection/);
  const record = JSON.parse(down.stdout.toString().trim().split('\n').pop()!) as Record<string, unknown>;
  assert.equal(record.state, 'failed');
  assert.ok(!down.stderr.includes('tok-123') && !down.stdout.toString().includes('tok-123'));

  const bad = await runCli(['reconcile', '--since', 'yesterday'], { env: { MFTG_HOOKS_HOME: home.path, MFTG_API_TOKEN: 'tok-123' } });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--since/);
});
