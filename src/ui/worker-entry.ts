import { PassThrough, Writable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import { connectFaceView } from '../live/face-bridge.js';
import { keepHeapSmall } from '../heap.js';
import type { FromUiWorker, ToUiWorker, UiWorkerData } from './worker-protocol.js';

/**
 * The live UI's worker: Ink, React and the view-model run here, with a heap and a garbage collector
 * of their own, so a render never holds back an ack on the listener's thread. The terminal stays
 * there: keys and resizes come in as messages, frames go out as messages.
 */

const port = parentPort!;
const send = (message: FromUiWorker): void => port.postMessage(message);
const { columns, rows } = workerData as UiWorkerData;

/**
 * Ink's stdout: what it writes is posted to the listener's thread and counts as written once the
 * terminal took it there (so `writableLength` says a frame is still queued, and the view-model
 * holds the next snapshot back, as it does on a real terminal).
 */
class TerminalOut extends Writable {
  readonly isTTY = true;
  columns = columns;
  rows = rows;
  private nextId = 0;
  private readonly waiting = new Map<number, (error?: Error | null) => void>();

  constructor() {
    super({ decodeStrings: false });
  }

  override _writev(chunks: Array<{ chunk: unknown }>, callback: (error?: Error | null) => void): void {
    const id = ++this.nextId;
    this.waiting.set(id, callback);
    send({ type: 'write', id, data: chunks.map(({ chunk }) => (typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString())).join('') });
  }

  override _write(chunk: unknown, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this._writev([{ chunk }], callback);
  }

  written(id: number): void {
    const callback = this.waiting.get(id);
    this.waiting.delete(id);
    callback?.();
  }

  resize(next: { columns: number; rows: number }): void {
    this.columns = next.columns;
    this.rows = next.rows;
    this.emit('resize');
  }
}

/** Ink's stdin: the listener's thread reads the real one (raw mode on request) and posts the bytes. */
class TerminalIn extends PassThrough {
  readonly isTTY = true;
  isRaw = false;
  setRawMode(on: boolean): this {
    this.isRaw = on;
    send({ type: 'rawMode', on });
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
}

// Its heap is collected whenever worth it: a collection here can delay a frame, never an ack.
keepHeapSmall({ everyMs: 1_000, afterIdleMs: null });
const stdout = new TerminalOut();
const stdin = new TerminalIn();
const ui = await import('./start.js');
let handle: { unmount: () => void; exited: Promise<void> } | null = null;
let detach: (() => void) | null = null;
let showing: Promise<void> = Promise.resolve();
let unmounting = false;

port.on('message', (message: ToUiWorker) => {
  switch (message.type) {
    case 'show':
      showing = connectFaceView(message.port).then((face) => {
        detach = face.detach;
        if (unmounting) return;
        handle = ui.renderLiveUi(
          face.view,
          { onQuit: () => send({ type: 'quit' }), ...(message.quitNow ? { onQuitNow: () => send({ type: 'quitNow' }) } : {}) },
          { stdout: stdout as unknown as NodeJS.WriteStream, stdin: stdin as unknown as NodeJS.ReadStream },
        );
      });
      return;
    case 'input':
      stdin.write(Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength));
      return;
    case 'resize':
      stdout.resize(message);
      return;
    case 'written':
      stdout.written(message.id);
      return;
    case 'unmount':
      unmounting = true;
      void showing
        .catch(() => undefined)
        .then(async () => {
          handle?.unmount();
          await handle?.exited;
          detach?.();
          send({ type: 'unmounted' });
        });
  }
});
send({ type: 'loaded' });
