import { MessageChannel, type MessagePort, type Transferable } from 'node:worker_threads';
import { Readable } from 'node:stream';
import { MftgHooksError, type ErrorCode } from '../core/errors.js';
import type { SessionElement, SessionView } from '../core/session-view.js';
import type { FaceView } from './face.js';

/**
 * A face's view of the session carried over a MessagePort: the listener serves its view
 * (`serveFaceView`), a face in a worker thread uses `connectFaceView` and gets an object with the
 * same methods. Queries and intents are requests with ids; the session's elements are streamed,
 * batched per turn of the serving event loop (a burst of 500 events a second is a few messages, not
 * 500). Buffers cross as Uint8Array and are Buffers again on the other side; errors keep their
 * code, message and hint; a Readable in a result (an attachment's body) is pulled chunk by chunk.
 */

/**
 * How each method of the port crosses: `async` is a request answered by a promise (a new port
 * method that returns one needs nothing else), `mirror` is a synchronous read with no arguments
 * whose value the serving side sends with every batch, `fire` is an intent without an answer.
 * `subscribe` is the element stream. A Record over every key, so a new SessionView method fails to
 * compile here until it says how it crosses.
 */
export const METHOD_KINDS: Record<keyof SessionView, 'async' | 'mirror' | 'fire' | 'stream'> = {
  subscribe: 'stream',
  snapshot: 'mirror',
  listEvents: 'async',
  eventsAfter: 'async',
  getEvent: 'async',
  getBody: 'async',
  getResponseBody: 'async',
  replay: 'async',
  trigger: 'async',
  retryTunnel: 'fire',
  listAttachments: 'async',
  openAttachment: 'async',
  saveAttachments: 'async',
  attachmentsUnavailable: 'mirror',
};

/** What the proxy offers: the face port, plus whichever optional SessionView methods the served view has. */
export type BridgedView = FaceView & Partial<Omit<SessionView, keyof FaceView>>;

/** An error as it crosses the port. */
interface WireError {
  name: string;
  message: string;
  code?: string;
  hint?: string;
  stack?: string;
}

const STREAM = '__mftgStream';
const ERROR = '__mftgError';
const CALLBACK = '__mftgCallback';
const PORT_GONE = 'the listener is gone (the view port closed)';
interface WireStream {
  [STREAM]: MessagePort;
}

type ToFace =
  | { type: 'hello'; methods: string[]; mirrors: Record<string, unknown> }
  | { type: 'batch'; elements: SessionElement[]; mirrors: Record<string, unknown> }
  | { type: 'result'; id: number; value: unknown }
  | { type: 'failure'; id: number; error: WireError }
  | { type: 'callback'; callback: number; args: unknown[] };

type ToServer = { type: 'call'; id: number; method: string; args: unknown[] } | { type: 'fire'; method: string; args: unknown[] } | { type: 'detach' };

type StreamMessage = { type: 'chunk'; chunk: Uint8Array } | { type: 'end' } | { type: 'error'; error: WireError };

function toWire(error: unknown): WireError {
  if (error instanceof Error) {
    const wire: WireError = { name: error.name, message: error.message };
    const { code, hint } = error as { code?: unknown; hint?: unknown };
    if (typeof code === 'string') wire.code = code;
    if (typeof hint === 'string') wire.hint = hint;
    if (error.stack) wire.stack = error.stack;
    return wire;
  }
  return { name: 'Error', message: String(error) };
}

function fromWire(wire: WireError): Error {
  if (wire.name === 'MftgHooksError' && wire.code) {
    const error = new MftgHooksError(wire.code as ErrorCode, wire.message, wire.hint);
    if (wire.stack) error.stack = wire.stack;
    return error;
  }
  const error = new Error(wire.message) as Error & { code?: string; hint?: string };
  error.name = wire.name;
  if (wire.code) error.code = wire.code;
  if (wire.hint) error.hint = wire.hint;
  if (wire.stack) error.stack = wire.stack;
  return error;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
};

/** Serves a stream to the other side: it asks for each chunk (pull), so a slow reader holds the source back. */
function sendStream(stream: Readable): WireStream {
  const { port1, port2 } = new MessageChannel();
  const chunks = stream[Symbol.asyncIterator]();
  port1.on('message', () => {
    chunks.next().then(
      (next) => {
        if (next.done) {
          port1.postMessage({ type: 'end' } satisfies StreamMessage);
          port1.close();
          return;
        }
        const value = next.value as Buffer | string;
        const chunk = typeof value === 'string' ? new Uint8Array(Buffer.from(value)) : new Uint8Array(value);
        port1.postMessage({ type: 'chunk', chunk } satisfies StreamMessage, [chunk.buffer]);
      },
      (error: unknown) => {
        port1.postMessage({ type: 'error', error: toWire(error) } satisfies StreamMessage);
        port1.close();
      },
    );
  });
  // The reader went away (its side closed): stop reading the source.
  port1.on('close', () => void chunks.return?.());
  return { [STREAM]: port2 };
}

function receiveStream(port: MessagePort): Readable {
  let ended = false;
  const stream = new Readable({
    read: () => port.postMessage('more'),
    destroy: (error, callback) => {
      if (!ended) port.close();
      callback(error);
    },
  });
  port.on('message', (message: StreamMessage) => {
    if (message.type === 'chunk') stream.push(Buffer.from(message.chunk.buffer, message.chunk.byteOffset, message.chunk.byteLength));
    else {
      ended = true;
      port.close();
      if (message.type === 'end') stream.push(null);
      else stream.destroy(fromWire(message.error));
    }
  });
  return stream;
}

type Callback = (...args: unknown[]) => void;

/**
 * Prepares a value to cross: Buffers are copied into their own Uint8Array (a Buffer is often a view
 * into a larger pool, which a plain clone would copy whole) and transferred; a Readable becomes a
 * port; an Error keeps its class, code and hint; a function (a progress listener in a call's
 * arguments) becomes the number `callback` gives it, called back over the port. Looked for at the
 * top and one level down (a result, or an argument such as ReplayEdits or a progress object).
 */
function encode(value: unknown, transfer: Transferable[], depth = 0, callback?: (fn: Callback) => number): unknown {
  if (typeof value === 'function' && callback) return { [CALLBACK]: callback(value as Callback) };
  if (value instanceof Uint8Array) {
    const copy = new Uint8Array(value);
    transfer.push(copy.buffer);
    return copy;
  }
  if (value instanceof Readable) {
    const wire = sendStream(value);
    transfer.push(wire[STREAM]);
    return wire;
  }
  if (value instanceof Error) return { [ERROR]: toWire(value) };
  if (depth > 0) return value;
  if (Array.isArray(value)) return value.map((item) => encode(item, transfer, depth + 1, callback));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = encode(item, transfer, depth + 1, callback);
    return out;
  }
  return value;
}

function decode(value: unknown, depth = 0, callback?: (id: number) => Callback): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (isPlainObject(value)) {
    if (STREAM in value) return receiveStream(value[STREAM] as MessagePort);
    if (ERROR in value) return fromWire(value[ERROR] as WireError);
    if (CALLBACK in value && callback) return callback(value[CALLBACK] as number);
  }
  if (depth > 0) return value;
  if (Array.isArray(value)) return value.map((item) => decode(item, depth + 1, callback));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = decode(item, depth + 1, callback);
    return out;
  }
  return value;
}

const methodsOf = (view: Partial<SessionView>): (keyof SessionView)[] =>
  (Object.keys(METHOD_KINDS) as (keyof SessionView)[]).filter((name) => typeof (view as Record<string, unknown>)[name] === 'function');

/**
 * Serves `view` on `port`: elements from now on, in order, batched per turn; calls by name. Stops
 * when the face detaches, when the port closes, or when the returned function is called.
 */
export function serveFaceView(view: FaceView & Partial<SessionView>, port: MessagePort): () => void {
  const methods = methodsOf(view);
  const mirrored = methods.filter((name) => METHOD_KINDS[name] === 'mirror');
  const mirrors = (): Record<string, unknown> => {
    const values: Record<string, unknown> = {};
    for (const name of mirrored) values[name] = encode((view[name] as () => unknown).call(view), []);
    return values;
  };
  let queued: SessionElement[] = [];
  let flushing: NodeJS.Immediate | null = null;
  let closed = false;
  const flush = (): void => {
    flushing = null;
    if (closed || queued.length === 0) return;
    const elements = queued;
    queued = [];
    port.postMessage({ type: 'batch', elements, mirrors: mirrors() } satisfies ToFace);
  };
  port.postMessage({ type: 'hello', methods, mirrors: mirrors() } satisfies ToFace);
  const unsubscribe = view.subscribe((element) => {
    queued.push(element);
    flushing ??= setImmediate(flush);
  });
  const answer = (id: number, run: () => unknown): void => {
    let result: Promise<unknown>;
    try {
      result = Promise.resolve(run());
    } catch (error) {
      result = Promise.reject(error);
    }
    result.then(
      (value) => {
        if (closed) return;
        const transfer: Transferable[] = [];
        const wire = encode(value, transfer);
        port.postMessage({ type: 'result', id, value: wire } satisfies ToFace, transfer);
      },
      (error: unknown) => {
        if (!closed) port.postMessage({ type: 'failure', id, error: toWire(error) } satisfies ToFace);
      },
    );
  };
  const call = (method: string, args: unknown[]): unknown => {
    const name = method as keyof SessionView;
    if (!methods.includes(name) || METHOD_KINDS[name] === 'stream' || METHOD_KINDS[name] === 'mirror') throw new Error(`the view has no method ${method} to call`);
    // A listener the face passed: calling it posts its arguments back (dropped once the port closed).
    const callbackFor =
      (id: number): Callback =>
      (...callArgs: unknown[]) => {
        if (closed) return;
        const transfer: Transferable[] = [];
        port.postMessage({ type: 'callback', callback: id, args: callArgs.map((arg) => encode(arg, transfer)) } satisfies ToFace, transfer);
      };
    return (view[name] as (...args: unknown[]) => unknown).apply(
      view,
      args.map((arg) => decode(arg, 0, callbackFor)),
    );
  };
  const close = (): void => {
    if (closed) return;
    closed = true;
    unsubscribe();
    if (flushing) clearImmediate(flushing);
    flushing = null;
    queued = [];
    port.close();
  };
  port.on('message', (message: ToServer) => {
    if (message.type === 'call') answer(message.id, () => call(message.method, message.args));
    else if (message.type === 'fire') {
      try {
        call(message.method, message.args);
      } catch {
        // An intent without an answer: nothing to report to.
      }
    } else close();
  });
  port.on('close', close);
  return close;
}

/** The face's end: resolves once the serving side said hello, with a view of the same methods. */
export function connectFaceView(port: MessagePort): Promise<{ view: BridgedView; detach: () => void }> {
  return new Promise((resolve, reject) => {
    const listeners = new Set<(element: SessionElement) => void>();
    const calls = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void; callbacks: number[] }>();
    // The listeners passed in calls still running, by number; a call's go when it is answered.
    const callbacks = new Map<number, Callback>();
    let nextId = 0;
    let nextCallback = 0;
    let mirrors: Record<string, unknown> = {};
    let closed = false;
    const view: Record<string, unknown> = {};
    const onClose = (): void => {
      if (closed) return;
      closed = true;
      listeners.clear();
      const gone = new Error(PORT_GONE);
      for (const pending of calls.values()) pending.reject(gone);
      calls.clear();
      callbacks.clear();
      reject(gone);
    };
    /** Posts a call or an intent; returns the numbers given to the listeners among its arguments. */
    const post = (message: ToServer, args: unknown[]): number[] => {
      const transfer: Transferable[] = [];
      const given: number[] = [];
      const register = (fn: Callback): number => {
        const id = ++nextCallback;
        callbacks.set(id, fn);
        given.push(id);
        return id;
      };
      const wire = args.map((arg) => encode(arg, transfer, 0, register));
      port.postMessage({ ...message, args: wire } as ToServer, transfer);
      return given;
    };
    const settle = (id: number): { resolve: (value: unknown) => void; reject: (error: Error) => void } | undefined => {
      const pending = calls.get(id);
      calls.delete(id);
      for (const callback of pending?.callbacks ?? []) callbacks.delete(callback);
      return pending;
    };
    const build = (methods: (keyof SessionView)[]): void => {
      for (const name of methods) {
        const kind = METHOD_KINDS[name];
        if (kind === 'stream')
          view[name] = (listener: (element: SessionElement) => void) => {
            listeners.add(listener);
            return () => void listeners.delete(listener);
          };
        else if (kind === 'mirror') view[name] = () => decode(structuredClone(mirrors[name]));
        else if (kind === 'fire')
          view[name] = (...args: unknown[]): void => {
            if (!closed) post({ type: 'fire', method: name, args: [] }, args);
          };
        else
          view[name] = (...args: unknown[]): Promise<unknown> =>
            new Promise((resolveCall, rejectCall) => {
              if (closed) return rejectCall(new Error(PORT_GONE));
              const id = ++nextId;
              const pending = { resolve: resolveCall, reject: rejectCall, callbacks: [] as number[] };
              calls.set(id, pending);
              pending.callbacks = post({ type: 'call', id, method: name, args: [] }, args);
            });
      }
    };
    port.on('message', (message: ToFace) => {
      switch (message.type) {
        case 'hello':
          mirrors = message.mirrors;
          build(message.methods as (keyof SessionView)[]);
          resolve({
            view: view as unknown as BridgedView,
            detach: () => {
              if (closed) return;
              port.postMessage({ type: 'detach' } satisfies ToServer);
              onClose();
              port.close();
            },
          });
          return;
        case 'batch':
          mirrors = message.mirrors;
          for (const element of message.elements) {
            for (const listener of [...listeners]) listener(element);
          }
          return;
        case 'result':
          settle(message.id)?.resolve(decode(message.value));
          return;
        case 'failure':
          settle(message.id)?.reject(fromWire(message.error));
          return;
        case 'callback':
          callbacks.get(message.callback)?.(...message.args.map((arg) => decode(arg)));
      }
    });
    port.on('close', onClose);
  });
}
