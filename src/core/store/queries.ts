import { MftgHooksError } from '../errors.js';
import { isPending, isUndelivered } from '../delivery-state.js';
import type { EventRecord, ForwardAttempt } from '../types.js';
import { FrameKind } from './frame.js';
import type { BodyLocation, ListFilter, StoredEvent } from './layout.js';
import { rangeMayHold } from './seal.js';
import { bodyAt, type Frame, type StoreState } from './state.js';

interface Located {
  event: EventRecord;
  body: BodyLocation;
  responses: Map<string, BodyLocation>;
}

/**
 * Reads of the store that answer a question (a page, one event): they scan only the segments that
 * may hold the answer, newest first, and stop at a `clear` marker.
 */
export class StoreQueries {
  constructor(private readonly state: StoreState) {}

  /**
   * Visits frames from newest to oldest, segment by segment, until `visit` returns false or a
   * `clear` marker is reached.
   */
  private async walkBackward(visit: (frame: Exclude<Frame, { kind: FrameKind.Clear }>, seq: number) => boolean, skip?: (seq: number) => boolean): Promise<void> {
    const seqs = await this.state.segmentSeqs();
    for (let i = seqs.length - 1; i >= 0; i--) {
      const seq = seqs[i]!;
      if (skip?.(seq)) continue;
      const scan = await this.state.scan(seq);
      for (let j = scan.frames.length - 1; j >= 0; j--) {
        const frame = scan.frames[j]!;
        if (frame.kind === FrameKind.Clear) return;
        if (!visit(frame, seq)) return;
      }
    }
  }

  /** See EventStore.list. */
  async list(filter: ListFilter): Promise<EventRecord[]> {
    const attemptsByEvent = new Map<string, ForwardAttempt[]>();
    const found: EventRecord[] = [];
    if (filter.limit <= 0) return found;
    await this.walkBackward((frame) => {
      if (frame.kind === FrameKind.Attempt) {
        const attempt = frame.attempt;
        const list = attemptsByEvent.get(attempt.eventId);
        if (list) list.unshift(attempt);
        else attemptsByEvent.set(attempt.eventId, [attempt]);
        return true;
      }
      const event = frame.event;
      const attempts = attemptsByEvent.get(event.id) ?? [];
      attemptsByEvent.delete(event.id);
      if (filter.eventType !== undefined && event.mftg?.eventType !== filter.eventType) return true;
      if (filter.failed && !isUndelivered({ ...event, attempts })) return true;
      if (filter.pending && !isPending({ ...event, attempts })) return true;
      found.push({ ...event, attempts });
      return found.length < filter.limit;
    });
    return found.reverse();
  }

  /** See EventStore.eventsAfter. */
  async eventsAfter(afterId: string | null, limit: number): Promise<EventRecord[]> {
    if (limit <= 0) return [];
    const seqs = await this.state.segmentSeqs();
    const seals = await Promise.all(seqs.map((seq) => this.state.fullSeal(seq)));
    let page = new Map<string, EventRecord>();
    /** The lowest and highest id on the page (ids sort in arrival order). */
    let low: string | null = null;
    let high: string | null = null;
    for (let i = 0; i < seqs.length; i++) {
      const seal = seals[i];
      if (seal && seal.clears === 0) {
        const mayHoldEvent = page.size < limit && seal.maxId !== null && (afterId === null || seal.maxId > afterId);
        const mayHoldAttempt = low !== null && high !== null && seal.attempts !== null && seal.attempts[1] >= low && seal.attempts[0] <= high;
        if (!mayHoldEvent && !mayHoldAttempt) continue;
      }
      for (const frame of (await this.state.scan(seqs[i]!)).frames) {
        if (frame.kind === FrameKind.Clear) {
          page = new Map();
          low = high = null;
        } else if (frame.kind === FrameKind.Event) {
          const event = frame.event;
          if (page.size >= limit || (afterId !== null && event.id <= afterId)) continue;
          page.set(event.id, { ...event, attempts: [] });
          if (low === null || event.id < low) low = event.id;
          if (high === null || event.id > high) high = event.id;
        } else {
          const attempt = frame.attempt;
          page.get(attempt.eventId)?.attempts.push(attempt);
        }
      }
    }
    return [...page.values()];
  }

  /** Finds one event by id or unique prefix, with its attempts and where its body and theirs lie. */
  private async locate(idOrPrefix: string): Promise<Located> {
    const prefix = idOrPrefix.toLowerCase();
    const attemptsByEvent = new Map<string, Array<{ attempt: ForwardAttempt; at: BodyLocation }>>();
    const matches: Located[] = [];
    // Sealed segments whose ids and attempts cannot match the prefix, and without a `clear`, are not read.
    const seqs = await this.state.segmentSeqs();
    const seals = new Map(await Promise.all(seqs.map(async (seq) => [seq, await this.state.fullSeal(seq)] as const)));
    const skip = (seq: number): boolean => {
      const seal = seals.get(seq);
      return !!seal && seal.clears === 0 && !rangeMayHold(seal.minId, seal.maxId, prefix) && !(seal.attempts && rangeMayHold(seal.attempts[0], seal.attempts[1], prefix));
    };
    await this.walkBackward((frame, seq) => {
      const at = bodyAt(seq, frame);
      if (frame.kind === FrameKind.Attempt) {
        const attempt = frame.attempt;
        if (attempt.eventId.startsWith(prefix)) {
          const list = attemptsByEvent.get(attempt.eventId) ?? [];
          list.unshift({ attempt, at });
          attemptsByEvent.set(attempt.eventId, list);
        }
        return true;
      }
      const event = frame.event;
      if (!event.id.startsWith(prefix)) return true;
      const attempts = attemptsByEvent.get(event.id) ?? [];
      matches.push({ event: { ...event, attempts: attempts.map((a) => a.attempt) }, body: at, responses: new Map(attempts.map((a) => [a.attempt.id, a.at])) });
      // A whole id cannot match twice; a prefix must be proven unique by scanning on.
      return event.id !== prefix && matches.length < 2;
    }, skip);
    if (matches.length === 0) {
      throw new MftgHooksError('E_EVENT_NOT_FOUND', `no event with id ${idOrPrefix}`, 'run `mftg-hooks events list` to see the stored ids');
    }
    if (matches.length > 1) {
      throw new MftgHooksError('E_AMBIGUOUS_ID', `the id prefix ${idOrPrefix} matches several events`, 'type more characters of the id');
    }
    return matches[0]!;
  }

  async get(idOrPrefix: string): Promise<EventRecord> {
    return (await this.locate(idOrPrefix)).event;
  }

  async getWithBody(idOrPrefix: string): Promise<{ event: EventRecord; body: Buffer }> {
    const found = await this.locate(idOrPrefix);
    return { event: found.event, body: await this.state.readBodyOrFail(found.body, `the body of event ${found.event.id}`) };
  }

  async responseBodies(idOrPrefix: string): Promise<Map<string, Buffer>> {
    const found = await this.locate(idOrPrefix);
    const bodies = new Map<string, Buffer>();
    for (const [attemptId, at] of found.responses) bodies.set(attemptId, await this.state.readBody(at));
    return bodies;
  }

  /** See EventStore.readAll. */
  async readAll(): Promise<StoredEvent[]> {
    let events = new Map<string, Located>();
    for (const seq of await this.state.segmentSeqs()) {
      const scan = await this.state.scan(seq);
      for (const frame of scan.frames) {
        const at = bodyAt(seq, frame);
        if (frame.kind === FrameKind.Clear) {
          events = new Map();
        } else if (frame.kind === FrameKind.Event) {
          const event = frame.event;
          events.set(event.id, { event: { ...event, attempts: [] }, body: at, responses: new Map() });
        } else {
          const attempt = frame.attempt;
          const owner = events.get(attempt.eventId);
          if (!owner) continue;
          owner.event.attempts.push(attempt);
          owner.responses.set(attempt.id, at);
        }
      }
    }
    return [...events.values()].map(({ event, body, responses }) => ({
      event,
      body: () => this.state.readBodyOrFail(body, `the body of event ${event.id}`),
      lastResponseBody: async () => {
        const last = event.attempts[event.attempts.length - 1];
        const at = last ? responses.get(last.id) : undefined;
        return at ? this.state.readBodyOrFail(at, `the response to event ${event.id}`) : Buffer.alloc(0);
      },
    }));
  }
}
