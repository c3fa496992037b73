import { mergeByX } from '../charts/merge';
import { stepPoints } from '../state/store';
import { finiteOrNull, lastIteration } from './runs';
import { runKey, type ChartRow, type CompareRun } from './types';

/** Smoothed training loss per iteration, one column per run (the store's decimated step points). */
export function lossSeries(runs: readonly CompareRun[]): ChartRow[] {
  return mergeByX(...runs.map((r, i) => stepPoints(r.state).map((p) => ({ x: p.iteration, [runKey(i)]: finiteOrNull(p.lossSmooth) }))));
}

/** The compact model's column for run i (one point, at the run's last iteration). */
export const compactKey = (i: number): string => `c${i}`;

/** Test accuracy at each epoch's end (x = that epoch's iteration), plus each compact model's accuracy at its run's end. */
export function accuracySeries(runs: readonly CompareRun[]): ChartRow[] {
  return mergeByX(
    ...runs.map((r, i) => r.state.epochs.map((e) => ({ x: e.iteration, [runKey(i)]: finiteOrNull(e.testAccuracy) }))),
    ...runs.map((r, i) => (r.state.compact ? [{ x: lastIteration(r.state), [compactKey(i)]: finiteOrNull(r.state.compact.testAccuracy) }] : [])),
  );
}
