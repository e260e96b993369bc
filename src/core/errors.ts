/**
 * Typed errors with a stable `code` and a hint for the user. Only `src/main.ts` turns them into
 * exit codes: usage errors exit 2, everything else 1.
 */
export type ErrorCode =
  | 'E_USAGE'
  // The MFTG REST API (src/core/mftg-api/).
  | 'E_MFTG_NO_CREDENTIALS'
  | 'E_MFTG_AUTH'
  | 'E_MFTG_UNREACHABLE'
  | 'E_MFTG_TIMEOUT'
  | 'E_MFTG_NOT_FOUND'
  | 'E_MFTG_LINK_EXPIRED'
  | 'E_MFTG_API'
  | 'E_PORT_IN_USE'
  | 'E_BIND'
  | 'E_STORE_UNWRITABLE'
  | 'E_STORE_UNREADABLE'
  | 'E_STORE_BUSY'
  | 'E_EVENT_NOT_FOUND'
  | 'E_AMBIGUOUS_ID'
  | 'E_NO_TARGET'
  | 'E_NO_LISTENER'
  | 'E_NOT_JSON'
  | 'E_EDIT_ABORTED'
  | 'E_TUNNEL';

export class MftgHooksError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MftgHooksError';
    this.code = code;
    this.hint = hint;
  }

  /** Usage errors (bad flags, bad values) exit with 2; every other failure with 1. */
  get exitCode(): 1 | 2 {
    return this.code === 'E_USAGE' ? 2 : 1;
  }
}

export function usageError(message: string, hint?: string): MftgHooksError {
  return new MftgHooksError('E_USAGE', message, hint);
}

export function isErrnoException(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string';
}

/** The store directory cannot be used; the hint says how to pick another. */
export function storeError(code: 'E_STORE_UNWRITABLE' | 'E_STORE_UNREADABLE', dir: string, error: unknown): MftgHooksError {
  const reason = isErrnoException(error) ? error.code : String(error);
  return new MftgHooksError(
    code,
    `cannot ${code === 'E_STORE_UNWRITABLE' ? 'write' : 'read'} the event store at ${dir} (${reason})`,
    'pass --store <dir> (or set MFTG_HOOKS_HOME) to a directory you own',
    { cause: error },
  );
}

/** A message's file whose name would escape the directory it is saved in (`../x`, `/etc/x`, `C:x`, NUL…). */
export class RefusedFileName extends MftgHooksError {
  constructor(
    readonly fileName: string,
    readonly reason: string,
  ) {
    super('E_USAGE', `refused: ${reason} (${JSON.stringify(fileName)})`, "save the message's files with `mftg-hooks events attachments <id> --save <dir>` to see the rest");
  }
}
