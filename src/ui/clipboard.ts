import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

/** OSC 52 payloads above this are refused by many terminals (and tmux): show the text instead. */
export const OSC52_MAX_BYTES = 74_000;
/** A clipboard tool that does not finish in this time is given up on. */
export const CLIPBOARD_TIMEOUT_MS = 2_000;

export type CopyMethod = 'pbcopy' | 'wl-copy' | 'xclip' | 'xsel' | 'clip' | 'osc52' | 'none';

export interface CopyResult {
  method: CopyMethod;
  /** Why no clipboard was reached (method `none`), for the status line. */
  reason?: string;
}

export interface CopyOptions {
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  /** Writes an escape sequence to the terminal; absent when stdout is not a terminal. */
  writeToTerminal?: ((data: string) => void) | null;
}

interface Tool {
  method: Exclude<CopyMethod, 'osc52' | 'none'>;
  command: string;
  args: string[];
}

/** The clipboard tools worth trying here, best first. */
export function clipboardTools(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): Tool[] {
  if (platform === 'darwin') return [{ method: 'pbcopy', command: 'pbcopy', args: [] }];
  if (platform === 'win32') return [{ method: 'clip', command: 'clip.exe', args: [] }];
  const tools: Tool[] = [];
  if (env.WAYLAND_DISPLAY) tools.push({ method: 'wl-copy', command: 'wl-copy', args: [] });
  if (env.DISPLAY) {
    tools.push({ method: 'xclip', command: 'xclip', args: ['-selection', 'clipboard'] });
    tools.push({ method: 'xsel', command: 'xsel', args: ['--clipboard', '--input'] });
  }
  return tools;
}

async function findOnPath(command: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

function runTool(path: string, args: string[], text: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  return new Promise((resolve) => {
    // xclip and wl-copy keep a child alive to serve the selection: never wait for their output.
    const child = spawn(path, args, { env, stdio: ['pipe', 'ignore', 'ignore'], detached: false });
    const timer = setTimeout(() => {
      child.kill();
      resolve(false);
    }, CLIPBOARD_TIMEOUT_MS);
    child.on('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code === 0);
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(text);
  });
}

/** The OSC 52 "set clipboard" sequence for `text`. */
export function osc52(text: string): string {
  return `\u001b]52;c;${Buffer.from(text, 'utf8').toString('base64')}\u0007`;
}

/**
 * Puts `text` on the clipboard: a clipboard tool when one is installed (pbcopy, wl-copy, xclip,
 * xsel, clip), else the terminal's OSC 52 sequence (works over SSH in most terminals, if allowed),
 * else nothing. Says which, so the UI can tell the user.
 */
export async function copyText(text: string, options: CopyOptions = {}): Promise<CopyResult> {
  const env = options.env ?? process.env;
  for (const tool of clipboardTools(env, options.platform ?? process.platform)) {
    const path = await findOnPath(tool.command, env);
    if (path && (await runTool(path, tool.args, text, env))) return { method: tool.method };
  }
  if (!options.writeToTerminal) return { method: 'none', reason: 'no clipboard tool (pbcopy, wl-copy, xclip, xsel) and no terminal' };
  if (Buffer.byteLength(text) > OSC52_MAX_BYTES) return { method: 'none', reason: `no clipboard tool, and ${Math.round(Buffer.byteLength(text) / 1024)} KiB is too large for OSC 52` };
  options.writeToTerminal(osc52(text));
  return { method: 'osc52' };
}
