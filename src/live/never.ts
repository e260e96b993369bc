/**
 * The default branch of a switch over session elements (or any union): a new member that a face
 * forgot fails to compile here instead of being ignored silently.
 */
export function assertNever(value: never): never {
  throw new Error(`unexpected value ${JSON.stringify(value)}`);
}
