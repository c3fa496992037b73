import { mergeByX } from '../charts/merge';
import type { ProjectionSummary } from '../state/store';
import { decimate } from '../state/series';
import { finiteOrNull } from './runs';
import { runKey, type ChartRow, type CompareRun } from './types';

/** Points per run drawn in the energy chart (a run keeps up to 2000 projections). */
export const MAX_ENERGY_POINTS = 400;

export type EnergyAxis = 'iteration' | 'projection';

/** Mean over the finite values (null when there are none). */
function mean(xs: number[]): number | null {
  let sum = 0;
  let n = 0;
  for (const x of xs) {
    if (Number.isFinite(x)) {
      sum += x;
      n++;
    }
  }
  return n ? sum / n : null;
}

/**
 * Energy kept before each projection, one column per run: of `layer`, or the mean over each run's
 * layers when `layer` is null. A run without that layer or without projections has no points.
 */
export function energySeries(runs: readonly CompareRun[], layer: string | null, axis: EnergyAxis = 'iteration'): ChartRow[] {
  return mergeByX(
    ...runs.map((r, i) => {
      const idx = layer === null ? -1 : r.state.layerNames.indexOf(layer);
      if (layer !== null && idx < 0) return [];
      const value = (p: ProjectionSummary) => (layer === null ? mean(p.energyKeptBefore) : finiteOrNull(p.energyKeptBefore[idx]));
      return decimate(r.state.projections, MAX_ENERGY_POINTS).map((p) => ({ x: axis === 'iteration' ? p.iteration : p.index, [runKey(i)]: value(p) }));
    }),
  );
}
