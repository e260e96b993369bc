import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { promisify } from 'node:util';
import { startRecordingHandler, type RecordingHandler } from './recording-handler.js';
import { tempDir, waitUntil } from './temp.js';

const run = promisify(execFile);

export function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface TmuxServer {
  /** Any tmux command against this server. */
  cmd(...args: string[]): Promise<string>;
  /** The window `ui` as it looks; `joined`: the lines the terminal wrapped joined again (what a mouse copies). */
  screen(options?: { joined?: boolean }): Promise<string>;
  keys(...keys: string[]): Promise<string>;
  /** Polls the screen until `check` holds; the error carries the last screen. */
  waitForScreen(check: (screen: string) => boolean, what: string, options?: { timeoutMs?: number; joined?: boolean }): Promise<{ screen: string; ms: number }>;
}

/**
 * A tmux server of our own (-S, a socket in the test's temp dir), so nothing touches the user's
 * sessions. The tests start one window named `ui` in it.
 */
export function tmuxServer(socket: string): TmuxServer {
  const cmd = (...args: string[]): Promise<string> => run('tmux', ['-S', socket, ...args]).then((r) => r.stdout);
  const screen = (options: { joined?: boolean } = {}): Promise<string> => cmd('capture-pane', '-p', ...(options.joined ? ['-J'] : []), '-t', 'ui');
  return {
    cmd,
    screen,
    keys: (...keys) => cmd('send-keys', '-t', 'ui', ...keys),
    async waitForScreen(check, what, options = {}) {
      const started = Date.now();
      let last = '';
      try {
        await waitUntil(async () => check((last = await screen(options).catch(() => last))), what, options.timeoutMs ?? 10_000);
      } catch (error) {
        throw new Error(`${(error as Error).message}; screen:\n${last}`);
      }
      return { screen: last, ms: Date.now() - started };
    },
  };
}

/**
 * What a terminal test of the live UI starts with: a temp home, a recording handler and a tmux server
 * of its own (socket in the home), all stopped and removed when the test ends.
 */
export async function tmuxTestSetup(t: TestContext): Promise<{ home: Awaited<ReturnType<typeof tempDir>>; handler: RecordingHandler; term: TmuxServer }> {
  const home = await tempDir();
  const handler = await startRecordingHandler();
  const term = tmuxServer(join(home.path, 'tmux.sock'));
  t.after(async () => {
    await term.cmd('kill-server').catch(() => undefined);
    await handler.close();
    await home.cleanup();
  });
  return { home, handler, term };
}
