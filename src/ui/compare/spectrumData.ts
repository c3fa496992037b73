import type { LayerProjection, ProjectionEvent } from '../../engine/events';
import type { RunState } from '../state/store';
import { runKey, type ChartRow, type CompareRun } from './types';

/** A run's projection with this 1-based index (the latest one, should a resumed log repeat it). */
function projectionAt(s: RunState, index: number): ProjectionEvent | null {
  for (let k = s.spectra.length - 1; k >= 0; k--) if (s.spectra[k].index === index) return s.spectra[k];
  return null;
}

/**
 * Projection indices (1-based) at which every run with stored spectra has this layer's spectrum,
 * ascending. Runs without projections are left out (they would leave nothing in common). Long runs
 * keep a thinned history, so the common indices can have gaps.
 */
export function commonProjectionIndices(runs: readonly CompareRun[], layer: string): number[] {
  const sets = runs
    .filter((r) => r.state.spectra.length > 0)
    .map((r) => new Set(r.state.spectra.filter((p) => p.layers.some((l) => l.name === layer)).map((p) => p.index)));
  if (!sets.length) return [];
  const [first, ...rest] = sets;
  return [...first].filter((i) => rest.every((s) => s.has(i))).sort((a, b) => a - b);
}

export interface SpectrumCut {
  /** Index of the run in `runs`. */
  run: number;
  rank: number;
  n: number;
  iteration: number;
  energyKeptBefore: number;
  skipped: boolean;
}

export interface SpectrumData {
  /** x = i (1-based singular value index), one column per run: σᵢ before the projection (null where ≤ 0, for the log axis). */
  rows: ChartRow[];
  /** Per run, in `runs` order: its rank cut, or null when it has no such spectrum (e.g. a dense run). */
  cuts: (SpectrumCut | null)[];
}

/** The singular values of `layer` before projection number `index` in each run. */
export function spectrumAt(runs: readonly CompareRun[], layer: string, index: number): SpectrumData {
  const entries: (LayerProjection | null)[] = [];
  const cuts = runs.map((r, i): SpectrumCut | null => {
    const p = projectionAt(r.state, index);
    const l = p?.layers.find((x) => x.name === layer) ?? null;
    entries.push(l);
    return p && l ? { run: i, rank: l.rank, n: l.sigmaBefore.length, iteration: p.iteration, energyKeptBefore: l.energyKeptBefore, skipped: l.skipped } : null;
  });
  const n = Math.max(0, ...entries.map((l) => l?.sigmaBefore.length ?? 0));
  const rows: ChartRow[] = [];
  for (let k = 0; k < n; k++) {
    const row: ChartRow = { i: k + 1 };
    entries.forEach((l, i) => {
      const v = l?.sigmaBefore[k];
      if (v !== undefined) row[runKey(i)] = Number.isFinite(v) && v > 0 ? v : null;
    });
    rows.push(row);
  }
  return { rows, cuts };
}
