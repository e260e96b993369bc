import { useEffect, useRef, useState } from 'react';
import type { PendingDelivery } from '../core/session-view.js';
import type { EventRow } from '../live/model.js';
import type { FaceView } from '../live/face.js';
import { detailDoc, type TextDoc } from './detail-lines.js';
import { pendingKey } from './frame-parts.js';

/** Loads the detail of one event from the store, again whenever its attempts change. */
export function useEventDetail(view: Pick<FaceView, 'getEvent' | 'getBody' | 'getResponseBody'>, id: string | null, row: EventRow | null): { doc: TextDoc | null; error: string | null } {
  const [state, setState] = useState<{ id: string | null; doc: TextDoc | null; error: string | null }>({ id: null, doc: null, error: null });
  const pendingRef = useRef<PendingDelivery | null>(null);
  pendingRef.current = row?.pending ?? null;
  const key = id === null ? null : `${id}|${row?.attempts ?? ''}|${row?.last?.id ?? ''}|${pendingKey(row?.pending)}`;
  useEffect(() => {
    if (id === null) return;
    let cancelled = false;
    void (async () => {
      const [event, body] = await Promise.all([view.getEvent(id), view.getBody(id)]);
      const responses = new Map(await Promise.all(event.attempts.map(async (attempt) => [attempt.id, await view.getResponseBody(id, attempt.id)] as const)));
      if (!cancelled) setState({ id, doc: detailDoc(event, body, responses, pendingRef.current), error: null });
    })().catch((error: unknown) => {
      if (!cancelled) setState({ id, doc: null, error: (error as Error).message });
    });
    return () => {
      cancelled = true;
    };
  }, [key]);
  return state.id === id ? state : { doc: null, error: null };
}
