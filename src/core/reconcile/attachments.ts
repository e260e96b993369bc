import { createHash, randomBytes } from 'node:crypto';
import { constants, createReadStream, createWriteStream } from 'node:fs';
import { copyFile, link, mkdir, rm } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MftgHooksError, isErrnoException, usageError } from '../errors.js';
import { mftgDetails } from '../mftg.js';
import type { AttachmentLink, MessageType } from '../mftg-api/types.js';
import type { EventStore } from '../store/store.js';

/**
 * `events attachments <id>`: a stored event's message files, through MFTG's API (received → inbox,
 * sent/failed → outbox). Saved byte for byte under the names MFTG gives them, never outside the
 * directory and never over an existing file.
 */

/** How often a name gets a `-N` suffix before giving up (an existing, different file at each). */
const MAX_NAME_SUFFIX = 999;

/** The part of MftgApiClient used here. */
export interface AttachmentsApi {
  listAttachments(type: MessageType, id: string): Promise<AttachmentLink[]>;
  openAttachment(link: AttachmentLink): Promise<Readable>;
}

/** The message an event is about: its id and the list it lives in. */
export interface EventMessage {
  eventId: string;
  messageId: string;
  type: MessageType;
  /** The S3 keys the webhook named (for the listing). */
  attachmentKeys: string[];
}

const TYPE_OF_EVENT: Record<string, MessageType> = {
  'MESSAGE.RECEIVED.SUCCESS': 'received',
  'MESSAGE.SEND.SUCCESS': 'sent',
  'MESSAGE.SEND.FAILED': 'failed',
};

/** Reads the event and says which message it is; a clear error for a non-MFTG event. */
export async function eventMessage(store: Pick<EventStore, 'getWithBody'>, idOrPrefix: string): Promise<EventMessage> {
  const { event, body } = await store.getWithBody(idOrPrefix);
  const details = mftgDetails(body);
  if (!details?.messageId) throw usageError(`event ${event.id} has no MFTG message id (messageIdentifier or messageAS2ID)`, 'pick an MFTG delivery: `mftg-hooks events list`');
  const type = details.eventType ? TYPE_OF_EVENT[details.eventType] : undefined;
  if (!type) throw usageError(`event ${event.id} has eventType ${details.eventType ?? '(none)'}, not one of ${Object.keys(TYPE_OF_EVENT).join(', ')}`, 'its message box (inbox or outbox) cannot be told');
  return { eventId: event.id, messageId: details.messageId, type, attachmentKeys: details.attachments };
}

/** Why a file name from MFTG cannot be used as is in the directory, or null when it can. */
export function unsafeFileName(name: string): string | null {
  if (name === '') return 'an empty name';
  if (name === '.' || name === '..') return `the name "${name}"`;
  if (name.includes('\0')) return 'a NUL character in the name';
  if (name.includes('/') || name.includes('\\')) return 'a path separator in the name';
  if (/^[A-Za-z]:/.test(name)) return 'a drive letter in the name';
  // Control characters would garble the terminal line that reports the file, and are illegal on Windows.
  if (/[\u0001-\u001f\u007f]/.test(name)) return 'a control character in the name';
  return null;
}

export type SavedState = 'saved' | 'identical' | 'renamed' | 'refused' | 'expired' | 'failed';

export interface SavedFile {
  name: string;
  state: SavedState;
  /** Where it is now (null when not saved). */
  path: string | null;
  size: number | null;
  /** Why not saved. */
  error: string | null;
}

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/** `name-N.ext` (the extension kept so the file still opens with the right program). */
function suffixed(name: string, n: number): string {
  const ext = extname(name);
  const stem = ext === '' || ext === name ? name : name.slice(0, -ext.length);
  return `${stem}-${n}${ext === name ? '' : ext}`;
}

/** Puts `temp` at `dir/name` without ever replacing a file (link fails atomically when it exists). */
async function place(temp: string, dir: string, name: string, digest: string): Promise<{ path: string; state: 'saved' | 'identical' | 'renamed' }> {
  for (let n = 0; n <= MAX_NAME_SUFFIX; n++) {
    const path = join(dir, n === 0 ? name : suffixed(name, n));
    try {
      await link(temp, path).catch(async (error: unknown) => {
        // Filesystems without hard links: an exclusive copy refuses an existing file just as well.
        if (isErrnoException(error) && error.code !== 'EEXIST') await copyFile(temp, path, constants.COPYFILE_EXCL);
        else throw error;
      });
      return { path, state: n === 0 ? 'saved' : 'renamed' };
    } catch (error) {
      if (!isErrnoException(error) || error.code !== 'EEXIST') throw error;
      if ((await sha256(path).catch(() => null)) === digest) return { path, state: 'identical' };
    }
  }
  throw new MftgHooksError('E_STORE_UNWRITABLE', `${dir} already holds ${name} and ${MAX_NAME_SUFFIX} differing copies of it`);
}

/**
 * Downloads every file of a message into `dir` (created if missing). Links that expired are asked
 * for again once (MFTG's pre-signed URLs last about 10 minutes); a second expiry is reported.
 */
export async function saveAttachments(api: AttachmentsApi, message: EventMessage, dir: string, onFile?: (file: SavedFile) => void): Promise<SavedFile[]> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new MftgHooksError('E_STORE_UNWRITABLE', `cannot create ${dir} (${isErrnoException(error) ? error.code : String(error)})`, 'pass --save a directory you can write to');
  }
  let links = await api.listAttachments(message.type, message.messageId);
  let askedAgain = false;
  const results: SavedFile[] = [];
  for (let index = 0; index < links.length; index++) {
    const name = links[index]!.name;
    const unsafe = unsafeFileName(name);
    let result: SavedFile;
    if (unsafe) {
      result = { name, state: 'refused', path: null, size: null, error: `refused: ${unsafe} would escape or garble ${dir}` };
    } else {
      result = await saveOne(api, () => (links[index]?.name === name ? links[index] : links.find((l) => l.name === name)), dir, name, async () => {
        if (askedAgain) return false;
        askedAgain = true;
        links = await api.listAttachments(message.type, message.messageId);
        return true;
      });
    }
    results.push(result);
    onFile?.(result);
  }
  return results;
}

async function saveOne(api: AttachmentsApi, current: () => AttachmentLink | undefined, dir: string, name: string, askAgain: () => Promise<boolean>): Promise<SavedFile> {
  const temp = join(dir, `.${name}.${randomBytes(4).toString('hex')}.part`);
  try {
    for (;;) {
      const found = current();
      if (!found || found.name !== name) return { name, state: 'failed', path: null, size: null, error: 'MFTG no longer lists this file' };
      let size = 0;
      const hash = createHash('sha256');
      try {
        const body = await api.openAttachment(found);
        await pipeline(
          body,
          async function* (chunks: AsyncIterable<Buffer>) {
            for await (const chunk of chunks) {
              size += chunk.length;
              hash.update(chunk);
              yield chunk;
            }
          },
          createWriteStream(temp, { flags: 'wx', mode: 0o600 }),
        );
      } catch (error) {
        await rm(temp, { force: true });
        if (error instanceof MftgHooksError && error.code === 'E_MFTG_LINK_EXPIRED') {
          if (await askAgain()) continue;
          return { name, state: 'expired', path: null, size: null, error: 'the download link expired, and so did a fresh one: run the command again' };
        }
        if (error instanceof MftgHooksError) return { name, state: 'failed', path: null, size: null, error: error.message };
        throw error;
      }
      const placed = await place(temp, dir, name, hash.digest('hex'));
      return { name, state: placed.state, path: placed.path, size, error: null };
    }
  } finally {
    await rm(temp, { force: true });
  }
}
