import { closeSync, constants, copyFileSync, linkSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { isErrnoException } from '../errors.js';
import { FILE_MODE } from './layout.js';

/** Errors of file systems without hard links; segments are then created with an exclusive copy. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK', 'EXDEV']);

/** Writes all of `frame` with one write, or throws. */
export function writeWhole(fd: number, frame: Buffer): void {
  const written = writeSync(fd, frame);
  if (written !== frame.length) throw new Error(`short write: ${written} of ${frame.length} bytes`);
}

/**
 * Creates `path` holding `header`, atomically: the file appears with its header or not at all (a
 * temporary file is written, then hard-linked into place, which fails if the name is taken). Returns
 * a descriptor open for appending, or null when something else already has that name.
 */
export function createExclusive(path: string, header: Buffer, tag: string): number | null {
  const temp = `${path}.${tag}.tmp`;
  let fd = openSync(temp, 'ax', FILE_MODE);
  let keep = false;
  try {
    const written = writeSync(fd, header);
    if (written !== header.length) throw new Error(`short write: ${written} of ${header.length} bytes`);
    try {
      linkSync(temp, path);
    } catch (error) {
      if (isErrnoException(error) && error.code === 'EEXIST') return null;
      if (!isErrnoException(error) || !NO_HARD_LINKS.has(error.code ?? '')) throw error;
      try {
        copyFileSync(temp, path, constants.COPYFILE_EXCL);
      } catch (copyError) {
        if (isErrnoException(copyError) && copyError.code === 'EEXIST') return null;
        throw copyError;
      }
      closeSync(fd);
      fd = openSync(path, 'a', FILE_MODE);
    }
    keep = true;
    return fd;
  } finally {
    if (!keep) closeSync(fd);
    try {
      unlinkSync(temp);
    } catch {
      // already gone
    }
  }
}
