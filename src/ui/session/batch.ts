import type { AblationRun } from '../state/ablations';
import type { FormState } from '../state/form';

export interface BatchRef {
  id: string;
  label: string;
}

export interface BatchState {
  id: string;
  items: AblationRun[];
  /** The item running now (or last run). */
  index: number;
  runIds: string[];
  status: 'running' | 'done' | 'cancelled';
  message: string | null;
  /** The form the batch was made from (the page shows it again when the batch is over). */
  base: FormState;
}

export interface RunEnded {
  id: string;
  ended: 'finished' | 'stopped' | 'error';
  batch: BatchRef | null;
}

export const batchRef = (b: BatchState): BatchRef => ({ id: b.id, label: b.items[b.index].label });

export function beginBatch(id: string, items: AblationRun[], base: FormState): BatchState {
  return { id, items, index: 0, runIds: [], status: 'running', message: null, base };
}

/** "Stop after this run": the run going on finishes, no further one starts. */
export function cancelBatch(b: BatchState): BatchState {
  return b.status === 'running' ? { ...b, status: 'cancelled', message: 'no further runs will start' } : b;
}

/**
 * The batch after one of its runs ended (its result stored): the next item starts when the run
 * finished; a stopped or failed run ends the batch. `over`: no run of the batch is going any more.
 */
export function afterRun(b: BatchState, r: RunEnded): { batch: BatchState; next: AblationRun | null; over: boolean } {
  if (r.batch?.id !== b.id) return { batch: b, next: null, over: false };
  const runIds = b.runIds.includes(r.id) ? b.runIds : [...b.runIds, r.id];
  if (b.status !== 'running' || r.ended !== 'finished') {
    const message = b.status === 'running' ? `stopped: “${b.items[b.index].label}” ended ${r.ended === 'error' ? 'with an error' : 'early'}` : b.message;
    return { batch: { ...b, runIds, status: 'cancelled', message }, next: null, over: true };
  }
  const index = b.index + 1;
  if (index >= b.items.length) return { batch: { ...b, runIds, status: 'done' }, next: null, over: true };
  return { batch: { ...b, runIds, index }, next: b.items[index], over: false };
}
