import { execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { eventually, within } from './common.js';
import { BIN, memoryOf, spawnTracked, stopChild } from './processes.js';

/** The live UI's list header: on screen in the list, gone in the help screen. */
export const LIST_MARKER = 'EVENT TYPE';
/** The first line of the `?` help screen. */
export const HELP_MARKER = 'live view — keys';
/** A key not answered within this counts as unanswered (Infinity). */
export const KEY_TIMEOUT_MS = 3_000;

/** Terminal output as text: escape sequences (CSI, OSC, charset and mode switches) removed. */
export function stripAnsi(text: string): string {
  return text.replace(/\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b\[[0-?]*[ -/]*[@-~]|\u001b[()][0-9A-Za-z]|\u001b[=>78cDEHM]/g, '');
}

/** True when util-linux `script` can give a child a pseudo-terminal here. */
export function ptyAvailable(): boolean {
  try {
    execFileSync('script', ['-qfec', 'true', '/dev/null'], { stdio: 'ignore', timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
}

/** `listen` with its live UI in a 100×30 pseudo-terminal, read as a user would see it. */
export interface UiListener {
  child: ChildProcess;
  /** performance.now() at spawn. */
  startedAt: number;
  /** Milliseconds from spawn to the first list screen with the capture URL in the header. */
  readyMs: number;
  localUrl: string;
  /** The highest `captured N` the header showed. */
  captured(): number;
  /** Writes `key`; resolves with the ms until `marker` shows up in the output that follows (Infinity after KEY_TIMEOUT_MS). */
  press(key: string, marker: string): Promise<number>;
  /** Resolves with performance.now() when the output from now on matches `pattern`; rejects after `timeoutMs`. */
  waitForText(pattern: RegExp, timeoutMs: number): Promise<number>;
  /** RSS and peak RSS of the listener process, in MB. */
  memory(): Promise<{ rssMb: number; peakMb: number }>;
  /** Quits with `q`; resolves with the exit code (null if it had to be killed). */
  quit(): Promise<number | null>;
}

/**
 * Starts `mftg-hooks listen <args>` through util-linux `script` (CI=false so Ink draws) and resolves
 * at its first list screen; null when that does not come within `timeoutMs` (`why` says what showed).
 * The output is read chunk by chunk as it arrives and never re-scanned, so the reader keeps up with
 * the UI and never makes it wait on a full terminal buffer.
 */
export async function startUiListener(args: string[], options: { nodeArgs?: string[]; timeoutMs?: number } = {}): Promise<UiListener | { why: string }> {
  const quote = (arg: string): string => `'${arg.replace(/'/g, `'\\''`)}'`;
  const command = ['stty cols 100 rows 30 &&', 'exec env CI=false TERM=xterm-256color', ...[process.execPath, ...(options.nodeArgs ?? []), BIN, 'listen', ...args].map(quote)].join(' ');
  const started = performance.now();
  const child = spawnTracked('script', ['-qfec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const screen = {
    tail: '',
    url: null as string | null,
    listShown: false,
    captured: 0,
    marker: null as string | null,
    onMarker: (): void => undefined,
    pattern: null as RegExp | null,
    onPattern: (): void => undefined,
  };
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const text = stripAnsi(screen.tail + chunk);
    // What a marker or an escape sequence split across two chunks needs.
    screen.tail = (screen.tail + chunk).slice(-256);
    screen.url ??= /local (http:\/\/127\.0\.0\.1:\d+\/\S+)/.exec(text)?.[1] ?? null;
    if (text.includes(LIST_MARKER)) screen.listShown = true;
    for (const match of text.matchAll(/captured (\d+)/g)) screen.captured = Math.max(screen.captured, Number(match[1]));
    if (screen.marker !== null && text.includes(screen.marker)) {
      screen.marker = null;
      screen.onMarker();
    }
    if (screen.pattern !== null && screen.pattern.test(text)) {
      screen.pattern = null;
      screen.onPattern();
    }
  });
  child.stderr!.resume();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const kill = async (): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.stdin!.write('q');
    const code = await within(exited, 10_000, 'timeout' as const);
    // Killing `script` hangs up the terminal, which ends the listener too.
    return code === 'timeout' ? (await stopChild(child, 'SIGKILL'), null) : code;
  };
  if (!(await eventually(() => screen.url !== null && screen.listShown, options.timeoutMs ?? 15_000, 5))) {
    const why = `no list screen within ${options.timeoutMs ?? 15_000} ms; the terminal showed: ${JSON.stringify(stripAnsi(screen.tail).slice(-300))}`;
    await kill();
    return { why };
  }
  const readyMs = performance.now() - started;
  return {
    child,
    startedAt: started,
    readyMs,
    localUrl: screen.url!,
    captured: () => screen.captured,
    press: (key, marker) =>
      new Promise((resolve) => {
        const pressed = performance.now();
        const timer = setTimeout(() => {
          screen.marker = null;
          resolve(Number.POSITIVE_INFINITY);
        }, KEY_TIMEOUT_MS);
        // Only what the terminal shows after the key counts.
        screen.tail = '';
        screen.marker = marker;
        screen.onMarker = () => {
          clearTimeout(timer);
          resolve(performance.now() - pressed);
        };
        child.stdin!.write(key);
      }),
    waitForText: (pattern, timeoutMs) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          screen.pattern = null;
          reject(new Error(`the live UI did not show ${String(pattern)} within ${timeoutMs} ms`));
        }, timeoutMs);
        screen.pattern = pattern;
        screen.onPattern = () => {
          clearTimeout(timer);
          resolve(performance.now());
        };
      }),
    async memory() {
      // The listener is the process `script` started (the shell execs it).
      const pid = Number(readFileSync(`/proc/${child.pid!}/task/${child.pid!}/children`, 'utf8').trim().split(/\s+/)[0]);
      return memoryOf(pid);
    },
    quit: kill,
  };
}
