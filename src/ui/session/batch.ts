import type { RunEnding } from '../../engine/run/api';
import type { RunBatch } from '../../runs/records';
import type { AblationRun } from '../state/ablations';
import type { FormState } from '../state/form';

/** What a batch run's record says about the batch (runs/records.ts RunBatch). */
export type BatchRef = RunBatch;

/** An ablation batch repeats each arm over this many seeds at most. */
export const MAX_SEEDS_PER_ARM = 5;

/** One run of a batch: an ablation (its arm) with one seed. */
export interface BatchItem extends AblationRun {
  seed: number;
}

export interface BatchState {
  id: string;
  items: BatchItem[];
  /** Runs of each arm (each with the next seed). */
  seeds: number;
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
  ended: RunEnding;
  batch: BatchRef | null;
}

/**
 * Each arm over `seeds` seeds — the form's seed s, then s+1, … (same data for all) — seed by seed: every
 * arm with seed s before any with s+1, so a batch stopped early holds whole seeds, and a run that starts
 * from an earlier run's weights (the pre-trained ablation) follows that run of its own seed.
 */
export function seededItems(arms: readonly AblationRun[], seeds: number): BatchItem[] {
  if (!Number.isInteger(seeds) || seeds < 1 || seeds > MAX_SEEDS_PER_ARM) throw new Error(`seeds per arm must be a whole number from 1 to ${MAX_SEEDS_PER_ARM}, not ${seeds}`);
  return Array.from({ length: seeds }, (_, k) =>
    arms.map((a): BatchItem => {
      const seed = a.form.seed + k;
      return { ...a, seed, form: { ...a.form, seed }, config: { ...a.config, seed } };
    }),
  ).flat();
}

/** An item's label as the page shows it: the arm, and its seed when the batch repeats arms. */
export const itemLabel = (b: Pick<BatchState, 'seeds'>, item: BatchItem): string => (b.seeds > 1 ? `${item.label} · seed ${item.seed}` : item.label);

export const batchRef = (b: BatchState, data?: string): BatchRef => {
  const item = b.items[b.index];
  return { id: b.id, label: item.label, arm: item.id, seed: item.seed, seeds: b.seeds, ...(data !== undefined && { data }) };
};

/** A batch of `arms`, each run over `seeds` seeds (see seededItems). */
export function beginBatch(id: string, arms: readonly AblationRun[], base: FormState, seeds = 1): BatchState {
  return { id, items: seededItems(arms, seeds), seeds, index: 0, runIds: [], status: 'running', message: null, base };
}

/** "Stop after this run": the run going on finishes, no further one starts. */
export function cancelBatch(b: BatchState): BatchState {
  return b.status === 'running' ? { ...b, status: 'cancelled', message: 'no further runs will start' } : b;
}

/**
 * The batch after one of its runs ended (its result stored): the next item starts when the run
 * finished; a stopped or failed run ends the batch. `over`: no run of the batch is going any more.
 */
export function afterRun(b: BatchState, r: RunEnded): { batch: BatchState; next: BatchItem | null; over: boolean } {
  if (r.batch?.id !== b.id) return { batch: b, next: null, over: false };
  const runIds = b.runIds.includes(r.id) ? b.runIds : [...b.runIds, r.id];
  if (b.status !== 'running' || r.ended !== 'finished') {
    const message = b.status === 'running' ? `stopped: “${itemLabel(b, b.items[b.index])}” ended ${r.ended === 'error' ? 'with an error' : 'early'}` : b.message;
    return { batch: { ...b, runIds, status: 'cancelled', message }, next: null, over: true };
  }
  const index = b.index + 1;
  if (index >= b.items.length) return { batch: { ...b, runIds, status: 'done' }, next: null, over: true };
  return { batch: { ...b, runIds, index }, next: b.items[index], over: false };
}
