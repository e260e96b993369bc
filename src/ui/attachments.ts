import { resolve } from 'node:path';
import { MftgHooksError } from '../core/errors.js';
import type { SavedFile } from '../core/session-view.js';
import type { FaceView } from '../live/face.js';
import { formatBytes, SAVED_STATE_TEXT } from '../output/format.js';
import type { Line } from './segments.js';

/**
 * The detail view's attachments: `a` lists the message's files through the
 * MFTG API, `s` saves them into `./mftg-attachments/<event id>/`, as `events attachments <id>
 * [--save <dir>]` does. Both go through the view port (the listener asks MFTG with the credentials
 * of its environment); the face only picks the directory and draws the progress.
 */

/** Where `s` saves the files of an event (relative to the directory the listener runs in). */
export const ATTACHMENTS_DIR = 'mftg-attachments';

export function attachmentsDirOf(cwd: string, eventId: string): string {
  return resolve(cwd, ATTACHMENTS_DIR, eventId);
}

/** What the detail view shows of an event's files. */
export type AttachmentsState =
  | { state: 'fetching' }
  | { state: 'listed'; box: string; names: string[] }
  | { state: 'saving'; dir: string; files: SavedFile[] }
  | { state: 'saved'; dir: string; files: SavedFile[] }
  | { state: 'error'; message: string };

/** An error as one line: its message and, for ours, the hint (which variables to set). */
export function errorText(error: unknown): string {
  if (error instanceof MftgHooksError) return error.hint ? `${error.message}: ${error.hint}` : error.message;
  return (error as Error).message ?? String(error);
}

/** The port's attachment intents the details use. */
export type AttachmentsView = Pick<FaceView, 'listAttachments' | 'saveAttachments'>;

/** A view without the intents (none that shows the terminal UI today). */
const unsupported = (): never => {
  throw new Error('this session cannot reach the MFTG API');
};

/** Lists the files of the event's message; `onState` sees `fetching`, then the list or the error. */
export async function listAttachments(view: AttachmentsView, eventId: string, onState: (state: AttachmentsState) => void): Promise<AttachmentsState> {
  let result: AttachmentsState;
  try {
    const listing = await (view.listAttachments?.(eventId, { asking: () => onState({ state: 'fetching' }) }) ?? unsupported());
    result = { state: 'listed', box: listing.box, names: listing.files.map((file) => file.name) };
  } catch (error) {
    result = { state: 'error', message: errorText(error) };
  }
  onState(result);
  return result;
}

/** Saves the files of the event's message into `dir`, reporting each file as it lands. */
export async function saveEventAttachments(view: AttachmentsView, eventId: string, dir: string, onState: (state: AttachmentsState) => void): Promise<AttachmentsState> {
  let result: AttachmentsState;
  try {
    const files: SavedFile[] = [];
    const saved = await (view.saveAttachments?.(eventId, dir, {
      asking: () => onState({ state: 'saving', dir, files: [] }),
      file: (file) => {
        files.push(file);
        onState({ state: 'saving', dir, files: files.slice() });
      },
    }) ?? unsupported());
    result = { state: 'saved', dir: saved.dir, files: saved.files };
  } catch (error) {
    result = { state: 'error', message: errorText(error) };
  }
  onState(result);
  return result;
}

/** One line of status (the notice) for a state. */
export function attachmentsNotice(eventId: string, state: AttachmentsState): { text: string; tone: 'info' | 'ok' | 'fail' | 'warn' } {
  switch (state.state) {
    case 'fetching':
      return { text: 'fetching attachments…', tone: 'info' };
    case 'listed':
      return { text: `${state.names.length} file${state.names.length === 1 ? '' : 's'} in the MFTG ${state.box}${state.names.length > 0 ? ' — s saves them' : ''}`, tone: 'ok' };
    case 'saving':
      return { text: `saving the files of ${eventId} into ${state.dir}…`, tone: 'info' };
    case 'saved': {
      const bad = state.files.filter((file) => file.error !== null).length;
      if (state.files.length === 0) return { text: 'MFTG lists no files for this message', tone: 'warn' };
      return bad > 0
        ? { text: `${bad} of ${state.files.length} files not saved into ${state.dir}`, tone: 'fail' }
        : { text: `saved ${state.files.length} file${state.files.length === 1 ? '' : 's'} into ${state.dir}`, tone: 'ok' };
    }
    case 'error':
      return { text: `attachments: ${state.message}`, tone: 'fail' };
  }
}

/** The detail view's Attachments section (without its title). */
export function attachmentsLines(state: AttachmentsState): Line[] {
  switch (state.state) {
    case 'fetching':
      return [[{ text: '  fetching attachments…', dim: true }]];
    case 'listed':
      if (state.names.length === 0) return [[{ text: `  MFTG lists no files for this message (${state.box})`, dim: true }]];
      return [...state.names.map((name): Line => [{ text: `  ${JSON.stringify(name).slice(1, -1)}` }]), [{ text: `  s saves them into ./${ATTACHMENTS_DIR}/<event id>/`, dim: true }]];
    case 'saving':
    case 'saved': {
      const lines: Line[] = [[{ text: `  ${state.state === 'saving' ? 'saving into' : 'saved into'} `, dim: true }, { text: state.dir }]];
      for (const file of state.files) {
        const size = file.size !== null ? `  ${formatBytes(file.size)}` : '';
        lines.push([
          { text: `  ${JSON.stringify(file.name).slice(1, -1)}${size}  ` },
          file.error ? { text: `${SAVED_STATE_TEXT[file.state]}: ${file.error}`, color: 'red' } : { text: SAVED_STATE_TEXT[file.state], color: 'green' },
        ]);
      }
      if (state.state === 'saved' && state.files.length === 0) lines.push([{ text: '  MFTG lists no files for this message', dim: true }]);
      return lines;
    }
    case 'error':
      return [[{ text: `  ${state.message}`, color: 'red' }]];
  }
}
