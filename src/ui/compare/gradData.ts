import { mergeByX } from '../charts/merge';
import { gradValue, jumpFactor, projectionJumps, type GradMetric } from '../state/gradients';
import { decimate } from '../state/series';
import { sharedNames } from './runs';
import { runKey, type ChartRow, type CompareRun } from './types';

/** Points per run drawn in the gradient chart (a run keeps up to 1500 records). */
export const MAX_GRAD_POINTS = 400;

/** Runs that recorded gradient norms (gradNormEvery 0, or no step yet: none). */
const gradRuns = (runs: readonly CompareRun[]) => runs.filter((r) => r.state.gradNorms.length > 0);

/** Layer names every run with gradient norms reports, in the first such run's order. */
export const commonGradLayers = (runs: readonly CompareRun[]): string[] => sharedNames(gradRuns(runs), (r) => r.state.gradLayers);

/** A run's index of `layer` in its gradient records (null: the geometric mean over layers); -1 when it lacks it. */
const layerIndex = (r: CompareRun, layer: string | null) => (layer === null ? null : r.state.gradLayers.indexOf(layer));

/** `metric` per recorded step, one column per run: of `layer`, or the geometric mean over each run's layers when null. */
export function gradSeries(runs: readonly CompareRun[], layer: string | null, metric: GradMetric): ChartRow[] {
  return mergeByX(
    ...runs.map((r, i) => {
      const idx = layerIndex(r, layer);
      if (idx === -1) return [];
      return decimate(r.state.gradNorms, MAX_GRAD_POINTS).map((e) => ({ x: e.iteration, [runKey(i)]: gradValue(e, metric, idx) }));
    }),
  );
}

/** Per run: the factor a projection changes `metric` by (after/before, geometric mean over its projections), and over how many; null factor without any. */
export function runJumps(runs: readonly CompareRun[], layer: string | null, metric: GradMetric): { factor: number | null; count: number }[] {
  return runs.map((r) => {
    const idx = layerIndex(r, layer);
    const jumps = idx === -1 ? [] : projectionJumps(r.state.gradNorms, r.state.projections, metric, idx);
    return { factor: jumpFactor(jumps), count: jumps.length };
  });
}
