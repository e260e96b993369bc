import type { SessionElement } from '../core/session-view.js';
import type { SessionView } from '../core/session-view.js';
import type { EventRecord, ForwardAttempt } from '../core/types.js';
import { assertNever } from '../core/types.js';

/**
 * Above this many bytes queued for the output (the stream's own buffer plus the printer's batch), a
 * printer stops queueing events and attempts: a reader that stalls (`listen --json | slow-consumer`,
 * a paused pager) must not grow the listener's memory. What it missed is read back from the store.
 */
export const OUTPUT_HIGH_WATER_BYTES = 1024 * 1024;
/** Other records (tunnel, warnings, rejections…) held while the output lags; more are counted, not kept. */
export const MAX_HELD_RECORDS = 1_000;
/**
 * Without a forward reader on the view, the events missed are read back newest first in one list:
 * at most this many (the store's default --keep), so that a long stall cannot make that list huge.
 */
export const MAX_CATCH_UP_EVENTS = 10_000;
/** Events per page when the view reads forward (`eventsAfter`). */
export const CATCH_UP_PAGE = 500;
/** Attempts on already-printed events remembered while the output lags; more are counted, not kept. */
export const MAX_MISSED_ATTEMPTS = 10_000;
/**
 * Ids written from the store that are remembered so that their live element, if it is still to
 * come, is not written twice: the newest this many. Only records stored in the last moments of a
 * catch-up can still be on their way (ingest stores, then emits, within a few turns of the event
 * loop), so remembering every id of a long catch-up (a million after a 500,000-event stall) would
 * only hold memory.
 */
const MAX_REMEMBERED_IDS = 4 * CATCH_UP_PAGE;

/**
 * What an output that can lag needs of the session: the stream, and the store to catch up from.
 * `eventsAfter` (the listener's and `inspect`'s views have it) lets a catch-up read any distance in
 * bounded pages; without it, at most MAX_CATCH_UP_EVENTS are read back.
 */
export type CatchUpView = Pick<SessionView, 'subscribe' | 'listEvents' | 'getEvent' | 'eventsAfter'>;

/** Where a lagging output's elements go: a printer that turns them into text. */
export interface OutputSink {
  put(element: SessionElement): void;
  /** Writes what the sink batches now. */
  flush(): void;
  /** Bytes the sink holds that are not written yet. */
  bufferedBytes(): number;
}

export interface LaggingOptions {
  /** Default OUTPUT_HIGH_WATER_BYTES. */
  highWaterBytes?: number;
  /** Default MAX_CATCH_UP_EVENTS. */
  maxCatchUpEvents?: number;
}

export interface LaggingOutput {
  /** Stops following the session; resolves once what was missed is written (or the output is gone). */
  detach(): Promise<void>;
  /** Bytes queued now: the stream's buffer plus the sink's. */
  queuedBytes(): number;
}

/**
 * Feeds a sink from the session while the output keeps up. When the output's queue passes
 * `highWaterBytes`, events and attempts are no longer queued (only counted); once the stream drains,
 * they are read back from the store (the source of truth) and written in arrival order, each event
 * followed by its attempts, every one once; the other records held meanwhile follow.
 */
export function attachLaggingOutput(view: CatchUpView, out: NodeJS.WritableStream, sink: OutputSink, options: LaggingOptions = {}): LaggingOutput {
  const highWater = options.highWaterBytes ?? OUTPUT_HIGH_WATER_BYTES;
  const maxCatchUp = options.maxCatchUpEvents ?? MAX_CATCH_UP_EVENTS;
  const stream = out as NodeJS.WritableStream & { writableLength?: number; writableEnded?: boolean; destroyed?: boolean };
  const queuedBytes = (): number => (stream.writableLength ?? 0) + sink.bufferedBytes();
  let mode: 'live' | 'lagging' | 'catching-up' = 'live';
  /** The newest event written: events after it are the ones to read back. */
  let lastEventId: string | null = null;
  let droppedEvents = 0;
  /** The first event missed when none had been written yet. */
  let firstMissedId: string | null = null;
  /** Attempts on events written before the lag began, by event. */
  let missedAttempts = new Map<string, Set<string>>();
  let missedAttemptCount = 0;
  let lostAttempts = 0;
  let held: SessionElement[] = [];
  let lostHeld = 0;
  /** Event and attempt ids written from the store in the last catch-up: their live elements may still come. */
  let fromStore = new Set<string>();
  let gone = false;
  let catchingUp: Promise<void> | null = null;

  const isDuplicate = (element: SessionElement): boolean => {
    if (fromStore.size === 0) return false;
    if (element.type === 'event') return fromStore.delete(element.event.id);
    if (element.type === 'attempt') return fromStore.delete(element.attempt.id);
    return false;
  };
  const remember = (id: string): void => {
    fromStore.add(id);
    // A Set iterates oldest first: the oldest id is forgotten.
    if (fromStore.size > MAX_REMEMBERED_IDS) fromStore.delete(fromStore.values().next().value!);
  };

  const miss = (element: SessionElement): void => {
    switch (element.type) {
      case 'event':
        if (lastEventId === null && (firstMissedId === null || element.event.id < firstMissedId)) firstMissedId = element.event.id;
        droppedEvents++;
        return;
      case 'attempt': {
        const { attempt } = element;
        // Attempts of events still to be read back come with their event.
        if (lastEventId === null || attempt.eventId > lastEventId) return;
        if (missedAttemptCount >= MAX_MISSED_ATTEMPTS) {
          lostAttempts++;
          return;
        }
        const ids = missedAttempts.get(attempt.eventId) ?? new Set<string>();
        ids.add(attempt.id);
        missedAttempts.set(attempt.eventId, ids);
        missedAttemptCount++;
        return;
      }
      case 'pending':
        // A passing state of one delivery: the attempts that settle it are what counts.
        return;
      case 'ready':
      case 'tunnel':
      case 'rejected':
      case 'warning':
      case 'cleared':
      case 'delivery':
      case 'reconcile':
        if (held.length < MAX_HELD_RECORDS) held.push(element);
        else lostHeld++;
        return;
      default:
        return assertNever(element);
    }
  };

  const write = (element: SessionElement): void => {
    sink.put(element);
    if (element.type === 'event' && (lastEventId === null || element.event.id > lastEventId)) lastEventId = element.event.id;
  };

  const drained = (): Promise<void> =>
    new Promise((resolve) => {
      if (gone || queuedBytes() === 0) return resolve();
      const done = (): void => {
        out.off('drain', done);
        out.off('close', done);
        out.off('error', done);
        resolve();
      };
      out.on('drain', done);
      out.on('close', done);
      out.on('error', done);
    });

  /** Writes one element of the catch-up; waits for the stream when the queue is full again. */
  const writeBack = async (element: SessionElement): Promise<void> => {
    write(element);
    if (queuedBytes() >= highWater) {
      sink.flush();
      await drained();
    }
  };

  const catchUp = async (): Promise<void> => {
    mode = 'catching-up';
    try {
      while (!gone && (droppedEvents > 0 || missedAttempts.size > 0)) {
        const oldAttempts = missedAttempts;
        missedAttempts = new Map();
        missedAttemptCount = 0;
        const expected = droppedEvents;
        droppedEvents = 0;
        const after = lastEventId;
        const from = firstMissedId;
        const isMissed = (id: string): boolean => (after !== null ? id > after : from !== null && id >= from);
        fromStore = new Set();
        for (const [eventId, ids] of oldAttempts) {
          const event = await view.getEvent(eventId).catch(() => null);
          for (const attempt of event?.attempts ?? []) {
            if (ids.has(attempt.id)) await writeBack(attemptElement(attempt));
          }
        }
        if (expected === 0) continue;
        const writeRecord = async (record: EventRecord): Promise<void> => {
          const { attempts, ...event } = record;
          remember(event.id);
          await writeBack({ type: 'event', event, foreign: false });
          for (const attempt of attempts) {
            remember(attempt.id);
            await writeBack(attemptElement(attempt));
          }
        };
        firstMissedId = null;
        if (view.eventsAfter) {
          // Oldest first, a page at a time: memory stays bounded however far the output fell behind.
          let cursor = after;
          for (;;) {
            const page = await view.eventsAfter(cursor, CATCH_UP_PAGE);
            for (const record of page) if (isMissed(record.id)) await writeRecord(record);
            if (page.length < CATCH_UP_PAGE || gone) break;
            cursor = page[page.length - 1]!.id;
          }
          // Events counted meanwhile are looked for again after the newest written: none is lost.
          continue;
        }
        // Newest first from the store: ask for more until the page reaches back past `after`, at
        // most MAX_CATCH_UP_EVENTS (all of them are held at once).
        let limit = Math.min(expected + 16, maxCatchUp);
        let records = await view.listEvents({ limit });
        while (records.length === limit && limit < maxCatchUp && isMissed(records[0]!.id)) {
          limit = Math.min(limit * 2, maxCatchUp);
          records = await view.listEvents({ limit });
        }
        const cut = records.length === maxCatchUp && isMissed(records[0]!.id);
        const missed = records.filter((record) => isMissed(record.id));
        const skipped = expected - missed.length;
        if (skipped > 0) {
          const what = `${skipped} event${skipped === 1 ? '' : 's'}`;
          await writeBack({
            type: 'warning',
            message: cut
              ? `the output was not read for a while: it fell more than ${maxCatchUp} events behind; the oldest ${what} of that time are not repeated here (mftg-hooks events list --json has them)`
              : `the output was not read for a while: ${what} ${skipped === 1 ? 'was' : 'were'} removed from the store (--keep) before ${skipped === 1 ? 'it' : 'they'} could be written`,
          });
        }
        records = [];
        for (const record of missed) await writeRecord(record);
      }
      if (lostAttempts > 0)
        await writeBack({ type: 'warning', message: `the output was not read for a while: ${lostAttempts} attempts on earlier events are not repeated here (mftg-hooks events show <id>)` });
      if (lostHeld > 0) await writeBack({ type: 'warning', message: `the output was not read for a while: ${lostHeld} status records were dropped` });
      lostAttempts = 0;
      lostHeld = 0;
      const later = held;
      held = [];
      for (const element of later) await writeBack(element);
    } finally {
      mode = 'live';
      catchingUp = null;
    }
    sink.flush();
    // Elements that came while the last records were written: lagging again, or all caught up.
    if (!gone && (droppedEvents > 0 || missedAttempts.size > 0 || held.length > 0)) startCatchUp();
  };

  const startCatchUp = (): void => {
    if (catchingUp) return;
    catchingUp = catchUp().catch((error: unknown) => {
      // The store could not be read: say so rather than stop the listener.
      sink.put({ type: 'warning', message: `could not read back the records the output missed: ${(error as Error).message}` });
      sink.flush();
    });
  };

  const onDrain = (): void => {
    if (mode === 'lagging') startCatchUp();
  };
  const onGone = (): void => {
    gone = true;
  };
  out.on('drain', onDrain);
  out.on('close', onGone);
  out.on('error', onGone);

  const unsubscribe = view.subscribe((element) => {
    if (mode === 'live') {
      if (isDuplicate(element)) return;
      if (queuedBytes() < highWater) return write(element);
      mode = 'lagging';
      // The drain that ends the lag needs a write that was refused: make the batch a write.
      sink.flush();
      miss(element);
      if (!(stream as { writableNeedDrain?: boolean }).writableNeedDrain) startCatchUp();
      return;
    }
    miss(element);
  });

  return {
    queuedBytes,
    detach: async () => {
      unsubscribe();
      if (mode === 'lagging') startCatchUp();
      while (catchingUp) await catchingUp;
      sink.flush();
      out.off('drain', onDrain);
      out.off('close', onGone);
      out.off('error', onGone);
    },
  };
}

const attemptElement = (attempt: ForwardAttempt): SessionElement => ({ type: 'attempt', attempt, foreign: false });
