import { chmod, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { printfFormat, shellQuote, toCurl } from '../output/export/curl.js';
import type { CapturedEvent } from '../core/types.js';

/** Where `c` writes curl commands, inside the store directory (0700; files 0600: bodies are business data). */
export const CURL_DIR = 'curl';
/** Curl files kept there; older ones are removed when a new one is written. */
export const CURL_FILES_KEPT = 20;

/** A curl command as the curl view shows it. */
export interface ScreenCurl {
  /**
   * One line, printable ASCII only, so that what a terminal soft-wraps and a mouse copies is the
   * command itself: no line breaks or padding of the UI inside it, no byte the terminal could change.
   */
  line: string;
  /** False when the command needed escaping to be shown (a tab in a header value): run the file then. */
  copyable: boolean;
}

const CONTINUATION = ' \\\n  ';
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * The curl command of `toCurl` on one line. `toCurl` breaks it with `\` continuations and keeps a
 * text body inline between single quotes; a body with line breaks, non-ASCII text or control
 * characters goes through `printf` octal escapes instead (byte for byte the same body), so the line
 * holds nothing but printable ASCII. Header values cannot hold line breaks (HTTP forbids them), so the
 * continuations are the only other line breaks.
 */
export function screenCurl(event: CapturedEvent, body: Buffer, url: string): ScreenCurl {
  const curl = toCurl(event, body, url);
  let line = curl.split(CONTINUATION).join(' ');
  const inline = `${CONTINUATION}--data-raw ${shellQuote(body.toString('utf8'))}`;
  if (!PRINTABLE_ASCII.test(line) && body.length > 0 && curl.endsWith(inline)) {
    const head = curl.slice(0, -inline.length).split(CONTINUATION).join(' ');
    line = `printf '${printfFormat(body).replace(/'/g, `'\\''`)}' | ${head} --data-binary @-`;
  }
  return { line, copyable: PRINTABLE_ASCII.test(line) };
}

/**
 * Writes the command (as `toCurl` makes it, runnable with `sh FILE`) to `<store>/curl/<id>.sh`,
 * readable by the user only; keeps the newest CURL_FILES_KEPT files. Returns the path.
 */
export async function writeCurlFile(storeDir: string, eventId: string, curl: string): Promise<string> {
  const dir = join(storeDir, CURL_DIR);
  await mkdir(dir, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  const path = join(dir, `${eventId}.sh`);
  await writeFile(path, `#!/bin/sh\n# mftg-hooks: event ${eventId} as curl (sh ${path})\n${curl}\n`, { mode: 0o600 });
  // writeFile keeps the mode of a file that already exists.
  await chmod(path, 0o600);
  await pruneCurlFiles(dir);
  return path;
}

async function pruneCurlFiles(dir: string): Promise<void> {
  const names = (await readdir(dir)).filter((name) => name.endsWith('.sh'));
  if (names.length <= CURL_FILES_KEPT) return;
  const dated = await Promise.all(names.map(async (name) => ({ name, at: (await stat(join(dir, name)).catch(() => null))?.mtimeMs ?? 0 })));
  dated.sort((a, b) => b.at - a.at || (a.name < b.name ? 1 : -1));
  await Promise.all(dated.slice(CURL_FILES_KEPT).map(({ name }) => rm(join(dir, name), { force: true })));
}
