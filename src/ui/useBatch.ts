import { useCallback, useRef, useState } from 'react';
import { ablationBatch, type AblationId, type AblationRun } from './state/ablations';
import type { FormState } from './state/form';

export interface BatchState {
  id: string;
  items: AblationRun[];
  /** The item running now (or last run). */
  index: number;
  runIds: string[];
  status: 'running' | 'done' | 'cancelled';
  message: string | null;
}

export interface RunEnded {
  id: string;
  ended: 'finished' | 'stopped' | 'error';
  batch: { id: string; label: string } | null;
}

/**
 * Runs a batch of ablations one after another: when one run finishes the next starts; a stopped or
 * failed run ends the batch. `startRun` starts one run (recorded with the batch's id and label);
 * the page calls `runEnded` when a run's result is stored.
 */
export function useBatch(startRun: (item: AblationRun, batch: { id: string; label: string }) => void, onDone: (runIds: string[]) => void) {
  const [batch, setBatchState] = useState<BatchState | null>(null);
  const ref = useRef<BatchState | null>(null);
  const set = (b: BatchState | null) => {
    ref.current = b;
    setBatchState(b);
  };

  const begin = useCallback(
    (form: FormState, ids: AblationId[]) => {
      const items = ablationBatch(form, ids);
      if (!items.length) return;
      const b: BatchState = { id: `batch-${Date.now().toString(36)}`, items, index: 0, runIds: [], status: 'running', message: null };
      set(b);
      startRun(items[0], { id: b.id, label: items[0].label });
    },
    [startRun],
  );

  const cancel = useCallback(() => {
    const b = ref.current;
    if (b && b.status === 'running') set({ ...b, status: 'cancelled', message: 'no further runs will start' });
  }, []);

  const runEnded = useCallback(
    (r: RunEnded) => {
      const b = ref.current;
      if (!b || r.batch?.id !== b.id) return;
      const runIds = b.runIds.includes(r.id) ? b.runIds : [...b.runIds, r.id];
      if (b.status !== 'running' || r.ended !== 'finished') {
        const message = b.status === 'running' ? `stopped: “${b.items[b.index].label}” ended ${r.ended === 'error' ? 'with an error' : 'early'}` : b.message;
        set({ ...b, runIds, status: 'cancelled', message });
        return;
      }
      const next = b.index + 1;
      if (next >= b.items.length) {
        set({ ...b, runIds, status: 'done' });
        onDone(runIds);
        return;
      }
      set({ ...b, runIds, index: next });
      startRun(b.items[next], { id: b.id, label: b.items[next].label });
    },
    [startRun, onDone],
  );

  return { batch, begin, cancel, runEnded };
}
