/**
 * The pass criteria of the PyTorch parity tests (parity-suite.ts), pure functions of numbers:
 * per-step losses, the spectra each projection saw, and a model's logits, each judged against the
 * float64 reference with a tolerance measured as float32 noise (|torch32 − torch64|).
 *
 * The engine's side is what is judged: a NaN, a missing layer or a spectrum of another length there
 * fails the criterion. The reference's side defines the tolerance: a missing, non-finite or
 * mismatched reference value throws, since it would make the noise — and so the tolerance — undefined
 * (an infinite noise would accept anything).
 */

/**
 * The loss criterion, step by step: |engine − torch64| ≤ K · max(noise, FLOOR), where noise at step t
 * is the largest |torch32 − torch64| seen up to t over the float32 reference runs (differences only
 * grow through training, so the envelope is the running maximum).
 *
 * K = 10: the engine is a second, different float32 implementation (tfjs on WebGPU or its CPU
 * backend: other summation orders and lengths in convolutions, BN statistics and reductions, and an
 * SVD in float64 where the float32 reference does it in float32), so its rounding differs from
 * PyTorch's by a random factor of order one, which training then amplifies the same way for both.
 * A factor of 10 covers that spread with margin, and stays orders of magnitude below any change of
 * the method (energy transfer on one side only moves the loss by ~1e-2, a BN ε of 1e-3 instead of
 * 1e-5 by ~1e-4 at the first step), as the tests show by judging deliberately wrong references.
 * FLOOR = 1e-6: before training has amplified anything, float32 noise is a few ulps of a loss near 2
 * (ulp 2.4e-7), where a single run's difference can happen to be zero.
 */
export const PARITY_K = 10;
export const PARITY_FLOOR = 1e-6;
/** Logits: the floor relative to the largest |logit| of the reference (a few float32 ulps of it). */
export const LOGITS_REL_FLOOR = 1e-6;

export interface StepParity {
  step: number;
  engine: number;
  torch64: number;
  /** |engine − torch64| (Infinity when the engine's loss is not a number). */
  diff: number;
  /** Running maximum of |torch32 − torch64| over the float32 runs. */
  noise: number;
  allowed: number;
}

export interface LossParity {
  ok: boolean;
  steps: StepParity[];
  /** max_t |engine − torch64| and max_t |torch32 − torch64|. */
  maxEngineDiff: number;
  maxNoise: number;
  /** The step with the largest diff / allowed. */
  worst: StepParity;
}

function requireFinite(values: ArrayLike<number>, what: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new Error(`${what} has ${values[i]} at index ${i}: the float32 noise, and so the tolerance, would be undefined`);
  }
}

/** Non-finite differences (a NaN on the engine's side) count as infinitely far. */
const finiteOrInfinity = (d: number) => (Number.isNaN(d) ? Infinity : d);

export function lossParity(engine: number[], torch64: number[], torch32: number[][], k = PARITY_K, floor = PARITY_FLOOR): LossParity {
  if (torch32.length === 0) throw new Error('no float32 reference run: the noise envelope needs at least one');
  if (engine.length === 0 || engine.length !== torch64.length || torch32.some((r) => r.length !== torch64.length)) {
    throw new Error(`step counts differ: engine ${engine.length}, torch64 ${torch64.length}, torch32 ${torch32.map((r) => r.length).join('/')}`);
  }
  requireFinite(torch64, 'the float64 reference loss');
  torch32.forEach((run, r) => requireFinite(run, `float32 reference run ${r + 1}'s loss`));
  let noise = 0;
  const steps = engine.map((e, t): StepParity => {
    for (const run of torch32) noise = Math.max(noise, Math.abs(run[t] - torch64[t]));
    const diff = finiteOrInfinity(Math.abs(e - torch64[t]));
    return { step: t + 1, engine: e, torch64: torch64[t], diff, noise, allowed: k * Math.max(noise, floor) };
  });
  const worst = steps.reduce((a, b) => (b.diff / b.allowed > a.diff / a.allowed ? b : a));
  return {
    ok: steps.every((s) => s.diff <= s.allowed),
    steps,
    maxEngineDiff: Math.max(...steps.map((s) => s.diff)),
    maxNoise: noise,
    worst,
  };
}

/** Spectra of one projection: layer (official module path) → singular values, descending. */
export type Spectra = Map<string, number[]>;

export interface SpectrumParity {
  ok: boolean;
  /**
   * Per projection: max over layers and singular values of |engine − torch64| / σ1 (Infinity for a
   * missing layer, a spectrum of another length or a NaN), the layer where it is largest, and the
   * float32 noise envelope.
   */
  projections: { iteration: number; diff: number; layer: string; noise: number; allowed: number }[];
}

/** max_i |a_i − b_i| / b_0; Infinity when the lengths differ or a value is not a number. */
function relativeToSigma1(a: number[], b: number[]): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]) / b[0]);
  return finiteOrInfinity(d);
}

/**
 * The singular values each projection saw (before cutting), layer by layer, judged like the losses:
 * relative to σ1 of the layer, |engine − torch64| ≤ K · max(noise, FLOOR) with noise the running
 * maximum (over projections and layers) of |torch32 − torch64|. The first projection comes before
 * the noise has been amplified by a projection, so it checks the first steps (gradients, weight
 * decay, BN statistics) sharply. The layers judged are the reference's: a layer only the engine
 * reports (it lists the full-rank layers it leaves alone, the reference does not) is not compared.
 */
export function spectrumParity(
  iterations: number[],
  engine: Spectra[],
  torch64: Spectra[],
  torch32: Spectra[][],
  k = PARITY_K,
  floor = PARITY_FLOOR,
): SpectrumParity {
  const n = iterations.length;
  if (torch32.length === 0) throw new Error('no float32 reference run: the noise envelope needs at least one');
  if (n === 0 || engine.length !== n || torch64.length !== n || torch32.some((r) => r.length !== n)) {
    throw new Error(`projection counts differ: iterations ${n}, engine ${engine.length}, torch64 ${torch64.length}, torch32 ${torch32.map((r) => r.length).join('/')}`);
  }
  let noise = 0;
  const projections = iterations.map((iteration, j) => {
    if (torch64[j].size === 0) throw new Error(`the float64 reference has no layer at projection ${iteration}: nothing to compare`);
    let diff = -1;
    let worst = '';
    for (const [layer, ref] of torch64[j]) {
      const where = `${layer} at projection ${iteration}`;
      requireFinite(ref, `the float64 reference spectrum of ${where}`);
      if (!(ref[0] > 0)) throw new Error(`the float64 reference spectrum of ${where} is empty or has σ1 = ${ref[0]}: nothing to measure relative to`);
      torch32.forEach((run, r) => {
        const s = run[j].get(layer);
        if (!s || s.length !== ref.length) throw new Error(`float32 reference run ${r + 1} has ${s ? `${s.length} singular values` : 'no spectrum'} for ${where} (float64: ${ref.length})`);
        requireFinite(s, `float32 reference run ${r + 1}'s spectrum of ${where}`);
        noise = Math.max(noise, relativeToSigma1(s, ref));
      });
      const mine = engine[j].get(layer);
      const d = mine ? relativeToSigma1(mine, ref) : Infinity;
      if (d > diff) [diff, worst] = [d, layer];
    }
    return { iteration, diff, layer: worst, noise, allowed: k * Math.max(noise, floor) };
  });
  return { ok: projections.every((p) => p.diff <= p.allowed), projections };
}

export interface LogitsParity {
  ok: boolean;
  /** max |engine − torch64| (Infinity when an engine logit is not a number). */
  diff: number;
  /** max |torch32 − torch64|. */
  noise: number;
  /** max |torch64|. */
  scale: number;
  /** K · max(noise, LOGITS_REL_FLOOR · scale). */
  allowed: number;
}

function shape(m: number[][]): string {
  const widths = [...new Set(m.map((r) => r.length))];
  return `${m.length}×${widths.length === 1 ? widths[0] : `{${widths.join(',')}}`}`;
}

/**
 * A model's logits on the same images, engine vs the float64 reference: max |engine − torch64| ≤
 * K · max(max |torch32 − torch64|, LOGITS_REL_FLOOR · max |torch64|). One forward pass amplifies
 * nothing, so the float32 noise of one run is the scale of rounding here.
 */
export function logitsParity(engine: number[][], torch64: number[][], torch32: number[][], k = PARITY_K, relFloor = LOGITS_REL_FLOOR): LogitsParity {
  const same = (a: number[][]) => a.length === torch64.length && a.every((r, i) => r.length === torch64[i].length);
  if (torch64.length === 0 || !same(engine) || !same(torch32)) throw new Error(`logits shapes differ: engine ${shape(engine)}, torch64 ${shape(torch64)}, torch32 ${shape(torch32)}`);
  let diff = 0;
  let noise = 0;
  let scale = 0;
  torch64.forEach((row, i) => {
    requireFinite(row, `the float64 reference logits of image ${i}`);
    requireFinite(torch32[i], `the float32 reference logits of image ${i}`);
    for (let j = 0; j < row.length; j++) {
      diff = Math.max(diff, finiteOrInfinity(Math.abs(engine[i][j] - row[j])));
      noise = Math.max(noise, Math.abs(torch32[i][j] - row[j]));
      scale = Math.max(scale, Math.abs(row[j]));
    }
  });
  const allowed = k * Math.max(noise, relFloor * scale);
  return { ok: diff <= allowed, diff, noise, scale, allowed };
}

/** The largest |a − b| over two same-shaped tables of numbers (logits). */
export function maxAbsDiff(a: number[][], b: number[][]): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) for (let j = 0; j < a[i].length; j++) d = Math.max(d, Math.abs(a[i][j] - b[i][j]));
  return d;
}
