import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { eventRecord } from '../../src/output/records.js';
import { startInspector, type Inspector } from '../../src/web/server.js';
import { FakeSessionView } from '../helpers/fake-session-view.js';
import { waitUntil } from '../helpers/temp.js';

interface SseMessage {
  id: string | null;
  event: string;
  data: unknown;
}

/** An open `GET /api/stream` with every message parsed so far. */
async function openStream(port: number, lastEventId?: string): Promise<{ messages: SseMessage[]; close: () => void }> {
  const messages: SseMessage[] = [];
  const headers: Record<string, string> = { host: `127.0.0.1:${port}` };
  if (lastEventId) headers['last-event-id'] = lastEventId;
  const res = await new Promise<IncomingMessage>((resolve, reject) => httpRequest({ host: '127.0.0.1', port, path: '/api/stream', headers }, resolve).on('error', reject).end());
  let text = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    text += chunk;
    let end: number;
    while ((end = text.indexOf('\n\n')) >= 0) {
      const block = text.slice(0, end);
      text = text.slice(end + 2);
      const message: SseMessage = { id: null, event: 'message', data: null };
      let data: string | null = null;
      for (const line of block.split('\n')) {
        if (line.startsWith('id: ')) message.id = line.slice(4);
        else if (line.startsWith('event: ')) message.event = line.slice(7);
        else if (line.startsWith('data: ')) data = line.slice(6);
      }
      if (data !== null) messages.push({ ...message, data: JSON.parse(data) });
    }
  });
  return { messages, close: () => res.destroy() };
}

describe('web inspector stream', () => {
  let view: FakeSessionView;
  let inspector: Inspector;

  before(async () => {
    view = await FakeSessionView.create();
    inspector = await startInspector(view, { address: '127.0.0.1:0' });
  });
  after(async () => {
    await inspector.close();
    await view.close();
  });

  test('a client that reconnects with Last-Event-ID gets exactly what it missed, as --json records', async () => {
    // Given a client that saw the stream up to some id, then went away (a sleeping laptop)
    const first = await openStream(inspector.port);
    const hello = await waitUntil(() => first.messages.find((m) => m.event === 'hello'), 'hello');
    const seen = await view.deliver({ body: { eventType: 'MESSAGE.RECEIVED.SUCCESS', messageIdentifier: '<seen@x>' } });
    const seenMessage = await waitUntil(() => first.messages.find((m) => (m.data as { id?: string }).id === seen.id), 'the first event');
    assert.match(String(hello.id), /^[0-9a-f]+\.\d+$/);
    first.close();
    // When three events arrive meanwhile and it reconnects with its last id
    const missed = [];
    for (let i = 0; i < 3; i++) missed.push(await view.deliver({ body: { eventType: 'MESSAGE.SEND.SUCCESS', messageIdentifier: `<missed-${i}@x>` } }));
    const second = await openStream(inspector.port, String(seenMessage.id));
    await waitUntil(() => second.messages.filter((m) => m.event === 'message').length === 3 && second.messages.some((m) => m.event === 'session'), 'the missed records');
    // Then it gets those three, in order, in the --json shape, and no reset
    assert.deepEqual(
      second.messages.filter((m) => m.event === 'message').map((m) => m.data),
      missed.map((event) => eventRecord(event, false)),
    );
    assert.equal(
      second.messages.some((m) => m.event === 'reset'),
      false,
    );
    // With the ids that follow the last one seen (frames of records that no client had yet are written on resume)
    const [runId, seenSeq] = String(seenMessage.id).split('.');
    assert.deepEqual(
      second.messages.filter((m) => m.event === 'message').map((m) => m.id),
      [1, 2, 3].map((n) => `${runId}.${Number(seenSeq) + n}`),
    );
    second.close();
  });

  test('an id of another run (a restarted inspector) gets a reset', async () => {
    const stream = await openStream(inspector.port, 'abcdef012345.7');
    const reset = await waitUntil(() => stream.messages.find((m) => m.event === 'reset'), 'reset');
    assert.equal((reset.data as { type: string }).type, 'reset');
    stream.close();
  });
});
