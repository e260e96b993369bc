import type { TestContext } from 'node:test';
import { createElement } from 'react';
import { DISABLED_TUNNEL, type SessionOptions, type TunnelLike, type TunnelState } from '../../src/core/session.js';
import { App, type AppProps, type CopyFunction } from '../../src/ui/App.js';
import type { CopyMethod } from '../../src/ui/clipboard.js';
import { LiveModel } from '../../src/live/model.js';
import { startRecordingHandler, type RecordingHandler } from '../helpers/recording-handler.js';
import { startSession } from '../helpers/session.js';
import { deliver, renderScreen, type Screen } from './helpers.js';

/** What a UI test gets: the screen, the listener behind it, the handler it forwards to. */
export interface Fixture {
  screen: Screen;
  handler: RecordingHandler;
  session: Awaited<ReturnType<typeof startSession>>['session'];
  storeDir: string;
  ids: string[];
  quits: () => number;
  /** Times the UI asked to quit at once (a second Ctrl+C). */
  quitsNow: () => number;
  copied: string[];
  model: LiveModel;
}

/** A real listener on a temp store and a recording handler; `seed` is delivered before the UI starts. */
export async function setup(
  t: TestContext,
  options: { seed?: Array<Buffer | object>; columns?: number; rows?: number; copyMethod?: CopyMethod; session?: Partial<SessionOptions>; forward?: boolean; app?: Partial<AppProps> } = {},
): Promise<Fixture> {
  const handler = await startRecordingHandler();
  const started = await startSession({ targets: { forwardTo: options.forward === false ? null : handler.url, routes: {} }, ...options.session });
  const ids: string[] = [];
  for (const body of options.seed ?? []) ids.push(await deliver(started.session, body, Buffer.isBuffer(body) ? 'application/octet-stream' : 'application/json'));
  if (options.forward !== false && options.session?.targets === undefined) await handler.waitFor(ids.length);
  const view = started.session;
  const model = new LiveModel(view);
  let quits = 0;
  let quitsNow = 0;
  const copied: string[] = [];
  const copy: CopyFunction = async (text) => {
    copied.push(text);
    return options.copyMethod === 'none' ? { method: 'none', reason: 'no clipboard tool' } : { method: options.copyMethod ?? 'xclip' };
  };
  const screen = renderScreen(createElement(App, { model, view, onQuit: () => quits++, onQuitNow: () => quitsNow++, copy, ...options.app }), options.columns ?? 100, options.rows ?? 30);
  t.after(async () => {
    screen.unmount();
    model.dispose();
    await started.close();
    await handler.close().catch(() => undefined);
  });
  return { screen, handler, session: started.session, storeDir: started.storeDir, ids, quits: () => quits, quitsNow: () => quitsNow, copied, model };
}

/** A tunnel the test drives by hand. */
export class HandTunnel implements TunnelLike {
  state: TunnelState = { ...DISABLED_TUNNEL, state: 'connecting' };
  private readonly listeners = new Set<(state: TunnelState) => void>();
  onState(listener: (state: TunnelState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  set(state: Partial<TunnelState>): void {
    this.state = { ...this.state, ...state };
    for (const listener of this.listeners) listener(this.state);
  }
  start(): void {
    this.set({});
  }
  retries = 0;
  retryNow(): void {
    this.retries++;
  }
  async close(): Promise<void> {}
}
