import { ListenSession, type SessionElement, type SessionOptions } from '../../src/core/session.js';
import { tempDir } from './temp.js';

export const TEST_TOKEN = 'test-token-0123456789';

/** A started in-process listener on a temp store, with every element it emitted. */
export async function startSession(overrides: Partial<SessionOptions> = {}): Promise<{ session: ListenSession; elements: SessionElement[]; storeDir: string; close: () => Promise<void> }> {
  const dir = await tempDir();
  const session = new ListenSession({
    storeDir: dir.path,
    port: 0,
    bind: '127.0.0.1',
    token: TEST_TOKEN,
    maxBodyBytes: 10 * 1024 * 1024,
    targets: { forwardTo: null, routes: {} },
    timeoutMs: 5_000,
    retries: 0,
    retryBackoffMs: 100,
    insecure: false,
    ...overrides,
  });
  const elements: SessionElement[] = [];
  session.on((element) => elements.push(element));
  await session.start();
  return {
    session,
    elements,
    storeDir: dir.path,
    close: async () => {
      await session.close();
      await dir.cleanup();
    },
  };
}
