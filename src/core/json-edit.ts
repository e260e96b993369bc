import { MftgHooksError, usageError } from './errors.js';
import type { HeaderPairs } from './types.js';

/**
 * The small edits `replay` and `trigger` make to a request: `--set json.path=value` on a JSON body
 * and `--header name:value`. Pure and light: the CLI validates flag values with these at parse time.
 */

// ---- --set json.path=value ---------------------------------------------------------------------

/** One step of a JSON path: an object key, an array index, or a dot segment of digits (either). */
export type PathSegment = { key: string } | { index: number } | { keyOrIndex: string };

/** `--set path=value`, parsed. */
export interface SetInstruction {
  /** As typed, for messages. */
  path: string;
  segments: PathSegment[];
  value: unknown;
}

/**
 * Parses `a.b[0].c`, `attachments.1`, `["odd.key"].x`. Dots separate keys; `[n]` is an array index;
 * `["…"]` is a key that may hold dots or brackets; a dot segment of digits indexes an array, or is a
 * key in an object.
 */
export function parseJsonPath(path: string): PathSegment[] {
  const segments: PathSegment[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw usageError(`--set ${path}: ${why}`, 'write paths like messageSubject, attachments[0] or a.b.c');
  };
  if (path === '') fail('the path is empty');
  while (i < path.length) {
    if (path[i] === '[') {
      const close = path.indexOf(']', i);
      if (close < 0) fail('a [ is not closed');
      const inner = path.slice(i + 1, close);
      if (/^\d+$/.test(inner)) segments.push({ index: Number(inner) });
      else if (/^"(?:[^"\\]|\\.)*"$/.test(inner)) segments.push({ key: JSON.parse(inner) as string });
      else fail(`[${inner}] is neither an index nor a "quoted key"`);
      i = close + 1;
      if (i < path.length && path[i] !== '.' && path[i] !== '[') fail(`unexpected ${path[i]} after ]`);
      if (path[i] === '.') {
        i++;
        if (i >= path.length) fail('the path ends with a dot');
      }
      continue;
    }
    let end = i;
    while (end < path.length && path[end] !== '.' && path[end] !== '[') end++;
    const word = path.slice(i, end);
    if (word === '') fail('an empty key (two dots in a row?)');
    segments.push(/^\d+$/.test(word) ? { keyOrIndex: word } : { key: word });
    i = end;
    if (path[i] === '.') {
      i++;
      if (i >= path.length) fail('the path ends with a dot');
    }
  }
  return segments;
}

/** `--set path=value`: the value is JSON when it parses as JSON, otherwise the text itself. */
export function parseSetArgument(text: string): SetInstruction {
  const at = text.indexOf('=');
  if (at <= 0) throw usageError(`--set ${text}: expected json.path=value`, 'e.g. --set messageSubject="PO 123" or --set failures=3');
  const path = text.slice(0, at).trim();
  const raw = text.slice(at + 1);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    value = raw;
  }
  return { path, segments: parseJsonPath(path), value };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Sets one path in a parsed JSON document (objects and arrays are created on the way). */
export function applySet(doc: unknown, instruction: SetInstruction): void {
  const { segments, path } = instruction;
  if (doc === null || typeof doc !== 'object') throw usageError(`--set ${path}: the body is ${describe(doc)}, not a JSON object or array`);
  let container = doc as Record<string, unknown> | unknown[];
  for (let n = 0; n < segments.length; n++) {
    const segment = segments[n]!;
    const last = n === segments.length - 1;
    const where = `--set ${path}`;
    let slot: string | number;
    if (Array.isArray(container)) {
      const index = 'index' in segment ? segment.index : 'keyOrIndex' in segment ? Number(segment.keyOrIndex) : null;
      if (index === null) throw usageError(`${where}: "${(segment as { key: string }).key}" names a key, but that part of the body is an array`);
      if (index > container.length) throw usageError(`${where}: index ${index} is past the end of an array of ${container.length}`);
      slot = index;
    } else {
      if ('index' in segment) throw usageError(`${where}: [${segment.index}] indexes an array, but that part of the body is an object`);
      slot = 'key' in segment ? segment.key : segment.keyOrIndex;
    }
    if (last) {
      (container as Record<string | number, unknown>)[slot] = instruction.value;
      return;
    }
    let next = (container as Record<string | number, unknown>)[slot];
    if (next === undefined || next === null) {
      next = 'index' in segments[n + 1]! ? [] : {};
      (container as Record<string | number, unknown>)[slot] = next;
    } else if (typeof next !== 'object') {
      throw usageError(`${where}: cannot go into ${describe(next)} at ${String(slot)}`);
    }
    container = next as Record<string, unknown> | unknown[];
  }
}

/**
 * Applies `--set` instructions to a JSON body and serialises it again, keeping the original's
 * indentation, trailing newline and byte order mark. A body that is not JSON is an error.
 */
export function setJsonFields(body: Buffer, instructions: SetInstruction[], what = 'the body'): Buffer {
  if (instructions.length === 0) return body;
  let text = body.toString('utf8');
  const bom = text.startsWith('\uFEFF');
  if (bom) text = text.slice(1);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new MftgHooksError('E_NOT_JSON', `${what} is not JSON, so --set cannot change it`, 'use --edit to change any body in your editor');
  }
  for (const instruction of instructions) applySet(doc, instruction);
  const indent = /^[[{][ \t]*\r?\n([ \t]+)/.exec(text.trimStart())?.[1] ?? '';
  const trailing = /\r?\n$/.exec(text)?.[0] ?? '';
  return Buffer.from((bom ? '\uFEFF' : '') + JSON.stringify(doc, null, indent) + trailing, 'utf8');
}

// ---- --header k:v ------------------------------------------------------------------------------

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** `--header name:value`; an empty value (`name:`) removes the header. */
export function parseHeaderArgument(text: string): [name: string, value: string] {
  const at = text.indexOf(':');
  const name = at < 0 ? '' : text.slice(0, at).trim();
  if (at <= 0 || !HEADER_NAME.test(name)) throw usageError(`--header ${text}: expected name:value with a valid header name`, 'e.g. --header "content-type: application/json"');
  const value = text.slice(at + 1).trim();
  if (/[\r\n\0]/.test(value)) throw usageError(`--header ${name}: the value may not contain line breaks`);
  return [name, value];
}

/**
 * Each override replaces every header of the same name (case-insensitive) at the place of the
 * first one, or is appended; an empty value removes the header.
 */
export function applyHeaders(headers: HeaderPairs, overrides: Array<[string, string]>): HeaderPairs {
  let result: HeaderPairs = headers.map(([name, value]) => [name, value]);
  for (const [name, value] of overrides) {
    const lower = name.toLowerCase();
    const next: HeaderPairs = [];
    let placed = false;
    for (const pair of result) {
      if (pair[0].toLowerCase() !== lower) next.push(pair);
      else if (!placed && value !== '') next.push([name, value]);
      if (pair[0].toLowerCase() === lower) placed = true;
    }
    if (!placed && value !== '') next.push([name, value]);
    result = next;
  }
  return result;
}
