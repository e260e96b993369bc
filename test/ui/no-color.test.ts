import assert from 'node:assert/strict';
import { test } from 'node:test';

// Colours must be possible for this check to mean anything: chalk reads FORCE_COLOR when it loads,
// so everything that imports it is loaded after this line.
process.env.FORCE_COLOR = '1';

test('NO_COLOR: no colour codes at all (selection stays visible as inverse); colours otherwise', async () => {
  const { createElement } = await import('react');
  const { EventList } = await import('../../src/ui/components/EventList.js');
  const { ThemeContext } = await import('../../src/ui/components/ScreenLine.js');
  const { themeFor } = await import('../../src/ui/theme.js');
  const { FOLLOWING } = await import('../../src/ui/list-view.js');
  const { rowOf } = await import('../../src/live/model.js');
  const { renderScreen } = await import('./helpers.js');
  const { waitUntil } = await import('../helpers/temp.js');
  const rows = ['MESSAGE.RECEIVED.SUCCESS', 'MESSAGE.SEND.FAILED'].map((eventType, n) =>
    rowOf({
      id: `id${n}`,
      receivedAt: new Date().toISOString(),
      method: 'POST',
      path: '/',
      headers: [],
      remoteAddress: null,
      size: 1,
      mftg: { eventType, messageId: null, partner: null, partnerName: null, station: null, stationName: null, subject: null, failureReason: null, failures: null },
    }),
  );
  const draw = async (env: NodeJS.ProcessEnv): Promise<string> => {
    const list = createElement(EventList, { rows, position: FOLLOWING, height: 3, width: 80, targets: { forwardTo: null, routes: {} }, empty: [] });
    const screen = renderScreen(createElement(ThemeContext.Provider, { value: themeFor(env) }, list), 80, 10);
    const frame = await waitUntil(() => (screen.lastFrame().includes('RECEIVED') ? screen.lastFrame() : null), 'a frame');
    screen.unmount();
    return frame;
  };
  const colourCode = /\u001b\[(3[0-7]|9[0-7]|38;)/;
  const coloured = await draw({});
  assert.match(coloured, colourCode, 'colours when NO_COLOR is not set');
  const plain = await draw({ NO_COLOR: '1' });
  assert.doesNotMatch(plain, colourCode);
  assert.ok(plain.includes('\u001b[7m'), 'the selected row is still inverse');
  assert.equal(plain.replace(/\u001b\[[0-9;]*m/g, ''), coloured.replace(/\u001b\[[0-9;]*m/g, ''));
});
