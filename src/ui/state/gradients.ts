import type { GradNormsEvent } from '../../engine/events';
import { fmtNum } from './format';

/** What the gradient charts show: ‖∇W‖/‖W‖ (the relative update size SGD makes) or ‖∇W‖ itself. */
export type GradMetric = 'ratio' | 'grad';

export const METRIC_OPTIONS = [
  { value: 'ratio', label: '‖∇W‖/‖W‖' },
  { value: 'grad', label: '‖∇W‖' },
] as const satisfies readonly { value: GradMetric; label: string }[];

/** A positive finite value, else null (a log-scale chart cannot draw the rest). */
const positive = (x: number | undefined): number | null => (x !== undefined && Number.isFinite(x) && x > 0 ? x : null);

/** One layer's value in a gradient-norm event (`layer`: its index), or the geometric mean over the layers (null). */
export function gradValue(e: GradNormsEvent, metric: GradMetric, layer: number | null): number | null {
  const xs = e[metric];
  if (layer !== null) return positive(xs[layer]);
  let logs = 0;
  let n = 0;
  for (const x of xs) {
    if (positive(x) === null) continue;
    logs += Math.log(x);
    n++;
  }
  return n ? Math.exp(logs / n) : null;
}

/** A projection with the recorded step right before it and the one right after it. */
export interface ProjectionJump {
  /** The projection's iteration (it followed this step). */
  iteration: number;
  before: number;
  after: number;
}

/**
 * Around each projection at iteration t: the value of the step before it (iteration t) and of the step
 * after it (t + 1), where both were recorded (a run's last projection has no step after it).
 */
export function projectionJumps(events: readonly GradNormsEvent[], projections: readonly { iteration: number }[], metric: GradMetric, layer: number | null): ProjectionJump[] {
  const byIteration = new Map(events.map((e) => [e.iteration, e]));
  const out: ProjectionJump[] = [];
  for (const { iteration } of projections) {
    const b = byIteration.get(iteration);
    const a = byIteration.get(iteration + 1);
    if (!b?.reasons.includes('beforeProjection') || !a?.reasons.includes('afterProjection')) continue;
    const before = gradValue(b, metric, layer);
    const after = gradValue(a, metric, layer);
    if (before !== null && after !== null) out.push({ iteration, before, after });
  }
  return out;
}

/** after/before across the projections, as a geometric mean (1: projections leave the gradients as they were); null without any. */
export function jumpFactor(jumps: readonly ProjectionJump[]): number | null {
  if (!jumps.length) return null;
  return Math.exp(jumps.reduce((s, j) => s + Math.log(j.after / j.before), 0) / jumps.length);
}

/** The factor in words: "×1.42 (+42%)". */
export const jumpText = (f: number | null): string => (f === null ? '–' : `×${fmtNum(f, 3)} (${f >= 1 ? '+' : '−'}${Math.abs((f - 1) * 100).toFixed(0)}%)`);

/** log10 of the smallest and largest positive values of `metric` over all events and layers; null when there are none. */
export function logRange(events: readonly GradNormsEvent[], metric: GradMetric): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const e of events) {
    for (const x of e[metric]) {
      if (positive(x) === null) continue;
      const l = Math.log10(x);
      if (l < lo) lo = l;
      if (l > hi) hi = l;
    }
  }
  return lo <= hi ? [lo, hi] : null;
}
