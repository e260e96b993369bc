import assert from 'node:assert/strict';
import { test } from 'node:test';
import { render } from 'ink-testing-library';
import { createElement } from 'react';
import { DISABLED_TUNNEL } from '../../src/core/session.js';
import { EventList } from '../../src/ui/components/EventList.js';
import { Header } from '../../src/ui/components/Header.js';
import { HelpBar } from '../../src/ui/components/HelpBar.js';
import { TextPane } from '../../src/ui/components/TextPane.js';
import { FOLLOWING } from '../../src/ui/list-view.js';
import { rowOf, type EventRow, type LiveSnapshot } from '../../src/live/model.js';
import { waitUntil } from '../helpers/temp.js';

const targets = { forwardTo: 'http://127.0.0.1:3000/hook', routes: {} };

function rows(count: number): EventRow[] {
  return Array.from({ length: count }, (_, n) =>
    rowOf({
      id: `id${String(n).padStart(6, '0')}`,
      receivedAt: new Date().toISOString(),
      method: 'POST',
      path: '/',
      headers: [],
      remoteAddress: null,
      size: 10,
      mftg: {
        eventType: 'MESSAGE.SEND.SUCCESS',
        messageId: `<${n}@mftgateway.com>`,
        partner: 'P',
        partnerName: null,
        station: 'S',
        stationName: null,
        subject: null,
        failureReason: null,
        failures: null,
      },
    }),
  );
}

async function frameOf(element: ReturnType<typeof createElement>): Promise<string> {
  const { lastFrame, unmount } = render(element);
  const frame = await waitUntil(() => lastFrame(), 'a frame');
  unmount();
  return frame;
}

test('EventList renders only the rows that fit, newest at the bottom, with column titles', async () => {
  const frame = await frameOf(createElement(EventList, { rows: rows(5_000), position: FOLLOWING, height: 10, width: 100, targets, empty: [] }));
  const lines = frame.split('\n');
  assert.equal(lines.length, 11);
  assert.match(lines[0]!, /^ {2}TIME +EVENT TYPE +MESSAGE ID +PARTNER → STATION +RESULT/);
  assert.ok(lines[1]!.includes('<4990@mftgateway'));
  assert.ok(lines[10]!.startsWith('›') && lines[10]!.includes('<4999@mftgateway'));
  assert.ok(lines[10]!.includes('forwarding…'));
});

test('EventList shows the empty text when there is no row', async () => {
  const frame = await frameOf(createElement(EventList, { rows: [], position: FOLLOWING, height: 4, width: 100, targets, empty: [[{ text: 'No events yet.' }]] }));
  assert.ok(frame.includes('No events yet.'));
  assert.equal(frame.split('\n').length, 5);
});

test('Header shows the state and the counts; HelpBar the keys; TextPane a scrolled window', async () => {
  const snapshot: LiveSnapshot = {
    version: 1,
    rows: [],
    loading: true,
    ready: true,
    localUrl: 'http://127.0.0.1:1/tok',
    tunnel: DISABLED_TUNNEL,
    publicCaptureUrl: null,
    targets,
    stats: { captured: 1, delivered: 0, failed: 0, waiting: 0, rejected: 0, rejectedByReason: {}, attempts: { ok: 1, failed: 0 } },
    notices: [],
    clears: 0,
    store: '/tmp/x',
  };
  const header = await frameOf(createElement(Header, { snapshot, width: 100, now: 0 }));
  assert.ok(header.includes('captured 1  forwarded ok 0  failed 0  waiting 0  rejected 0\n'), header);
  assert.ok(header.includes('attempts 1 ok, 0 failed (forwards, retries and replays)  reading stored events…'), header);
  const bar = await frameOf(createElement(HelpBar, { mode: 'detail', width: 100 }));
  assert.ok(bar.startsWith('↑↓ move  Esc back  Tab section  r replay  c curl  a files  ? help'), bar);
  assert.ok(!bar.includes('quit'), bar);
  const pane = await frameOf(createElement(TextPane, { lines: Array.from({ length: 50 }, (_, i) => [{ text: `line ${i}` }]), scroll: 20, height: 5 }));
  assert.deepEqual(pane.split('\n'), ['line 20', 'line 21', 'line 22', 'line 23', 'line 24']);
});
