import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { MftgHooksError } from '../../src/core/errors.js';
import { applyHeaders, applySet, parseHeaderArgument, parseJsonPath, parseSetArgument, setJsonFields } from '../../src/core/json-edit.js';
import { newId } from '../../src/core/ids.js';
import { editInEditor, editorCommand, replay, resolveReplayTargets } from '../../src/core/replay.js';
import { EventStore } from '../../src/core/store/store.js';
import { startRecordingHandler } from '../helpers/recording-handler.js';
import { updateSettings, writeListener } from '../../src/core/store/state-files.js';
import { tempDir } from '../helpers/temp.js';

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (error) {
    return error instanceof MftgHooksError ? error.code : 'OTHER';
  }
  return undefined;
};

test('JSON paths: dots, [n] indexes, quoted keys', () => {
  assert.deepEqual(parseJsonPath('a.b[0].c'), [{ key: 'a' }, { key: 'b' }, { index: 0 }, { key: 'c' }]);
  assert.deepEqual(parseJsonPath('attachments.1'), [{ key: 'attachments' }, { keyOrIndex: '1' }]);
  assert.deepEqual(parseJsonPath('["odd.key"][2]'), [{ key: 'odd.key' }, { index: 2 }]);
  for (const bad of ['', 'a..b', 'a.', 'a[x]', 'a[1', 'a[1]b'])
    assert.equal(
      code(() => parseJsonPath(bad)),
      'E_USAGE',
      bad,
    );
});

test('--set values are JSON when they parse, else text', () => {
  assert.deepEqual(parseSetArgument('failures=3').value, 3);
  assert.deepEqual(parseSetArgument('a={"b":[1,null]}').value, { b: [1, null] });
  assert.deepEqual(parseSetArgument('messageSubject="123"').value, '123');
  assert.deepEqual(parseSetArgument('messageSubject=PO 4500012345').value, 'PO 4500012345');
  assert.deepEqual(parseSetArgument('x=a=b').value, 'a=b');
  assert.deepEqual(parseSetArgument('x=').value, '');
  assert.equal(
    code(() => parseSetArgument('novalue')),
    'E_USAGE',
  );
  assert.equal(
    code(() => parseSetArgument('=1')),
    'E_USAGE',
  );
});

test('applySet changes exactly the named field, creating containers on the way', () => {
  // Given a document
  const doc: Record<string, unknown> = { a: 1, list: ['x', 'y'], nested: { keep: true } };
  // When paths are set
  applySet(doc, parseSetArgument('list[1]=z'));
  applySet(doc, parseSetArgument('list.2=w'));
  applySet(doc, parseSetArgument('nested.deep.er=1'));
  applySet(doc, parseSetArgument('fresh[0].k=v'));
  applySet(doc, parseSetArgument('a=null'));
  // Then only those changed, in place
  assert.deepEqual(doc, { a: null, list: ['x', 'z', 'w'], nested: { keep: true, deep: { er: 1 } }, fresh: [{ k: 'v' }] });
  assert.deepEqual(Object.keys(doc), ['a', 'list', 'nested', 'fresh']);
  // And impossible paths are refused with a usage error
  assert.equal(
    code(() => applySet(doc, parseSetArgument('list[9]=1'))),
    'E_USAGE',
  );
  assert.equal(
    code(() => applySet(doc, parseSetArgument('list.name=1'))),
    'E_USAGE',
  );
  assert.equal(
    code(() => applySet(doc, parseSetArgument('nested[0]=1'))),
    'E_USAGE',
  );
  assert.equal(
    code(() => applySet({ a: 'text' }, parseSetArgument('a.b=1'))),
    'E_USAGE',
  );
});

test('setJsonFields keeps compact or indented style, trailing newline and BOM; refuses non-JSON', () => {
  const compact = Buffer.from('{"a":1,"b":"x"}');
  assert.equal(setJsonFields(compact, [parseSetArgument('b=y')]).toString(), '{"a":1,"b":"y"}');
  const pretty = Buffer.from('{\n    "a": 1\n}\n');
  assert.equal(setJsonFields(pretty, [parseSetArgument('a=2')]).toString(), '{\n    "a": 2\n}\n');
  const bom = Buffer.from('\uFEFF{"a":1}');
  assert.equal(setJsonFields(bom, [parseSetArgument('a=2')]).toString(), '\uFEFF{"a":2}');
  assert.ok(setJsonFields(compact, []) === compact, 'no --set: the same bytes');
  assert.equal(
    code(() => setJsonFields(Buffer.from([0, 1, 2]), [parseSetArgument('a=1')])),
    'E_NOT_JSON',
  );
  assert.equal(
    code(() => setJsonFields(Buffer.alloc(0), [parseSetArgument('a=1')])),
    'E_NOT_JSON',
  );
  assert.equal(
    code(() => setJsonFields(Buffer.from('"just a string"'), [parseSetArgument('a=1')])),
    'E_USAGE',
  );
});

test("--header replaces every same-named header at the first one's place, appends, or removes", () => {
  const headers: Array<[string, string]> = [
    ['Content-Type', 'application/json'],
    ['X-A', '1'],
    ['x-a', '2'],
    ['User-Agent', 'u'],
  ];
  assert.deepEqual(applyHeaders(headers, [parseHeaderArgument('x-a: new')]), [
    ['Content-Type', 'application/json'],
    ['x-a', 'new'],
    ['User-Agent', 'u'],
  ]);
  assert.deepEqual(applyHeaders(headers, [parseHeaderArgument('X-New:v:w')]), [...headers, ['X-New', 'v:w']]);
  assert.deepEqual(applyHeaders(headers, [parseHeaderArgument('user-agent:')]), headers.slice(0, 3));
  assert.deepEqual(headers[1], ['X-A', '1'], 'the captured headers are not changed');
  for (const bad of ['nocolon', ': v', 'bad name: v'])
    assert.equal(
      code(() => parseHeaderArgument(bad)),
      'E_USAGE',
      bad,
    );
});

test('the editor round trip returns what was saved; an empty file or a failing editor aborts', async () => {
  const dir = await tempDir();
  try {
    // Given a scripted editor that appends to the file, one that empties it, and one that fails
    const script = join(dir.path, 'editor.mjs');
    await writeFile(
      script,
      "import { appendFileSync, writeFileSync } from 'node:fs';\nconst [mode, file] = process.argv.slice(2);\nif (mode === 'append') appendFileSync(file, '+edited');\nif (mode === 'empty') writeFileSync(file, '');\nif (mode === 'fail') process.exit(3);\n",
    );
    const editor = (mode: string): NodeJS.ProcessEnv => ({ ...process.env, VISUAL: '', EDITOR: `"${process.execPath}" "${script}" ${mode}` });
    // When the body is edited
    const edited = await editInEditor(Buffer.from('{"a":1}'), 'event-x', editor('append'));
    // Then the saved bytes come back
    assert.equal(edited.toString(), '{"a":1}+edited');
    await assert.rejects(editInEditor(Buffer.from('x'), 'event-x', editor('empty')), (error: MftgHooksError) => error.code === 'E_EDIT_ABORTED' && /empty/.test(error.message));
    await assert.rejects(editInEditor(Buffer.from('x'), 'event-x', editor('fail')), (error: MftgHooksError) => error.code === 'E_EDIT_ABORTED' && /code 3/.test(error.message));
    // And $VISUAL wins over $EDITOR
    assert.equal(editorCommand({ VISUAL: 'code --wait', EDITOR: 'nano' }), 'code --wait');
    assert.equal(editorCommand({ EDITOR: 'nano' }), 'nano');
  } finally {
    await dir.cleanup();
  }
});

test('replay targets: --to, else the running listener (with routes), else the last run', async () => {
  const dir = await tempDir();
  try {
    // Given nothing known
    assert.equal(await resolveReplayTargets(dir.path, null), null);
    // When a last run is remembered
    await updateSettings(dir.path, { forwardTo: 'http://127.0.0.1:1/last', routes: {} });
    assert.deepEqual(await resolveReplayTargets(dir.path, null), { targets: { forwardTo: 'http://127.0.0.1:1/last', routes: {} }, source: 'last-run' });
    // When a listener runs (this process stands in for it)
    const routes = { 'MESSAGE.SEND.FAILED': 'http://127.0.0.1:1/failed' };
    await writeListener(dir.path, { pid: process.pid, startedAt: new Date().toISOString(), captureUrl: 'http://127.0.0.1:2/tok', publicUrl: null, forwardTo: null, routes });
    assert.deepEqual(await resolveReplayTargets(dir.path, null), { targets: { forwardTo: null, routes }, source: 'listener' });
    // Then --to wins over everything
    assert.deepEqual(await resolveReplayTargets(dir.path, 'http://127.0.0.1:3/to'), { targets: { forwardTo: 'http://127.0.0.1:3/to', routes: {} }, source: 'to' });
  } finally {
    await dir.cleanup();
  }
});

test('the replay service sends many events in arrival order with exact bodies, and stores each attempt', async () => {
  const dir = await tempDir();
  const handler = await startRecordingHandler();
  try {
    // Given 30 stored events (enough for the one-pass body read), one of them cleared away
    const store = await EventStore.open(dir.path);
    await store.openForWriting();
    const bodies: Buffer[] = [];
    const ids: string[] = [];
    const append = async (body: Buffer): Promise<string> => {
      const id = newId();
      await store.appendEvent(
        { id, receivedAt: new Date().toISOString(), method: 'POST', path: '/p?q=1', headers: [['x-n', String(bodies.length)]], remoteAddress: null, size: body.length, mftg: null },
        body,
      );
      return id;
    };
    await append(Buffer.from('before the clear'));
    await store.clear();
    for (let n = 0; n < 30; n++) {
      const body = n % 3 === 0 ? Buffer.alloc(0) : randomBytes(100 + n);
      ids.push(await append(body));
      bodies.push(body);
    }
    await store.close();
    // When all of them are replayed
    const seen: string[] = [];
    const results = await replay({
      storeDir: dir.path,
      selection: { last: 100 },
      to: handler.url,
      sets: [],
      headers: [],
      edit: false,
      timeoutMs: 5000,
      insecure: false,
      onAttempt: (attempt) => seen.push(attempt.eventId),
    });
    // Then every event went out once, in order, byte for byte, to the sub-path
    assert.deepEqual(
      results.map((r) => r.event.id),
      ids,
    );
    assert.deepEqual(seen, ids);
    const received = await handler.waitFor(30);
    received.forEach((req, n) => {
      assert.ok(req.body.equals(bodies[n]!), `body ${n}`);
      assert.equal(req.url, '/hook/p?q=1');
    });
    // And each attempt is stored on its event as an unmodified replay
    const reopened = await EventStore.open(dir.path);
    const listed = await reopened.list({ limit: 100 });
    assert.equal(listed.length, 30);
    for (const event of listed)
      assert.deepEqual(
        event.attempts.map((a) => [a.kind, a.status, a.modified]),
        [['replay', 200, false]],
      );
    await reopened.close();
  } finally {
    await handler.close();
    await dir.cleanup();
  }
});
