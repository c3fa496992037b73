import { stepPoints, type RunState } from '../state/store';
import type { CompareRun } from './types';

/** The latest iteration a run reached (from its steps, epochs and projections); 0 before the first step. */
export function lastIteration(s: RunState): number {
  const steps = stepPoints(s);
  return Math.max(0, steps[steps.length - 1]?.iteration ?? 0, s.epochs[s.epochs.length - 1]?.iteration ?? 0, s.projections[s.projections.length - 1]?.iteration ?? 0);
}

/** Runs that made at least one projection (a dense run, or one before its first projection, has none). */
export const projectedRuns = (runs: readonly CompareRun[]): CompareRun[] => runs.filter((r) => r.state.projections.length > 0);

/** Layer names every projecting run reports, in the first such run's order. */
export function commonLayers(runs: readonly CompareRun[]): string[] {
  const [first, ...rest] = projectedRuns(runs);
  if (!first) return [];
  const others = rest.map((r) => new Set(r.state.layerNames));
  return first.state.layerNames.filter((n) => others.every((s) => s.has(n)));
}

/** At most `max` items, evenly spaced, always keeping the first and the last. */
export function decimate<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return items.slice();
  if (max < 2) return items.slice(-max);
  const out: T[] = [];
  for (let k = 0; k < max; k++) out.push(items[Math.round((k * (items.length - 1)) / (max - 1))]);
  return out;
}

export const finiteOrNull = (x: number | null | undefined): number | null => (x !== null && x !== undefined && Number.isFinite(x) ? x : null);
