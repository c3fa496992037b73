import { stepPoints, type RunState } from '../state/store';
import type { CompareRun } from './types';

/** The latest iteration a run reached (from its steps, epochs and projections); 0 before the first step. */
export function lastIteration(s: RunState): number {
  const steps = stepPoints(s);
  return Math.max(0, steps[steps.length - 1]?.iteration ?? 0, s.epochs[s.epochs.length - 1]?.iteration ?? 0, s.projections[s.projections.length - 1]?.iteration ?? 0);
}

/** Runs that made at least one projection (a dense run, or one before its first projection, has none). */
export const projectedRuns = (runs: readonly CompareRun[]): CompareRun[] => runs.filter((r) => r.state.projections.length > 0);

/** The names every run in `runs` reports (`names` of it), in the first run's order. */
export function sharedNames(runs: readonly CompareRun[], names: (r: CompareRun) => string[]): string[] {
  const [first, ...rest] = runs;
  if (!first) return [];
  const others = rest.map((r) => new Set(names(r)));
  return names(first).filter((n) => others.every((s) => s.has(n)));
}

/** Layer names every projecting run reports, in the first such run's order. */
export const commonLayers = (runs: readonly CompareRun[]): string[] => sharedNames(projectedRuns(runs), (r) => r.state.layerNames);

export const finiteOrNull = (x: number | null | undefined): number | null => (x !== null && x !== undefined && Number.isFinite(x) ? x : null);
