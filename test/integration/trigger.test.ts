import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { startListener, type RunningListener } from '../helpers/deliveries.js';
import { startRecordingHandler, type RecordingHandler } from '../helpers/recording-handler.js';
import { tempDir } from '../helpers/temp.js';

const TYPES = ['MESSAGE.RECEIVED.SUCCESS', 'MESSAGE.SEND.SUCCESS', 'MESSAGE.SEND.FAILED'];
const LEGACY = ['messageAS2ID', 'partnerAS2ID', 'stationAS2ID'];
const MODERN = ['messageIdentifier', 'partnerIdentifier', 'stationIdentifier'];
const VARIANTS: Array<{ flag: string[]; legacy: boolean; modern: boolean }> = [
  { flag: [], legacy: true, modern: true },
  { flag: ['--legacy'], legacy: true, modern: false },
  { flag: ['--modern'], legacy: false, modern: true },
];

describe('trigger through a running listener', () => {
  let handler: RecordingHandler;
  let home: { path: string; cleanup: () => Promise<void> };
  let running: RunningListener;
  // The first sample goes through the real bin, as a user runs it; the other cases run the CLI in-process.
  const bin = (args: string[]): ReturnType<typeof runCli> => runCli(args, { env: running.env });
  const cli = (args: string[]): ReturnType<typeof runCli> => runCliInProcess(args, { env: running.env });

  before(async () => {
    handler = await startRecordingHandler();
    home = await tempDir();
    running = await startListener(home.path, ['--forward-to', handler.url]);
  });
  after(async () => {
    await running.listener.stop();
    await handler.close();
    await home.cleanup();
  });

  for (const type of TYPES) {
    for (const variant of VARIANTS) {
      test(`${type} ${variant.flag[0] ?? '(both names)'} is captured, shown and forwarded`, async () => {
        const before = handler.requests.length;
        // When a sample is triggered
        const result = await (type === TYPES[0] && variant.flag.length === 0 ? bin : cli)(['trigger', type, ...variant.flag]);
        // Then the listener captured it and says which event it became
        assert.equal(result.code, 0, result.stderr);
        const eventId = /captured as event (\w+)/.exec(result.stdout.toString())?.[1];
        assert.ok(eventId, result.stdout.toString());
        const shown = await running.listener.waitForRecord((r) => r.type === 'event' && r.id === eventId, 'the event record');
        assert.equal(shown.eventType, type);
        // And forwarded it to the handler with the names asked for
        const got = (await handler.waitFor(before + 1))[before]!;
        assert.equal(got.headers['content-type'], 'application/json');
        const doc = JSON.parse(got.body.toString()) as Record<string, unknown>;
        assert.equal(doc.eventType, type);
        for (const name of LEGACY) assert.equal(name in doc, variant.legacy, name);
        for (const name of MODERN) assert.equal(name in doc, variant.modern, name);
        assert.equal(shown.messageId, doc.messageIdentifier ?? doc.messageAS2ID);
        await running.listener.waitForRecord((r) => r.type === 'attempt' && r.eventId === eventId && r.status === 200, 'the forward');
      });
    }
  }

  test('--attachments and --set shape the payload; --json prints a trigger record', async () => {
    const before = handler.requests.length;
    const result = await cli(['trigger', 'failed', '--attachments', '3', '--set', 'failureReason=Received HTTP status code of 500', '--set', 'failures=9', '--set', 'custom.field=true', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const record = JSON.parse(result.stdout.toString()) as Record<string, unknown>;
    assert.equal(record.type, 'trigger');
    assert.equal(record.eventType, 'MESSAGE.SEND.FAILED');
    assert.equal(record.status, 200);
    assert.ok(typeof record.eventId === 'string');
    const doc = JSON.parse((await handler.waitFor(before + 1))[before]!.body.toString()) as Record<string, unknown>;
    assert.equal((doc.attachments as string[]).length, 3);
    assert.equal(doc.failureReason, 'Received HTTP status code of 500');
    assert.equal(doc.failures, 9);
    assert.deepEqual(doc.custom, { field: true });
    assert.equal(doc.messageIdentifier, record.messageId);
  });

  test('--to sends straight to a URL; --print only prints', async () => {
    const direct = await startRecordingHandler();
    try {
      const result = await cli(['trigger', 'received', '--to', direct.url]);
      assert.equal(result.code, 0, result.stderr);
      assert.doesNotMatch(result.stdout.toString(), /captured as event/);
      const [got] = await direct.waitFor(1);
      assert.equal((JSON.parse(got!.body.toString()) as { eventType: string }).eventType, 'MESSAGE.RECEIVED.SUCCESS');
      direct.respond((_req, res) => {
        res.writeHead(500);
        res.end();
      });
      const refused = await cli(['trigger', 'received', '--to', direct.url]);
      assert.equal(refused.code, 1, 'a non-2xx answer fails the command');
    } finally {
      await direct.close();
    }
    const before = handler.requests.length;
    const printed = await cli(['trigger', 'sent', '--print', '--modern']);
    assert.equal(printed.code, 0);
    const doc = JSON.parse(printed.stdout.toString()) as Record<string, unknown>;
    assert.equal(doc.eventType, 'MESSAGE.SEND.SUCCESS');
    assert.equal('messageAS2ID' in doc, false);
    assert.equal(handler.requests.length, before);
  });

  test('--list describes every type; bad input is a usage error', async () => {
    const list = await cli(['trigger', '--list']);
    assert.equal(list.code, 0);
    for (const type of TYPES) assert.match(list.stdout.toString(), new RegExp(type.replace(/\./g, '\\.')));
    for (const args of [
      ['trigger'],
      ['trigger', 'MESSAGE.SEND.RETRY'],
      ['trigger', 'sent', '--legacy', '--modern'],
      ['trigger', 'sent', '--attachments', '99'],
      ['trigger', 'sent', '--set', 'nope'],
    ]) {
      const result = await cli(args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    }
  });
});

test('trigger without a listener and without --to says what to do', async () => {
  const home = await tempDir();
  try {
    const result = await runCliInProcess(['trigger', 'received'], { env: { MFTG_HOOKS_HOME: home.path } });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /no listener is running.*mftg-hooks listen.*--to <url>/);
  } finally {
    await home.cleanup();
  }
});
