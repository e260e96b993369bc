import { useSyncExternalStore } from 'react';
import type { LiveModel, LiveSnapshot } from '../live/model.js';

/** The model's latest published snapshot; re-renders once per batch. */
export function useLiveSnapshot(model: LiveModel): LiveSnapshot {
  return useSyncExternalStore(model.subscribe, model.getSnapshot, model.getSnapshot);
}
