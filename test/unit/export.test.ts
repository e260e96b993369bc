import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { deliveredHeaders, deliveredItem, maskToken, MASKED_TOKEN, originalItem, originalUrl, requestUrl } from '../../src/core/export.js';
import { printfFormat, shellQuote, shellQuoteLatin1, toCurl } from '../../src/output/export/curl.js';
import { toHar } from '../../src/output/export/har.js';
import { bodyOf, toJsonExport } from '../../src/output/export/json.js';
import { sendAttempt as send } from '../../src/core/delivery/attempts.js';
import { createDispatcher } from '../../src/core/http-send.js';
import type { EventRecord, ForwardAttempt, HeaderPairs } from '../../src/core/types.js';
import { newId } from '../../src/core/ids.js';
import { EventStore } from '../../src/core/store/store.js';
import { harProblems, headerPairs, runShell } from '../helpers/deliveries.js';
import { tempDir } from '../helpers/temp.js';
import { startRecordingHandler, type RecordingHandler } from '../helpers/recording-handler.js';

const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

function eventOf(method: string, headers: HeaderPairs, body: Buffer, path = '/'): EventRecord {
  return { id: '01abc', receivedAt: '2025-01-02T03:04:05.678Z', method, path, headers, remoteAddress: '127.0.0.1', size: body.length, mftg: null, attempts: [] };
}

describe('curl commands reproduce the forwarded request byte for byte', () => {
  let handler: RecordingHandler;
  const dispatcher = createDispatcher({ insecure: false });
  before(async () => {
    handler = await startRecordingHandler();
  });
  after(async () => {
    await handler.close();
    await dispatcher.close();
  });

  const headers: HeaderPairs = [
    ['Host', 'abc.loca.lt'],
    ['Content-Type', 'application/json; charset=UTF-8'],
    ['X-Dup', "it's"],
    ['x-dup', 'two'],
    ['X-Latin', 'caf\u00e9 \u00ff'],
    ['X-Empty', ''],
    ['Connection', 'keep-alive, X-Hop'],
    ['X-Hop', 'dropped: named in Connection'],
    ['Transfer-Encoding', 'chunked'],
  ];
  const cases: Array<{ name: string; method: string; body: Buffer; headers?: HeaderPairs; path?: string }> = [
    { name: 'JSON with shell metacharacters', method: 'POST', body: Buffer.from(`{"a":"it's 100% \\\\ $HOME \`id\` \\"q\\" \u00e9\u20ac"}`) },
    { name: 'every byte value', method: 'POST', body: every },
    { name: 'empty POST', method: 'POST', body: Buffer.alloc(0) },
    { name: 'empty GET with a query', method: 'GET', body: Buffer.alloc(0), path: '/sub/dir?x=1&y=%20z' },
    { name: 'text starting with @ (not a file name)', method: 'PUT', body: Buffer.from('@/etc/passwd\n') },
    { name: 'text starting with -', method: 'PATCH', body: Buffer.from('-n\n-e\\c') },
    { name: 'CRLF and tabs', method: 'POST', body: Buffer.from('a\r\n\tb\r\n') },
    { name: 'DELETE with a binary body', method: 'DELETE', body: randomBytes(4096) },
    { name: 'GET with a body', method: 'GET', body: Buffer.from('{"odd":true}') },
    { name: 'no content-type at all', method: 'POST', body: Buffer.from('plain'), headers: [['X-Only', '1']] },
    { name: '300 KiB of random bytes', method: 'POST', body: randomBytes(300 * 1024) },
  ];

  for (const c of cases) {
    test(c.name, async () => {
      // Given a captured request and its first delivery to the handler
      const event = eventOf(c.method, c.headers ?? headers, c.body, c.path);
      const url = requestUrl(event, handler.url);
      const first = handler.requests.length;
      const forward = await send({ eventId: event.id, kind: 'forward', target: url, method: event.method, headers: event.headers, body: c.body, timeoutMs: 5000, dispatcher });
      assert.equal(forward.attempt.status, 200);
      // When its curl command runs in a POSIX shell
      const run = await runShell(toCurl(event, c.body, url) + ' >/dev/null');
      assert.equal(run.code, 0, run.stderr);
      // Then the handler got the same method, URL, headers (host/connection aside: hop-by-hop) and bytes
      await handler.waitFor(first + 2);
      const [viaForward, viaCurl] = handler.requests.slice(first) as [NonNullable<(typeof handler.requests)[0]>, NonNullable<(typeof handler.requests)[0]>];
      assert.equal(viaCurl.method, viaForward.method);
      assert.equal(viaCurl.url, viaForward.url);
      assert.deepEqual(headerPairs(viaCurl, ['host', 'connection']), headerPairs(viaForward, ['host', 'connection']));
      assert.ok(viaCurl.body.equals(viaForward.body), `body: ${viaCurl.body.length} vs ${viaForward.body.length} bytes`);
      assert.ok(viaCurl.body.equals(c.body));
    });
  }

  test('a text body stays readable inline; a binary one goes through printf', () => {
    const json = toCurl(eventOf('POST', [['content-type', 'application/json']], Buffer.from('{"a":1}')), Buffer.from('{"a":1}'), 'http://127.0.0.1:1/h');
    assert.match(json, /--data-raw '\{"a":1\}'$/);
    assert.doesNotMatch(json, /printf/);
    const binary = toCurl(eventOf('POST', [], every), every, 'http://127.0.0.1:1/h');
    assert.match(binary, /^printf '\\000\\001/);
    assert.match(binary, /--data-binary @-$/);
  });

  test('https targets pin HTTP/1.1, as the forwarder speaks it', () => {
    assert.match(toCurl(eventOf('POST', [], Buffer.from('x')), Buffer.from('x'), 'https://example.test/h'), /--http1\.1/);
  });
});

test('printf formats and shell words survive a POSIX shell', async () => {
  // Given awkward bytes and words
  const body = Buffer.concat([every, Buffer.from("'%s%%\\n\\0017-")]);
  const words = ["it's", '$HOME `x` "q"', 'a b', '', 'caf\u00e9 \u20ac'];
  const latin1 = ['caf\u00e9 \u00ff', "it's \u00e9"];
  // When printed through sh
  const printed = await runShell(`printf '${printfFormat(body).replace(/'/g, `'\\''`)}' | od -An -v -tx1`);
  const echoed = await runShell(`{ ${words.map((w) => `printf '%s|' ${shellQuote(w)}`).join('; ')}; } | od -An -v -tx1`);
  const echoedLatin1 = await runShell(`{ ${latin1.map((w) => `printf '%s|' ${shellQuoteLatin1(w)}`).join('; ')}; } | od -An -v -tx1`);
  // Then every byte comes back
  const bytes = (dump: string): Buffer => Buffer.from(dump.replace(/\s+/g, ''), 'hex');
  assert.ok(bytes(printed.stdout).equals(body));
  assert.ok(bytes(echoed.stdout).equals(Buffer.from(words.map((w) => w + '|').join(''), 'utf8')));
  assert.ok(bytes(echoedLatin1.stdout).equals(Buffer.from(latin1.map((w) => w + '|').join(''), 'latin1')));
});

test('delivered headers drop hop-by-hop ones and end with content-length, like undici', () => {
  const pairs = deliveredHeaders(
    'POST',
    [
      ['Host', 'x'],
      ['Content-Length', '3'],
      ['X-A', '1'],
      ['Connection', 'close'],
      ['TE', 'trailers'],
    ],
    3,
  );
  assert.deepEqual(pairs, [
    ['X-A', '1'],
    ['content-length', '3'],
  ]);
  assert.deepEqual(deliveredHeaders('GET', [['X-A', '1']], 0), [['X-A', '1']]);
  assert.deepEqual(deliveredHeaders('POST', [], 0), [['content-length', '0']]);
});

test('the original URL is rebuilt from the Host header, the token and the sub-path', () => {
  const local = eventOf('POST', [['host', '127.0.0.1:4567']], Buffer.alloc(0), '/');
  assert.equal(originalUrl(local, 'tok123'), 'http://127.0.0.1:4567/tok123');
  const tunnel = eventOf(
    'POST',
    [
      ['host', 'mftg-dev.loca.lt'],
      ['x-forwarded-proto', 'https'],
    ],
    Buffer.alloc(0),
    '/a/b?c=1',
  );
  assert.equal(originalUrl(tunnel, 'tok123'), 'https://mftg-dev.loca.lt/tok123/a/b?c=1');
  assert.equal(originalUrl(eventOf('POST', [['host', 'x.example']], Buffer.alloc(0), '/?q=1'), 'tok'), 'https://x.example/tok?q=1');
  assert.equal(originalUrl(eventOf('POST', [['host', '[::1]:80']], Buffer.alloc(0), '/'), null), 'http://[::1]:80/');
  assert.equal(maskToken('http://h/tok123/x?tok123', 'tok123'), `http://h/${MASKED_TOKEN}/x?${MASKED_TOKEN}`);
  assert.equal(maskToken('http://h/x', null), 'http://h/x');
});

describe('HAR 1.2', () => {
  const attempt = (overrides: Partial<ForwardAttempt>): ForwardAttempt => ({
    id: 'a1',
    eventId: '01abc',
    kind: 'forward',
    target: 'http://127.0.0.1:3000/h',
    startedAt: '2025-01-02T03:04:05.700Z',
    status: 200,
    error: null,
    durationMs: 12.5,
    responseHeaders: [
      ['content-type', 'text/plain'],
      ['set-cookie', 'sid=1; Path=/'],
    ],
    responseSize: 2,
    modified: false,
    ...overrides,
  });

  test('a log of JSON, binary, empty, answered, failed and never-forwarded events is valid HAR 1.2', () => {
    // Given events of every kind
    const json = Buffer.from('{"eventType":"MESSAGE.SEND.FAILED"}');
    const items = [
      {
        ...originalItem(
          {
            ...eventOf(
              'POST',
              [
                ['host', '127.0.0.1:1'],
                ['content-type', 'application/json'],
                ['cookie', 'a=1; b=2'],
              ],
              json,
              '/x?y=1',
            ),
            attempts: [attempt({})],
          },
          json,
          'http://127.0.0.1:1/tok/x?y=1',
        ),
        lastResponseBody: Buffer.from('ok'),
      },
      deliveredItem(
        { ...eventOf('POST', [['content-type', 'application/octet-stream']], every), attempts: [attempt({ status: null, error: 'ECONNREFUSED', responseHeaders: [], responseSize: 0 })] },
        every,
        'http://127.0.0.1:3000/h',
      ),
      originalItem(eventOf('POST', [['host', '127.0.0.1:1']], Buffer.alloc(0)), Buffer.alloc(0), 'http://127.0.0.1:1/tok'),
      { ...deliveredItem({ ...eventOf('PUT', [], json), attempts: [attempt({ status: 500, responseSize: 3 })] }, json, 'http://127.0.0.1:3000/h'), lastResponseBody: Buffer.from([0xff, 0xfe, 0x00]) },
    ];
    // When exported
    const har = JSON.parse(JSON.stringify(toHar(items))) as ReturnType<typeof toHar>;
    // Then it is valid, and holds what a viewer needs
    assert.deepEqual(harProblems(har), []);
    const [first, second, third, fourth] = har.log.entries;
    assert.deepEqual(first!.request.queryString, [{ name: 'y', value: '1' }]);
    assert.deepEqual(first!.request.cookies, [
      { name: 'a', value: '1' },
      { name: 'b', value: '2' },
    ]);
    assert.equal(first!.request.postData?.text, json.toString());
    assert.equal(first!.response.content.text, 'ok');
    assert.deepEqual(first!.response.cookies, [{ name: 'sid', value: '1' }]);
    assert.ok(Buffer.from(second!.request.postData!.text, 'base64').equals(every));
    assert.equal(second!.request.postData?._encoding, 'base64');
    assert.equal(second!.response.status, 0);
    assert.equal(second!.response._error, 'ECONNREFUSED');
    assert.equal(second!.request.headers[0]?.name, 'host');
    assert.equal(third!.request.postData, undefined);
    assert.equal(third!.response.status, 200);
    assert.equal(fourth!.response.content.encoding, 'base64');
  });
});

test('the JSON archive restores every body byte for byte', () => {
  const bodies = [Buffer.from('{"a":"é"}'), every, Buffer.alloc(0), randomBytes(1000)];
  const items = bodies.map((body, i) => originalItem(eventOf('POST', [['x-i', String(i)]], body), body, 'http://127.0.0.1:1/tok'));
  const archive = JSON.parse(JSON.stringify(toJsonExport(items))) as ReturnType<typeof toJsonExport>;
  assert.equal(archive.format, 'mftg-hooks-export');
  archive.events.forEach((archived, i) => {
    assert.ok(bodyOf(archived).equals(bodies[i]!));
    assert.equal(archived.body.sha256, createHash('sha256').update(bodies[i]!).digest('hex'));
    assert.deepEqual(archived.headers, [['x-i', String(i)]]);
  });
  assert.equal(archive.events[0]!.body.encoding, 'utf8');
  assert.equal(archive.events[1]!.body.encoding, 'base64');
});

test('EventStore.readAll reads a store in one pass: after the last clear, oldest first, with attempts and bodies', async () => {
  const dir = await tempDir();
  try {
    // Given events before and after a clear, with attempts written by another process
    const store = await EventStore.open(dir.path);
    await store.openForWriting();
    const event = (n: number): EventRecord => ({ ...eventOf('POST', [], Buffer.from(`body ${n}`)), id: newId() });
    const gone = event(0);
    await store.appendEvent(gone, Buffer.from('body 0'));
    await store.clear();
    const kept = [event(1), event(2)];
    for (const [i, e] of kept.entries()) await store.appendEvent(e, Buffer.from(`body ${i + 1}`));
    await store.close();
    const other = await EventStore.open(dir.path);
    const attempt: ForwardAttempt = {
      id: newId(),
      eventId: kept[0]!.id,
      kind: 'replay',
      target: 'http://127.0.0.1:1/',
      startedAt: new Date().toISOString(),
      status: 201,
      error: null,
      durationMs: 1,
      responseHeaders: [],
      responseSize: 7,
      modified: false,
    };
    await other.appendAttempt(attempt, Buffer.from('created'));
    // When the store is read whole
    const all = await other.readAll();
    // Then only the kept events, with their attempts and exact bytes
    assert.deepEqual(
      all.map((s) => s.event.id),
      kept.map((e) => e.id),
    );
    assert.deepEqual(all[0]!.event.attempts, [attempt]);
    assert.equal((await all[0]!.body()).toString(), 'body 1');
    assert.equal((await all[0]!.lastResponseBody()).toString(), 'created');
    assert.equal((await all[1]!.lastResponseBody()).length, 0);
    await other.close();
  } finally {
    await dir.cleanup();
  }
});

test('a curl export of a hostile request is shell-safe and terminal-safe, and still byte-exact', async (t) => {
  const handler = await startRecordingHandler();
  const dir = await tempDir();
  t.after(async () => {
    await handler.close();
    await dir.cleanup();
  });
  const marker = `${dir.path}/pwned`;
  // Given a request whose header values and body try to break out of their quotes, run commands,
  // and carry C1 controls and bidirectional overrides (which a terminal acts on)
  const injections = [`'; touch ${marker}; echo '`, `$(touch ${marker})`, `\`touch ${marker}\``, `"; touch ${marker}; "`, '\\', '%s%n'];
  const headers: HeaderPairs = injections.map((value, i) => [`X-Inject-${i}`, value]);
  headers.push(['X-C1', 'a\u009b2Jb']);
  const body = Buffer.from(`{"x":"${injections.join(' ')} \u202eevil\u202c \u009b2J"}\n'`, 'utf8');
  // When its curl command runs in a shell
  const command = toCurl(eventOf('POST', headers, body), body, handler.url);
  const run = await runShell(`${command} >/dev/null`);
  // Then nothing but curl ran, and the handler got the exact header values and body bytes
  assert.equal(run.code, 0, run.stderr);
  const got = (await handler.waitFor(1))[0]!;
  assert.ok(got.body.equals(body));
  for (const [name, value] of headers) assert.equal(got.headers[name.toLowerCase()], Buffer.from(value, 'latin1').toString('latin1'), name);
  assert.equal(
    await import('node:fs/promises').then((fs) =>
      fs.stat(marker).then(
        () => true,
        () => false,
      ),
    ),
    false,
    'no injected command ran',
  );
  // And the command itself carries no control character a terminal would act on
  assert.doesNotMatch(command, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
});
