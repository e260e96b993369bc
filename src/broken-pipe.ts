let handler: (() => void) | null = null;

/** A long-running command (listen) stops gracefully instead when its stdout pipe closes. */
export function setBrokenPipeHandler(stop: () => void): void {
  handler = stop;
}

/** The handler a command set, or null: then the entry ends the process quietly. */
export function brokenPipeHandler(): (() => void) | null {
  return handler;
}
