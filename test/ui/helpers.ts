import { EventEmitter } from 'node:events';
import { render } from 'ink';
import type { ReactElement } from 'react';
import type { ListenSession } from '../../src/core/session.js';
import { post } from './post.js';
import { waitUntil } from '../helpers/temp.js';

/** A terminal of a given size for Ink (ink-testing-library's is always 100 columns, no rows). */
class SizedStdout extends EventEmitter {
  columns: number;
  rows: number;
  frames: string[] = [];
  last = '';
  constructor(columns: number, rows: number) {
    super();
    this.columns = columns;
    this.rows = rows;
  }
  write = (frame: string): boolean => {
    this.frames.push(frame);
    this.last = frame;
    return true;
  };
}

class FakeStdin extends EventEmitter {
  isTTY = true;
  private data: string | null = null;
  write = (data: string): void => {
    this.data = data;
    this.emit('readable');
    this.emit('data', data);
  };
  read = (): string | null => {
    const data = this.data;
    this.data = null;
    return data;
  };
  setEncoding(): void {}
  setRawMode(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
}

export interface Screen {
  lastFrame(): string;
  /** Types keys (raw terminal bytes: '\r' Enter, '\u001b' Esc, '\u001b[A' up…). */
  press(keys: string): void;
  resize(columns: number, rows: number): void;
  /** Waits for a frame that satisfies `check`, with a deadline; returns it. */
  waitFor(check: (frame: string) => boolean, what: string, timeoutMs?: number): Promise<string>;
  unmount(): void;
}

export const KEY = { up: '\u001b[A', down: '\u001b[B', pageUp: '\u001b[5~', pageDown: '\u001b[6~', home: '\u001b[H', end: '\u001b[F', enter: '\r', escape: '\u001b', tab: '\t', backspace: '\u007f' };

/** Renders `tree` on a terminal `columns` × `rows` cells (Ink debug mode: every frame in full). */
export function renderScreen(tree: ReactElement, columns = 100, rows = 30): Screen {
  const stdout = new SizedStdout(columns, rows);
  const stdin = new FakeStdin();
  const instance = render(tree, {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stderr: new SizedStdout(columns, rows) as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    debug: true,
    exitOnCtrlC: false,
    patchConsole: false,
  });
  return {
    lastFrame: () => stdout.last,
    press: (keys) => stdin.write(keys),
    resize(newColumns, newRows) {
      stdout.columns = newColumns;
      stdout.rows = newRows;
      stdout.emit('resize');
    },
    async waitFor(check, what, timeoutMs = 5_000) {
      try {
        await waitUntil(() => check(stdout.last), what, timeoutMs);
      } catch (error) {
        throw new Error(`${(error as Error).message}; last frame:\n${stdout.last}`);
      }
      return stdout.last;
    },
    unmount() {
      instance.unmount();
      instance.cleanup();
    },
  };
}

/** The lines of a frame, as a terminal shows them. */
export function frameLines(frame: string): string[] {
  return frame.split('\n');
}

/** The screen line that contains `text` (for "this row is selected" checks). */
export function lineWith(frame: string, text: string): string | undefined {
  return frameLines(frame).find((line) => line.includes(text));
}

/** Posts a JSON document to the session's capture URL and resolves once it is captured. */
export async function deliver(session: ListenSession, body: Buffer | object, contentType = 'application/json', path = ''): Promise<string> {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
  const captured = new Promise<string>((resolve) => {
    const off = session.on((element) => {
      if (element.type === 'event' && !element.foreign) {
        off();
        resolve(element.event.id);
      }
    });
  });
  const status = await post(session.captureUrl + path, bytes, ['content-type', contentType]);
  if (status !== 200) throw new Error(`capture answered ${status}`);
  return captured;
}

/** Cell count of a line as the terminal shows it. */
export function cellsOf(line: string): number {
  return [...line].length;
}
