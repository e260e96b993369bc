import { createHash, randomBytes } from 'node:crypto';
import { constants, createReadStream, createWriteStream } from 'node:fs';
import { copyFile, link, mkdir, rm } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MftgHooksError, RefusedFileName, isErrnoException, usageError } from '../errors.js';
import { mftgDetails } from '../mftg.js';
import { MftgApiClient, type MftgApiClientOptions } from '../mftg-api/client.js';
import type { AttachmentLink, MessageType } from '../mftg-api/types.js';
import type { EventStore } from '../store/store.js';
import { apiOptionsFromEnv } from './settings.js';

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
  if (!type)
    throw usageError(`event ${event.id} has eventType ${details.eventType ?? '(none)'}, not one of ${Object.keys(TYPE_OF_EVENT).join(', ')}`, 'its message box (inbox or outbox) cannot be told');
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
      result = await saveOne(
        api,
        () => (links[index]?.name === name ? links[index] : links.find((l) => l.name === name)),
        dir,
        name,
        async () => {
          if (askedAgain) return false;
          askedAgain = true;
          links = await api.listAttachments(message.type, message.messageId);
          return true;
        },
      );
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

// ---- the faces' details (web inspector, terminal UI): list and stream, nothing written to disk ----

/** Listed links are reused this long before MFTG is asked again (they last about 10 minutes). */
export const ATTACHMENT_LINKS_REUSE_MS = 5 * 60_000;
/** Messages whose links are kept at once (the oldest listing is forgotten first). */
export const ATTACHMENT_LINKS_KEPT = 100;

/** One file of a message as a face lists it: its place in MFTG's list and its name. */
export interface AttachmentFile {
  index: number;
  name: string;
  /** Why it is not offered under that name (see unsafeFileName), or null. */
  refused: string | null;
}

/** `GET /api/events/:id/attachments`: the files of an event's message. The links stay in the process. */
export interface AttachmentListing {
  eventId: string;
  messageId: string;
  box: 'inbox' | 'outbox';
  files: AttachmentFile[];
}

/** One file opened for download: its name and its bytes as they come from MFTG's storage. */
export interface OpenedAttachment {
  name: string;
  body: Readable;
}

/** The files of an event's message saved into a directory (`SessionView.saveAttachments`). */
export interface SavedAttachments {
  eventId: string;
  messageId: string;
  box: 'inbox' | 'outbox';
  dir: string;
  /** Every file MFTG lists, in its order: saved, or why not. */
  files: SavedFile[];
}

/** What a face hears while a message's files are listed or saved. */
export interface AttachmentsProgress {
  /** The event is an MFTG delivery and credentials are set: MFTG is being asked now. */
  asking?: () => void;
  /** One file is done (saved, or why not), as it is done. */
  file?: (file: SavedFile) => void;
}

const boxOf = (type: MessageType): 'inbox' | 'outbox' => (type === 'received' ? 'inbox' : 'outbox');

/** A name refused by unsafeFileName: the faces never offer it as a download. */
export { RefusedFileName };

interface Listed {
  message: EventMessage;
  links: AttachmentLink[];
  at: number;
}

/**
 * A message's files for a face's details (the same as `events attachments`): the
 * list, and one file streamed. The pre-signed URLs never leave this object; a link that expired is
 * asked for again once. The API client is created on first use from `apiOptions()` (which throws
 * E_MFTG_NO_CREDENTIALS without credentials, and is asked again next time).
 */
export class MessageFiles {
  #api: (AttachmentsApi & { close(): Promise<void> }) | null = null;
  readonly #listed = new Map<string, Listed>();
  /** What `unavailable()` found, once it has looked (undefined until then). */
  #unavailable: MftgHooksError | null | undefined;

  constructor(
    private readonly store: () => EventStore,
    private readonly apiOptions: () => MftgApiClientOptions,
    private readonly createApi: (options: MftgApiClientOptions) => AttachmentsApi & { close(): Promise<void> } = (options) => new MftgApiClient(options),
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Whether files can be asked for: null when credentials are set, else why not (E_MFTG_NO_CREDENTIALS).
   * Read once: the environment it comes from does not change while the process runs, and the live
   * UI's bridge asks for it with every batch of elements (an error built each time was 1–2 % of the
   * listener's CPU under a burst).
   */
  unavailable(): MftgHooksError | null {
    if (this.#api) return null;
    if (this.#unavailable === undefined) {
      try {
        this.apiOptions();
        this.#unavailable = null;
      } catch (error) {
        if (!(error instanceof MftgHooksError)) throw error;
        this.#unavailable = error;
      }
    }
    return this.#unavailable;
  }

  #client(): AttachmentsApi {
    this.#api ??= this.createApi(this.apiOptions());
    return this.#api;
  }

  async #list(message: EventMessage): Promise<Listed> {
    const links = await this.#client().listAttachments(message.type, message.messageId);
    const listed = { message, links, at: this.now() };
    this.#listed.delete(message.eventId);
    this.#listed.set(message.eventId, listed);
    while (this.#listed.size > ATTACHMENT_LINKS_KEPT) this.#listed.delete(this.#listed.keys().next().value!);
    return listed;
  }

  /** The files of the event's message, asked of MFTG now (E_USAGE for an event that is no MFTG delivery). */
  async list(idOrPrefix: string, progress: Pick<AttachmentsProgress, 'asking'> = {}): Promise<AttachmentListing> {
    const message = await eventMessage(this.store(), idOrPrefix);
    this.#client();
    progress.asking?.();
    const { links } = await this.#list(message);
    return {
      eventId: message.eventId,
      messageId: message.messageId,
      box: boxOf(message.type),
      files: links.map((link, index) => ({ index, name: link.name, refused: unsafeFileName(link.name) })),
    };
  }

  /**
   * Opens file `index` of the list last shown (listed again when older than
   * ATTACHMENT_LINKS_REUSE_MS). Throws RefusedFileName for an unsafe name, E_MFTG_LINK_EXPIRED when
   * a fresh link expired too, E_MFTG_NOT_FOUND when MFTG no longer lists the file.
   */
  async open(idOrPrefix: string, index: number): Promise<OpenedAttachment> {
    const message = await eventMessage(this.store(), idOrPrefix);
    const known = this.#listed.get(message.eventId);
    let listed = known && this.now() - known.at < ATTACHMENT_LINKS_REUSE_MS ? known : await this.#list(message);
    const first = listed.links[index];
    if (!first)
      throw new MftgHooksError(
        'E_MFTG_NOT_FOUND',
        `MFTG lists ${listed.links.length} file${listed.links.length === 1 ? '' : 's'} for ${message.messageId}, not a file ${index + 1}`,
        'reload the list of files',
      );
    const name = first.name;
    const unsafe = unsafeFileName(name);
    if (unsafe) throw new RefusedFileName(name, unsafe);
    for (let asked = listed === known ? 0 : 1; ; asked++) {
      const link = listed.links[index]?.name === name ? listed.links[index] : listed.links.find((l) => l.name === name);
      if (!link) throw new MftgHooksError('E_MFTG_NOT_FOUND', `MFTG no longer lists ${name} for ${message.messageId}`, 'reload the list of files');
      try {
        return { name, body: await this.#client().openAttachment(link) };
      } catch (error) {
        if (!(error instanceof MftgHooksError) || error.code !== 'E_MFTG_LINK_EXPIRED') throw error;
        if (asked >= 1)
          throw new MftgHooksError(
            'E_MFTG_LINK_EXPIRED',
            `the download link of ${name} expired, and so did a fresh one`,
            "MFTG's links last about 10 minutes: try again; if it keeps happening, check this machine's clock",
          );
        listed = await this.#list(message);
      }
    }
  }

  /**
   * Saves every file of the event's message into `dir` (created if missing), as `events attachments
   * --save` does: byte for byte, never outside `dir`, never over an existing file.
   */
  async save(idOrPrefix: string, dir: string, progress: AttachmentsProgress = {}): Promise<SavedAttachments> {
    const message = await eventMessage(this.store(), idOrPrefix);
    const api = this.#client();
    progress.asking?.();
    const files = await saveAttachments(api, message, dir, progress.file);
    return { eventId: message.eventId, messageId: message.messageId, box: boxOf(message.type), dir, files };
  }

  /** Closes the API client's connections; idempotent. */
  async close(): Promise<void> {
    const api = this.#api;
    this.#api = null;
    await api?.close();
  }
}

/**
 * MessageFiles through MFTG's API: with the client options `apiOptions()` gives (e.g. those
 * `reconcile` runs with), else the environment's credentials, read when the first file is asked for.
 */
export function messageFiles(store: () => EventStore, apiOptions: () => MftgApiClientOptions | null | undefined = () => null, env: () => NodeJS.ProcessEnv = () => process.env): MessageFiles {
  return new MessageFiles(store, () => apiOptions() ?? apiOptionsFromEnv(env()));
}
