import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MftgApiClientOptions } from '../../src/core/mftg-api/client.js';
import { RECONCILE_OVERLAP_MS, type ListenReconcileOptions } from '../../src/core/reconcile/scheduler.js';
import type { SessionElement, SessionOptions } from '../../src/core/session.js';
import { EventStore } from '../../src/core/store/store.js';
import { sourceOf } from '../../src/core/types.js';
import { sessionRecord } from '../../src/output/records.js';
import { post } from '../helpers/deliveries.js';
import { startMockMftgApi, type MockFault, type MockMftgApi } from '../helpers/mock-mftg-api.js';
import { startRecordingHandler, type RecordingHandler } from '../helpers/recording-handler.js';
import { startSession } from '../helpers/session.js';
import { tempDir, waitUntil } from '../helpers/temp.js';
import { HandTunnel } from '../ui/fixture.js';

type Reconcile = Extract<SessionElement, { type: 'reconcile' }>;
type Started = Awaited<ReturnType<typeof startSession>>;

/** The seed's received and failed messages older than 2 minutes: what a first run recovers. */
const SEEDED_MISSING = 4;

function reconcileOf(api: MockMftgApi, overrides: Partial<MftgApiClientOptions> = {}, intervalMs = 60 * 60_000): ListenReconcileOptions {
  return { api: { baseUrl: api.url, credentials: { username: api.username, password: api.password }, backoff: () => 1, ...overrides }, intervalMs };
}

const runs = (started: Started, state?: string): Reconcile[] => started.elements.filter((e): e is Reconcile => e.type === 'reconcile' && (state === undefined || e.summary.state === state));
const ended = (started: Started): Reconcile[] => runs(started).filter((e) => e.summary.state !== 'running');

async function setup(
  t: { after: (fn: () => Promise<void>) => void },
  options: { api?: MockMftgApi; session?: Partial<SessionOptions>; reconcile?: (api: MockMftgApi) => ListenReconcileOptions } = {},
) {
  const api = options.api ?? (await startMockMftgApi());
  const handler = await startRecordingHandler();
  const started = await startSession({ targets: { forwardTo: handler.url, routes: {} }, reconcile: (options.reconcile ?? reconcileOf)(api), ...options.session });
  t.after(async () => {
    await started.close();
    await handler.close();
    await api.close();
  });
  return { api, handler, started };
}

async function deliveryDuringFailure(started: Started, handler: RecordingHandler): Promise<void> {
  const body = Buffer.from('{"eventType":"MESSAGE.RECEIVED.SUCCESS","messageIdentifier":"<live-during-failure@x>"}');
  const before = handler.requests.length;
  assert.equal(await post(started.session.captureUrl, body), 200);
  const [forwarded] = (await handler.waitFor(before + 1)).slice(before);
  assert.ok(forwarded!.body.equals(body), 'forwarded byte for byte');
}

test('at start: messages missed while no listener ran are recovered, shown with source reconcile, forwarded once each', async (t) => {
  // Given MFTG holds messages that never reached this (empty) store
  const before = Date.now();
  const { api, handler, started } = await setup(t);

  // When the listener starts with credentials, Then a run reports running, then done with what it recovered
  const done = await waitUntil(() => runs(started, 'done')[0], 'the reconcile run');
  const first = runs(started)[0]!;
  assert.equal(first.summary.state, 'running');
  assert.equal(first.reason, 'start');
  assert.ok(started.elements.findIndex((e) => e.type === 'ready') < started.elements.indexOf(first), 'after ready');
  const record = sessionRecord(done) as Record<string, unknown>;
  assert.deepEqual(Object.keys(record).slice(0, 7), ['type', 'state', 'since', 'checked', 'alreadyCaptured', 'recovered', 'error']);
  assert.equal(record.state, 'done');
  assert.equal(record.reason, 'start');
  assert.equal(record.error, null);
  assert.deepEqual(record.checked, { received: 3, sent: 0, failed: 1 });
  // The default window of an empty store: 24 h back
  assert.ok(Date.parse(String(record.since)) <= before - 24 * 3_600_000 + 1_000);
  const recovered = record.recovered as string[];
  assert.equal(recovered.length, SEEDED_MISSING);

  // And each became an event with source reconcile, in --json too
  const events = started.elements.filter((e): e is Extract<SessionElement, { type: 'event' }> => e.type === 'event');
  assert.deepEqual(events.map((e) => e.event.id).sort(), [...recovered].sort());
  for (const e of events) {
    assert.equal(sourceOf(e.event), 'reconcile');
    assert.equal((sessionRecord(e) as Record<string, unknown>).source, 'reconcile');
  }
  // And each was forwarded once, with the stored bytes and the source header
  const requests = await handler.waitFor(SEEDED_MISSING);
  for (const id of recovered) {
    const { body } = await started.session.eventStore.getWithBody(id);
    const got = requests.filter((r) => r.body.equals(body));
    assert.equal(got.length, 1, `forwarded once: ${id}`);
    assert.equal(got[0]!.headers['x-mftg-hooks-source'], 'reconcile');
  }
  await waitUntil(async () => (await Promise.all(recovered.map(async (id) => (await started.session.getEvent(id)).attempts.length === 1))).every(Boolean), 'an attempt on each');
  // And it only looked: nothing was marked read in MFTG
  for (const message of api.messages.values()) assert.equal(api.isRead(message.as2MessageId), false);
  assert.equal(handler.requests.length, SEEDED_MISSING);
});

for (const [name, fault, reconcile] of [
  ['answers 500', { match: '/message', status: 500, times: Infinity }, undefined],
  ['hangs', { match: '/message', hang: true, times: Infinity }, (api: MockMftgApi) => reconcileOf(api, { timeoutMs: 300, maxTries: 1 })],
  ['refuses the credentials', null, (api: MockMftgApi) => ({ ...reconcileOf(api), api: { ...reconcileOf(api).api, credentials: { username: api.username, password: 'not-the-password' } } })],
] as Array<[string, MockFault | null, ((api: MockMftgApi) => ListenReconcileOptions) | undefined]>) {
  test(`an MFTG API that ${name}: capture and forwarding go on, and the run reports failed`, async (t) => {
    // Given the API fails
    const api = await startMockMftgApi();
    if (fault) api.inject(fault);
    const { handler, started } = await setup(t, { api, ...(reconcile ? { reconcile } : {}) });
    await waitUntil(() => runs(started, 'running')[0], 'the run started');
    if (fault?.hang) await waitUntil(() => api.log.some((r) => r.path.startsWith('/message') && r.status === null), 'a hanging request');

    // When a delivery arrives (while the run fails or hangs), Then it is acked and forwarded
    await deliveryDuringFailure(started, handler);

    // And the run ends failed, with the reason and never a credential
    const failed = await waitUntil(() => runs(started, 'failed')[0], 'the failed run');
    const record = sessionRecord(failed) as Record<string, unknown>;
    assert.equal(record.state, 'failed');
    assert.equal(typeof record.error, 'string');
    assert.deepEqual(record.recovered, []);
    if (!fault) assert.match(String(record.error), /refused the credentials/);
    const text = JSON.stringify(started.elements);
    assert.ok(!text.includes(api.password) && !text.includes('not-the-password'), 'no credential in any element');
    for (const token of api.tokensIssued) assert.ok(!text.includes(token));

    // And capture still works after it
    await deliveryDuringFailure(started, handler);
  });
}

test('after a tunnel outage a run happens, looking back to the last successful run minus the overlap', async (t) => {
  // Given a listener whose tunnel is online and whose start run is done
  const tunnel = new HandTunnel();
  const before = Date.now();
  const { api, handler, started } = await setup(t, { session: { createTunnel: () => tunnel } });
  tunnel.set({ state: 'online', publicUrl: 'https://quiet-otter-42.loca.lt', subdomain: 'quiet-otter-42' });
  await waitUntil(() => runs(started, 'done')[0], 'the start run');
  const afterFirst = Date.now();
  await handler.waitFor(SEEDED_MISSING);
  // A message that arrived in MFTG meanwhile (older than the 2 minutes left for its webhook)
  api.addMessage('received', {
    as2MessageId: '<during-outage@edi.initech.example>',
    senderAS2Id: '081466849',
    receiverAS2Id: 'ACME-AS2',
    subject: 'during outage',
    timestamp: Date.now() - 150_000,
    attachmentPaths: [],
  });
  // (online again without an outage is not one)
  tunnel.set({ state: 'online' });
  assert.equal(runs(started).length, 2);

  // When the tunnel drops and comes back
  tunnel.set({ state: 'reconnecting', attempt: 1, reason: 'socket hang up' });
  assert.equal(runs(started).length, 2, 'no run while it is down');
  tunnel.set({ state: 'online', attempt: 0, reason: null });

  // Then a run happens for it, over the window since the last success, and recovers the new message once
  const second = await waitUntil(() => runs(started, 'done')[1], 'the run after the outage');
  assert.equal(second.reason, 'tunnel');
  const since = Date.parse(second.summary.since);
  assert.ok(since >= before - RECONCILE_OVERLAP_MS && since <= afterFirst - RECONCILE_OVERLAP_MS, second.summary.since);
  const record = sessionRecord(second) as Record<string, unknown>;
  assert.equal((record.recovered as string[]).length, 1);
  assert.deepEqual(record.checked, { received: 1, sent: 0, failed: 0 }, 'only the narrowed window was listed');
  const [forwarded] = (await handler.waitFor(SEEDED_MISSING + 1)).slice(SEEDED_MISSING);
  assert.ok(forwarded!.body.toString().includes('<during-outage@edi.initech.example>'));
});

test('every interval a run happens, never two at once, and nothing is recovered twice', async (t) => {
  // Given a short interval and an API slow enough for triggers to pile up
  const api = await startMockMftgApi({ latencyMs: 20 });
  const { handler, started } = await setup(t, { api, reconcile: (a) => reconcileOf(a, {}, 30) });
  // When several intervals pass
  await waitUntil(() => runs(started, 'done').length >= 4, 'four runs', 15_000);
  // Then runs never overlapped: each start is followed by its end before the next start
  const states = runs(started).map((e) => e.summary.state);
  for (let i = 0; i < states.length; i++) assert.equal(states[i], i % 2 === 0 ? 'running' : 'done', states.join(','));
  assert.deepEqual(
    [
      ...new Set(
        runs(started)
          .slice(2)
          .map((e) => e.reason),
      ),
    ],
    ['interval'],
  );
  // And only the first recovered anything: each message was forwarded once
  assert.deepEqual(
    ended(started)
      .map((e) => e.summary.byType.received.recovered.length + e.summary.byType.failed.recovered.length)
      .slice(0, 4),
    [SEEDED_MISSING, 0, 0, 0],
  );
  assert.equal(handler.requests.length, SEEDED_MISSING);
  assert.ok(api.maxInFlight <= 4);
});

test('close() aborts a run in flight: nothing half stored, and the next listener recovers everything', async (t) => {
  // Given a run stuck on the failed-message listing (received ones already found)
  const dir = await tempDir();
  const api = await startMockMftgApi();
  api.inject({ match: '/message/outbox/failed', hang: true, times: 1 });
  const handler = await startRecordingHandler();
  const sessions: Started[] = [];
  t.after(async () => {
    for (const started of sessions) await started.close();
    await handler.close();
    await api.close();
    await dir.cleanup();
  });
  const first = await startSession({ storeDir: dir.path, targets: { forwardTo: handler.url, routes: {} }, reconcile: reconcileOf(api) });
  sessions.push(first);
  await waitUntil(() => api.log.some((r) => r.path === '/message/outbox/failed' && r.status === null), 'the hanging listing');

  // When the listener closes
  await first.session.close();

  // Then the run ended as stopped, nothing was ingested, and the store reads back whole
  const last = ended(first).at(-1)!;
  assert.equal(last.summary.state, 'failed');
  assert.match(String(last.summary.error), /shutting down/);
  assert.ok(first.elements.indexOf(last) < first.elements.findIndex((e) => e.type === 'delivery' && e.phase === 'stopped'), 'before the stopped element');
  assert.equal(first.elements.filter((e) => e.type === 'event').length, 0);
  const store = await EventStore.open(dir.path);
  const warnings: string[] = [];
  store.onWarning((w) => warnings.push(w));
  assert.equal((await store.readAll()).length, 0);
  await store.close();
  assert.deepEqual(warnings, []);
  assert.equal(handler.requests.length, 0);

  // When the next listener starts on the store (the API answers again), Then it recovers what was missed, once each
  const second = await startSession({ storeDir: dir.path, targets: { forwardTo: handler.url, routes: {} }, reconcile: reconcileOf(api) });
  sessions.push(second);
  const done = await waitUntil(() => runs(second, 'done')[0], 'the next run');
  assert.equal(done.summary.byType.received.recovered.length + done.summary.byType.failed.recovered.length, SEEDED_MISSING);
  assert.equal((await handler.waitFor(SEEDED_MISSING)).length, SEEDED_MISSING);
});
