import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newCapturedEvent } from '../../src/core/events.js';
import { newId } from '../../src/core/ids.js';
import { MftgApiClient, type MftgApiClientOptions } from '../../src/core/mftg-api/client.js';
import { toWebhookPayload } from '../../src/core/mftg-api/to-webhook.js';
import type { MessageType } from '../../src/core/mftg-api/types.js';
import { summarize } from '../../src/core/mftg.js';
import { reconcileRecord } from '../../src/core/reconcile/summary-text.js';
import { defaultSince, Reconciler, type ReconcileOptions, type ReconcileProgress, type ReconcileSink } from '../../src/core/reconcile/reconciler.js';
import { IngestSink, ListenerSink } from '../../src/core/reconcile/sinks.js';
import { openStoredEvents, StoreIngest } from '../../src/core/standalone-ingest.js';
import { updateSettings } from '../../src/core/store/state-files.js';
import { EventStore } from '../../src/core/store/store.js';
import type { CapturedEvent } from '../../src/core/types.js';
import { post } from '../helpers/deliveries.js';
import { startMockMftgApi, type MockMftgApi, type MockMessage } from '../helpers/mock-mftg-api.js';
import { startRecordingHandler, type RecordingHandler } from '../helpers/recording-handler.js';
import { startSession } from '../helpers/session.js';
import { tempDir, waitUntil } from '../helpers/temp.js';

const MINUTE = 60_000;
/** What a real MFTG delivery of station ACME-AS2 carries beyond the API's fields. */
const REAL_FIELDS = { to: 'edi@acmecorp.example', stationName: 'Acme Corp', bucketName: 'mftg-acmecorp', tenantName: 'acmecorp', tenantId: 708289069406346, tenantEmail: 'edi@acmecorp.example' };
const MFTG_USER_AGENT = 'Apache-HttpClient/4.5.13 (Java/17.0.7)';

type Box = 'received' | 'failed';
interface Window {
  api: MockMftgApi;
  messages: Array<{ box: Box; message: MockMessage }>;
  /** The 20 of them MFTG's webhook delivered. */
  delivered: Array<{ box: Box; message: MockMessage }>;
  missing: Array<{ box: Box; message: MockMessage }>;
}

/** 30 received and 5 failed messages, 3 to 37 minutes old; 18 received and 2 failed were delivered. */
async function window(now: number): Promise<Window> {
  const api = await startMockMftgApi({ seed: false });
  const messages: Window['messages'] = [];
  for (let i = 0; i < 35; i++) {
    const box: Box = i % 7 === 6 ? 'failed' : 'received';
    const timestamp = now - (3 + i) * MINUTE;
    const message =
      box === 'received'
        ? api.addMessage('received', {
            as2MessageId: `<${1_709_280_000 + i}.${1187 + i}.${timestamp}@edi.initech.example>`,
            senderAS2Id: '081466849',
            receiverAS2Id: 'ACME-AS2',
            subject: `ORDERS PO7788${i}`,
            timestamp,
            attachmentPaths: [`AS2/files/ACME-AS2/081466849/inbox/${timestamp}-0/ORDERS_D96A_PO7788${i}.edi`],
          })
        : api.addMessage('failed', {
            as2MessageId: `<72078410939${i}.as2@mftgateway.com>`,
            senderAS2Id: 'ACME-AS2',
            receiverAS2Id: 'TEST_CON',
            subject: 'TEST',
            failures: 2,
            transportStatusReceived: 422,
            timestamp,
            attachmentPaths: [`AS2/files/ACME-AS2/TEST_CON/outbox/72078410939${i}/EN_856.txt`],
          });
    messages.push({ box, message });
  }
  const delivered = [...messages.filter((m) => m.box === 'received').slice(0, 18), ...messages.filter((m) => m.box === 'failed').slice(0, 2)];
  const missing = messages.filter((m) => !delivered.includes(m));
  return { api, messages, delivered, missing };
}

function webhookBody(box: MessageType, message: MockMessage): Buffer {
  const station = box === 'received' ? message.receiverAS2Id : message.senderAS2Id;
  return Buffer.from(
    JSON.stringify(toWebhookPayload({ ...message }, box, { template: { stationIdentifier: station, stationAS2ID: station, messageIdentifier: '', messageAS2ID: '', ...REAL_FIELDS } })),
  );
}

/** A store holding what the webhooks brought, plus an older non-MFTG request (so the default window covers every message). */
async function storeWithDeliveries(dir: string, w: Window, now: number): Promise<void> {
  const store = await EventStore.open(dir);
  await store.openForWriting();
  const append = async (at: number, body: Buffer): Promise<void> => {
    const event: CapturedEvent = {
      id: newId(at),
      receivedAt: new Date(at).toISOString(),
      method: 'POST',
      path: '/',
      headers: [
        ['content-type', 'application/json'],
        ['user-agent', MFTG_USER_AGENT],
      ],
      remoteAddress: '127.0.0.1',
      size: body.length,
      mftg: summarize(body),
    };
    await store.appendEvent(event, body);
  };
  await append(now - 50 * MINUTE, Buffer.from('ping'));
  for (const { box, message } of [...w.delivered].sort((a, b) => a.message.timestamp - b.message.timestamp)) await append(message.timestamp + 1_000, webhookBody(box, message));
  await store.close();
}

function client(api: MockMftgApi, options: Partial<MftgApiClientOptions> = {}): MftgApiClient {
  return new MftgApiClient({ baseUrl: api.url, credentials: { username: api.username, password: api.password }, backoff: () => 1, ...options });
}

async function reconcile(
  api: MockMftgApi,
  sink: ReconcileSink,
  options: ReconcileOptions = {},
  clientOptions: Partial<MftgApiClientOptions> = {},
  onProgress?: (p: ReconcileProgress) => void,
): ReturnType<Reconciler['run']> {
  const c = client(api, clientOptions);
  try {
    return await new Reconciler({ api: c, sink, ...(onProgress ? { onProgress } : {}) }).run(options);
  } finally {
    await c.close();
  }
}

interface Setup {
  api: MockMftgApi;
  w: Window;
  handler: RecordingHandler;
  storeDir: string;
  now: number;
}

async function setup(t: { after: (fn: () => Promise<void>) => void }): Promise<Setup> {
  const now = Date.now();
  const w = await window(now);
  const handler = await startRecordingHandler();
  const dir = await tempDir();
  await storeWithDeliveries(dir.path, w, now);
  await updateSettings(dir.path, { forwardTo: handler.url, routes: {} });
  t.after(async () => {
    await w.api.close();
    await handler.close();
    await dir.cleanup();
  });
  return { api: w.api, w, handler, storeDir: dir.path, now };
}

/** Reconcile with no listener running, composed as the command does: a store-backed ingest behind the sink. */
async function withStoreSink<T>(storeDir: string, use: (sink: ReconcileSink) => Promise<T>): Promise<T> {
  const standalone = await StoreIngest.open(storeDir);
  try {
    const result = await use(new IngestSink(standalone, standalone.ingest));
    await standalone.drain();
    return result;
  } finally {
    await standalone.close();
  }
}

async function storedEvents(storeDir: string): Promise<Array<{ event: CapturedEvent; body: Buffer; attempts: number }>> {
  const store = await EventStore.open(storeDir);
  try {
    const all = await store.readAll();
    return Promise.all(all.map(async (s) => ({ event: s.event, body: await s.body(), attempts: s.event.attempts.length })));
  } finally {
    await store.close();
  }
}

test('without a listener: exactly the 15 missing messages are stored, forwarded once each, and a second run recovers none', async (t) => {
  // Given 35 messages in MFTG, 20 of them delivered as webhooks and stored, and a remembered --forward-to
  const { api, w, handler, storeDir } = await setup(t);

  // When reconcile runs without a listener
  const summary = await withStoreSink(storeDir, (sink) => reconcile(api, sink));

  // Then it checked everything and recovered exactly the 15 others
  assert.equal(summary.state, 'done', summary.error ?? '');
  assert.deepEqual({ received: summary.byType.received.inMftg, failed: summary.byType.failed.inMftg, sent: summary.byType.sent.inMftg }, { received: 30, failed: 5, sent: 0 });
  assert.equal(summary.byType.received.alreadyCaptured + summary.byType.failed.alreadyCaptured, 20);
  const record = reconcileRecord(summary);
  assert.deepEqual(Object.keys(record).slice(0, 8), ['type', 'state', 'since', 'checked', 'alreadyCaptured', 'recovered', 'error', 'dryRun']);
  assert.deepEqual(record.checked, { received: 30, sent: 0, failed: 5 });
  assert.equal(record.alreadyCaptured, 20);
  assert.equal((record.recovered as string[]).length, 15);

  const events = await storedEvents(storeDir);
  const recovered = events.filter((e) => (record.recovered as string[]).includes(e.event.id));
  assert.equal(recovered.length, 15);
  assert.deepEqual(new Set(recovered.map((e) => e.event.mftg?.messageId)), new Set(w.missing.map((m) => m.message.as2MessageId)));
  for (const { event, body } of recovered) {
    const { box, message } = w.missing.find((m) => m.message.as2MessageId === event.mftg?.messageId)!;
    const doc = JSON.parse(body.toString()) as Record<string, unknown>;
    // The payload MFTG would have sent: right type, both field names, times and keys from the API
    assert.equal(doc.eventType, box === 'received' ? 'MESSAGE.RECEIVED.SUCCESS' : 'MESSAGE.SEND.FAILED');
    assert.equal(doc.messageIdentifier, message.as2MessageId);
    assert.equal(doc.messageAS2ID, message.as2MessageId);
    assert.equal(doc.stationIdentifier, doc.stationAS2ID);
    assert.equal(doc.partnerIdentifier, doc.partnerAS2ID);
    assert.deepEqual(doc.attachments, message.attachmentPaths);
    if (box === 'received') {
      assert.equal(doc.receivedAt, message.timestamp);
      // Names and tenant fields from the newest real delivery of that station
      for (const [field, value] of Object.entries(REAL_FIELDS)) assert.equal(doc[field], value, field);
    } else {
      assert.equal(doc.lastAttemptTime, message.timestamp);
      assert.equal(doc.failures, 2);
      assert.equal(doc.failureReason, 'Received HTTP status code of 422');
    }
    assert.ok(event.headers.some(([name, value]) => name === 'x-mftg-hooks-source' && value === 'reconcile'));
    assert.equal((event as CapturedEvent & { source?: string }).source, 'reconcile');
  }
  // And the handler received each of them once, byte for byte, and the attempts are stored
  assert.equal(handler.requests.length, 15);
  for (const { body } of recovered) assert.equal(handler.requests.filter((r) => r.body.equals(body)).length, 1);
  assert.ok(recovered.every((e) => e.attempts === 1));
  assert.ok(handler.requests.every((r) => r.headers['x-mftg-hooks-source'] === 'reconcile'));

  // When it runs again, Then nothing is recovered and nothing is sent
  const again = await withStoreSink(storeDir, (sink) => reconcile(api, sink));
  assert.equal(again.state, 'done');
  assert.equal(reconcileRecord(again).alreadyCaptured, 35);
  assert.deepEqual(reconcileRecord(again).recovered, []);
  assert.equal(handler.requests.length, 15);
  assert.equal((await storedEvents(storeDir)).length, events.length);
});

test('every request only looks: markAsRead=false, fetchAll=true on the inbox, pageLength ≤ 100, the token raw, ids URL-encoded', async (t) => {
  // Given the window, listed 7 a page so several pages are read
  const { api, storeDir } = await setup(t);
  const paged = client(api);
  const listMessages = paged.listMessages.bind(paged);
  const pagedApi = { listMessages: (type: MessageType, o = {}) => listMessages(type, { ...o, pageLength: 7 }), getMessage: paged.getMessage.bind(paged) };
  // When reconcile runs
  const summary = await withStoreSink(storeDir, (sink) => new Reconciler({ api: pagedApi, sink }).run());
  await paged.close();
  assert.equal(summary.state, 'done', summary.error ?? '');
  // Then no message was marked read, and every request was a polite, read-only one
  assert.ok([...api.messages.keys()].every((id) => !api.isRead(id)));
  const lists = api.apiRequests().filter((r) => /^\/message\/(inbox|outbox|outbox\/failed)$/.test(r.path));
  const retrievals = api.apiRequests().filter((r) => /^\/message\/(inbox|outbox)\/[^/]+$/.test(r.path) && r.path !== '/message/outbox/failed');
  assert.ok(lists.length >= 6, `lists: ${lists.length}`);
  assert.equal(retrievals.length >= 15, true);
  for (const list of lists) {
    assert.ok(Number(list.query.pageLength) >= 1 && Number(list.query.pageLength) <= 100);
    assert.equal(list.query.sortDir, 'desc');
    if (list.path === '/message/inbox') assert.equal(list.query.fetchAll, 'true');
  }
  for (const retrieval of retrievals) {
    assert.equal(retrieval.query.markAsRead, 'false');
    assert.match(retrieval.path, /^\/message\/(inbox|outbox)\/%3C[^<>@]*%40[^<>@]*%3E$/);
  }
  const tokens = new Set(api.tokensIssued);
  for (const request of [...lists, ...retrievals]) {
    assert.ok(tokens.has(String(request.headers.authorization)), `Authorization ${request.headers.authorization}`);
  }
  assert.ok(!api.log.some((r) => r.method !== 'GET' && r.path !== '/authorize'));
});

test('--dry-run lists what would be recovered and changes nothing, sends nothing', async (t) => {
  // Given the window
  const { api, w, handler, storeDir } = await setup(t);
  const before = await storedEvents(storeDir);
  // When a dry run is made
  const summary = await withStoreSink(storeDir, (sink) => reconcile(api, sink, { dryRun: true }));
  // Then it names the 15 messages, with no event ids, and the store and the handler saw nothing
  assert.equal(summary.state, 'done');
  const record = reconcileRecord(summary);
  assert.equal(record.dryRun, true);
  assert.deepEqual(record.recovered, []);
  assert.deepEqual(new Set((record.messages as Array<{ messageId: string; eventId: null }>).map((m) => m.messageId)), new Set(w.missing.map((m) => m.message.as2MessageId)));
  assert.ok((record.messages as Array<{ eventId: unknown }>).every((m) => m.eventId === null));
  assert.equal((await storedEvents(storeDir)).length, before.length);
  assert.equal(handler.requests.length, 0);
  assert.ok([...api.messages.keys()].every((id) => !api.isRead(id)));
});

test('through a running listener: the recovered events appear in its stream and are forwarded once', async (t) => {
  // Given a listener forwarding to a handler, which captured the 20 deliveries the webhooks brought
  const now = Date.now();
  const w = await window(now);
  const handler = await startRecordingHandler();
  const running = await startSession({ targets: { forwardTo: handler.url, routes: {} } });
  t.after(async () => {
    await running.close();
    await handler.close();
    await w.api.close();
  });
  for (const { box, message } of w.delivered) {
    assert.equal(await post(running.session.captureUrl, webhookBody(box, message)), 200);
  }
  await handler.waitFor(20);

  // When reconcile runs through it
  const reads = await openStoredEvents(running.storeDir);
  const summary = await reconcile(w.api, new ListenerSink(reads, running.storeDir), { since: now - 60 * MINUTE }).finally(() => reads.close());

  // Then the 15 missing messages became events of that listener, each forwarded once
  assert.equal(summary.state, 'done', summary.error ?? '');
  const record = reconcileRecord(summary);
  const ids = record.recovered as string[];
  assert.equal(ids.length, 15);
  const shown = await waitUntil(() => {
    const events = running.elements.flatMap((e) => (e.type === 'event' && ids.includes(e.event.id) ? [e.event] : []));
    return events.length === 15 ? events : null;
  }, 'the recovered events in the stream');
  assert.deepEqual(new Set(shown.map((e) => e.mftg?.messageId)), new Set(w.missing.map((m) => m.message.as2MessageId)));
  assert.deepEqual(new Set(shown.map((e) => e.source)), new Set(['reconcile']));
  await handler.waitFor(35);
  for (const { message } of w.messages) {
    assert.equal(handler.requests.filter((r) => (JSON.parse(r.body.toString()) as { messageIdentifier: string }).messageIdentifier === message.as2MessageId).length, 1, message.as2MessageId);
  }
  assert.equal(handler.requests.filter((r) => r.headers['x-mftg-hooks-source'] === 'reconcile').length, 15);
});

test('a token that expires mid-run is refreshed and the run completes', async (t) => {
  // Given the window
  const { api, storeDir } = await setup(t);
  // When the api token expires after the first page
  let expired = false;
  const summary = await withStoreSink(storeDir, (sink) =>
    reconcile(api, sink, {}, {}, (p) => {
      if (p.phase === 'listing' && !expired) {
        expired = true;
        api.expireApiTokens();
      }
    }),
  );
  // Then the client refreshed its session and every message was checked
  assert.equal(summary.state, 'done', summary.error ?? '');
  assert.equal(api.apiRequests('/refresh-session').length, 1);
  assert.equal(reconcileRecord(summary).alreadyCaptured, 20);
  assert.equal((reconcileRecord(summary).recovered as string[]).length, 15);
});

test('bad credentials: a failed summary with the clear error, nothing stored', async (t) => {
  // Given a wrong password
  const { api, storeDir, handler } = await setup(t);
  const before = await storedEvents(storeDir);
  const wrong = 'not-the-password-9f3k';
  // When reconcile runs
  const summary = await withStoreSink(storeDir, (sink) => reconcile(api, sink, {}, { credentials: { username: api.username, password: wrong } }));
  // Then it failed, saying which variables hold what MFTG refused, and without the password
  assert.equal(summary.state, 'failed');
  assert.equal(summary.errorCode, 'E_MFTG_AUTH');
  assert.equal(summary.error, 'MFTG refused the credentials in MFTG_API_USERNAME/MFTG_API_PASSWORD');
  assert.ok(!JSON.stringify(reconcileRecord(summary)).includes(wrong));
  assert.equal((await storedEvents(storeDir)).length, before.length);
  assert.equal(handler.requests.length, 0);
});

test('429 with Retry-After is honoured, a 500 is retried, and the run completes', async (t) => {
  // Given an inbox list answering 429 (Retry-After: 2) once, and one retrieval answering 500 once
  const { api, storeDir } = await setup(t);
  api.inject({ match: (r) => r.path === '/message/inbox', status: 429, headers: { 'retry-after': '2' }, body: { message: 'Too Many Requests' } });
  api.inject({ match: (r) => r.path.startsWith('/message/inbox/'), status: 500 });
  const sleeps: number[] = [];
  // When reconcile runs
  const summary = await withStoreSink(storeDir, (sink) => reconcile(api, sink, {}, { sleep: async (ms) => void sleeps.push(ms) }));
  // Then it waited the 2 s asked for, retried the 500, and recovered all 15
  assert.equal(summary.state, 'done', summary.error ?? '');
  assert.ok(sleeps.includes(2000), `sleeps: ${sleeps.join(', ')}`);
  assert.equal(api.log.filter((r) => r.status === 429).length, 1);
  assert.equal(api.log.filter((r) => r.status === 500).length, 1);
  assert.equal((reconcileRecord(summary).recovered as string[]).length, 15);
});

test('an API that hangs: the request timeout fails the run; what was found before is still recovered', async (t) => {
  // Given a failed-messages list that never answers
  const { api, storeDir, w } = await setup(t);
  api.inject({ match: '/message/outbox/failed', hang: true, times: Infinity });
  // When reconcile runs with a short request timeout
  const summary = await withStoreSink(storeDir, (sink) => reconcile(api, sink, {}, { timeoutMs: 300, maxTries: 1 }));
  // Then it failed on the timeout, and the received messages it had found were recovered
  assert.equal(summary.state, 'failed');
  assert.equal(summary.errorCode, 'E_MFTG_TIMEOUT');
  assert.match(summary.error ?? '', /did not answer GET \/message\/outbox\/failed within 300 ms/);
  assert.equal(summary.byType.failed.complete, false);
  assert.equal(summary.byType.received.recovered.length, w.missing.filter((m) => m.box === 'received').length);
  assert.equal(reconcileRecord(summary).state, 'failed');
});

test('messages younger than 2 minutes are left for their webhook; older than --since are not looked at', async (t) => {
  // Given one message 30 s old and one 2 h old, besides the window
  const { api, storeDir, now, handler } = await setup(t);
  api.addMessage('received', { as2MessageId: '<fresh.1@edi.initech.example>', timestamp: now - 30_000 });
  api.addMessage('received', { as2MessageId: '<old.1@edi.initech.example>', timestamp: now - 120 * MINUTE });
  // When reconcile runs with the default window (the oldest stored event, 50 min ago)
  const summary = await withStoreSink(storeDir, (sink) => reconcile(api, sink));
  // Then the young one is counted but left alone, and the old one is outside the window
  assert.equal(summary.state, 'done');
  assert.equal(summary.byType.received.leftForWebhook, 1);
  assert.equal(summary.byType.received.inMftg, 31);
  const ids = summary.byType.received.recovered.map((m) => m.messageId);
  assert.ok(!ids.includes('<fresh.1@edi.initech.example>') && !ids.includes('<old.1@edi.initech.example>'));
  assert.equal(handler.requests.length, 15);
});

test('the default window: the oldest stored event, at most 24 h back', () => {
  const now = Date.parse('2024-03-02T12:00:00Z');
  assert.equal(defaultSince('2024-03-02T11:00:00.000Z', now), Date.parse('2024-03-02T11:00:00Z'));
  assert.equal(defaultSince('2024-02-20T11:00:00.000Z', now), Date.parse('2024-03-01T12:00:00Z'));
  assert.equal(defaultSince(null, now), Date.parse('2024-03-01T12:00:00Z'));
});

test('without a listener, the store-backed ingest stores first and forwards in ingest order through attempts; a 503 stays pending for the next listen', async (t) => {
  // Given a store that remembers a handler, which holds its first request and answers the second with 503
  const handler = await startRecordingHandler();
  const dir = await tempDir();
  await updateSettings(dir.path, { forwardTo: handler.url, routes: {} });
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  handler.respond(async (_req, res) => {
    const n = handler.requests.length;
    if (n === 1) await held;
    res.writeHead(n === 2 ? 503 : 200).end(n === 2 ? 'busy' : 'ok');
  });
  const standalone = await StoreIngest.open(dir.path);
  t.after(async () => {
    release();
    await standalone.close();
    await handler.close();
    await dir.cleanup();
  });
  const bodies = [1, 2, 3].map((n) => Buffer.from(JSON.stringify({ eventType: 'MESSAGE.RECEIVED.SUCCESS', messageIdentifier: `<m${n}@edi.example>` })));
  const events = bodies.map((body) => newCapturedEvent({ source: 'reconcile', method: 'POST', path: '/', headers: [['content-type', 'application/json']], remoteAddress: null, body }));

  // When three recovered events go down its ingest path while the handler holds the first forward
  for (const [i, event] of events.entries()) await standalone.ingest.ingest(event, bodies[i]!);

  // Then all three are stored already, with source reconcile, pending (a target covers them)
  const stored = await storedEvents(dir.path);
  assert.deepEqual(
    stored.map((s) => [s.event.id, s.event.source, s.event.forward, s.attempts]),
    events.map((e) => [e.id, 'reconcile', true, 0]),
  );
  // When the handler answers
  release();
  await standalone.drain();
  // Then each went out once, in ingest order, byte for byte, and every attempt was recorded in the store
  assert.deepEqual(
    handler.requests.map((r) => r.body.toString()),
    bodies.map((b) => b.toString()),
  );
  assert.deepEqual(
    standalone.attempts.map((a) => [a.eventId, a.kind, a.status, a.delivery]),
    [
      [events[0]!.id, 'forward', 200, 'delivered'],
      [events[1]!.id, 'forward', 503, 'pending'],
      [events[2]!.id, 'forward', 200, 'delivered'],
    ],
  );
  const reader = await EventStore.open(dir.path);
  try {
    assert.deepEqual(
      (await reader.list({ limit: 10, pending: true })).map((e) => e.id),
      [events[1]!.id],
    );
    assert.deepEqual(
      (await reader.get(events[1]!.id)).attempts.map((a) => a.status),
      [503],
    );
  } finally {
    await reader.close();
  }
});
