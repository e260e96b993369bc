import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MftgHooksError } from './errors.js';
import { Attempts, replayRequest } from './delivery/attempts.js';
import { targetFor, type Targets } from './delivery/forwarder.js';
import { createDispatcher, joinTarget } from './http-send.js';
import { parseJsonObject } from './mftg.js';
import { readListener, readSettings } from './store/state-files.js';
import { EventStore } from './store/store.js';
import type { EventRecord, ForwardAttempt } from './types.js';
import { applyHeaders, setJsonFields, type SetInstruction } from './json-edit.js';

/** Above this many events, bodies are found in one pass over the store rather than one search each. */
const BULK_READ_THRESHOLD = 20;

// ---- --edit ------------------------------------------------------------------------------------

/** `$VISUAL`, then `$EDITOR`, then the platform's fallback (as git does). */
export function editorCommand(env: NodeJS.ProcessEnv = process.env): string {
  const chosen = env.VISUAL?.trim() || env.EDITOR?.trim();
  return chosen || (process.platform === 'win32' ? 'notepad' : 'vi');
}

function fileExtension(body: Buffer): string {
  if (parseJsonObject(body) !== null) return '.json';
  const text = body.toString('utf8');
  return Buffer.from(text, 'utf8').equals(body) && !text.includes('\0') ? '.txt' : '.bin';
}

/**
 * Opens the body in the user's editor (a private temp file) and returns what was saved. The editor
 * command may carry arguments (`code --wait`); it runs through the shell like git runs it. Exiting
 * with an error or saving an empty file aborts with E_EDIT_ABORTED.
 */
export async function editInEditor(body: Buffer, label: string, env: NodeJS.ProcessEnv = process.env): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'mftg-hooks-edit-'));
  const file = join(dir, `${label.replace(/[^A-Za-z0-9._-]/g, '_')}${fileExtension(body)}`);
  try {
    await writeFile(file, body, { mode: 0o600 });
    const command = editorCommand(env);
    const quoted = process.platform === 'win32' ? `"${file}"` : `'${file.replace(/'/g, `'\\''`)}'`;
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(`${command} ${quoted}`, { shell: true, stdio: 'inherit', env });
      child.once('error', reject);
      child.once('exit', (exitCode, signal) => resolve(signal ? 128 : exitCode));
    }).catch((error: unknown) => {
      throw new MftgHooksError('E_EDIT_ABORTED', `could not start the editor "${command}" (${(error as Error).message})`, 'set $VISUAL or $EDITOR');
    });
    if (code !== 0) throw new MftgHooksError('E_EDIT_ABORTED', `the editor "${command}" exited with code ${code}; nothing was sent`);
    const edited = await readFile(file);
    if (edited.length === 0) throw new MftgHooksError('E_EDIT_ABORTED', 'the edited body is empty; nothing was sent', 'save a non-empty body to send it');
    return edited;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// ---- targets -----------------------------------------------------------------------------------

/** Where replays go and why. */
export interface ReplayTargets {
  targets: Targets;
  source: 'to' | 'listener' | 'last-run';
}

const hasTargets = (targets: Targets): boolean => targets.forwardTo !== null || Object.keys(targets.routes).length > 0;

/**
 * `--to` (every event there, routes ignored), else what the running listener forwards to (routes
 * included), else the last run's `--forward-to` and `--route`s. Null when none is known.
 */
export async function resolveReplayTargets(storeDir: string, to: string | null): Promise<ReplayTargets | null> {
  if (to) return { targets: { forwardTo: to, routes: {} }, source: 'to' };
  const listener = await readListener(storeDir);
  if (listener) {
    const targets = { forwardTo: listener.forwardTo ?? null, routes: listener.routes ?? {} };
    return hasTargets(targets) ? { targets, source: 'listener' } : null;
  }
  const settings = await readSettings(storeDir);
  const targets = { forwardTo: settings.forwardTo ?? null, routes: settings.routes ?? {} };
  return hasTargets(targets) ? { targets, source: 'last-run' } : null;
}

// ---- the service ---------------------------------------------------------------------------------

/** Which stored events to replay. */
export type ReplaySelection = { ids: string[] } | { last?: number; failed?: boolean };

export interface ReplayOptions {
  storeDir: string;
  selection: ReplaySelection;
  /** Handler base URL for every event (the captured sub-path and query are appended), or null. */
  to: string | null;
  sets: SetInstruction[];
  headers: Array<[string, string]>;
  edit: boolean;
  /** Default DEFAULT_TIMEOUT_MS; 0 waits forever. */
  timeoutMs: number;
  insecure: boolean;
  /** Called after each attempt is stored, in order. */
  onAttempt?: (attempt: ForwardAttempt, event: EventRecord) => void;
  /** Called as each request goes out: the `n`th (from 1) of `total`, to `target`. */
  onSending?: (n: number, total: number, event: EventRecord, target: string) => void;
  /** Replaces the editor (tests); default `editInEditor`. */
  editor?: (body: Buffer, label: string) => Promise<Buffer>;
  env?: NodeJS.ProcessEnv;
}

export interface ReplayResult {
  event: EventRecord;
  attempt: ForwardAttempt;
}

async function selectEvents(store: EventStore, selection: ReplaySelection): Promise<EventRecord[]> {
  if ('ids' in selection) {
    const seen = new Set<string>();
    const events: EventRecord[] = [];
    for (const id of selection.ids) {
      const event = await store.get(id);
      if (!seen.has(event.id)) events.push(event);
      seen.add(event.id);
    }
    return events;
  }
  const failed = selection.failed === true;
  const events = await store.list({ limit: selection.last ?? (failed ? Number.MAX_SAFE_INTEGER : 1), failed });
  if (events.length === 0 && !failed)
    throw new MftgHooksError('E_EVENT_NOT_FOUND', 'there are no stored events to replay', 'capture some with `mftg-hooks listen`, or make one with `mftg-hooks trigger`');
  return events;
}

/**
 * Sends stored events again, one after the other in the order selected (arrival order for
 * `--last`/`--failed`), and stores each attempt (kind `replay`) on the original event, where a
 * running listener picks it up. The stored bytes go out unchanged unless `--set`, `--header` or
 * `--edit` say otherwise (then the attempt is marked `modified`). Every target is resolved before
 * anything is sent.
 */
export async function replay(options: ReplayOptions): Promise<ReplayResult[]> {
  const store = await EventStore.open(options.storeDir);
  const dispatcher = createDispatcher({ insecure: options.insecure });
  // The one owner of attempts; stored on the original event, where a running listener picks it up.
  const attempts = new Attempts({ dispatcher, record: ({ attempt, responseBody }) => store.appendAttempt(attempt, responseBody) });
  try {
    const events = await selectEvents(store, options.selection);
    if (events.length === 0) return [];
    const resolved = await resolveReplayTargets(options.storeDir, options.to);
    const plan = events.map((event) => {
      const base = resolved ? targetFor(resolved.targets, event.mftg?.eventType) : null;
      if (!base) {
        const why = resolved
          ? `no route or --forward-to of the ${resolved.source === 'listener' ? 'running listener' : 'last run'} covers event ${event.id} (${event.mftg?.eventType ?? 'no eventType'})`
          : 'no target is known';
        throw new MftgHooksError('E_NO_TARGET', `cannot replay: ${why}`, 'pass --to <url>, or run `mftg-hooks listen --forward-to <url>`');
      }
      return { event, target: joinTarget(base, event.path) };
    });

    // Many events (--failed after a long outage): one pass over the store instead of a search each.
    const bulk = plan.length > BULK_READ_THRESHOLD ? new Map((await store.readAll()).map((stored) => [stored.event.id, stored.body])) : null;
    const bodyOf = async (id: string): Promise<Buffer> => (await bulk?.get(id)?.()) ?? (await store.getWithBody(id)).body;

    // A body --set cannot change stops the run before anything is sent.
    if (options.sets.length > 0) {
      for (const { event } of plan) setJsonFields(await bodyOf(event.id), options.sets, `the body of event ${event.id}`);
    }

    const results: ReplayResult[] = [];
    for (const [index, { event, target }] of plan.entries()) {
      const stored = await bodyOf(event.id);
      let body = setJsonFields(stored, options.sets, `the body of event ${event.id}`);
      if (options.edit) body = await (options.editor ?? ((b, label) => editInEditor(b, label, options.env)))(body, `event-${event.id}`);
      const headers = options.headers.length > 0 ? applyHeaders(event.headers, options.headers) : event.headers;
      options.onSending?.(index + 1, plan.length, event, target);
      const result = await attempts.attempt(replayRequest(event, stored, target, { body, headers }, options.timeoutMs));
      results.push({ event, attempt: result.attempt });
      options.onAttempt?.(result.attempt, event);
    }
    return results;
  } finally {
    await dispatcher.close();
    await store.close();
  }
}
