/** A measurement repeated over seeds: how many, their mean and sample standard deviation (n − 1; null for one). */
export interface Sample {
  n: number;
  mean: number;
  sd: number | null;
}

/** The sample of `xs` (finite values), or null when there is none. */
export function sampleOf(xs: readonly number[]): Sample | null {
  if (xs.some((x) => !Number.isFinite(x))) throw new Error(`a sample needs finite values, got ${xs.join(', ')}`);
  const n = xs.length;
  if (n === 0) return null;
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  if (n === 1) return { n, mean, sd: null };
  const ss = xs.reduce((s, x) => s + (x - mean) ** 2, 0);
  return { n, mean, sd: Math.sqrt(ss / (n - 1)) };
}

/** A difference of two arms' means counts as noise when it is at most this many standard errors. */
export const NOISE_SE = 2;

/** The rule, as the panel and the report state it. */
export const NOISE_RULE =
  `a difference is within the noise when it is at most ${NOISE_SE} standard errors of the difference, ` +
  'SE = √(s₁²/n₁ + s₂²/n₂) (Welch), s being the sample standard deviation over seeds (n − 1); with one seed in an arm there is no noise estimate';

export interface Difference {
  /** a.mean − b.mean. */
  delta: number;
  /** Standard error of the difference (Welch); null when an arm has a single seed. */
  se: number | null;
  /** 'none': no noise estimate (an arm has one seed); 'within': |Δ| ≤ 2·SE; 'beyond': |Δ| > 2·SE. */
  noise: 'none' | 'within' | 'beyond';
}

export function difference(a: Sample, b: Sample): Difference {
  const delta = a.mean - b.mean;
  if (a.sd === null || b.sd === null) return { delta, se: null, noise: 'none' };
  const se = Math.sqrt((a.sd * a.sd) / a.n + (b.sd * b.sd) / b.n);
  return { delta, se, noise: Math.abs(delta) <= NOISE_SE * se ? 'within' : 'beyond' };
}

/** Accuracy (a fraction) in percent, 2 decimals: 0.7123 → "71.23%". */
export const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
/** A difference of fractions in percentage points, signed: 0.0123 → "+1.23 points". */
export const points = (d: number, sign = true): string => `${sign ? (d > 0 ? '+' : d < 0 ? '−' : '±') : ''}${Math.abs(d * 100).toFixed(2)} points`;

/** "71.23% ± 1.20 (3 seeds)" or "71.23% (one seed)": mean ± sample standard deviation, in points. */
export function sampleText(s: Sample): string {
  return s.sd === null ? `${pct(s.mean)} (one seed)` : `${pct(s.mean)} ± ${(s.sd * 100).toFixed(2)} (${s.n} seeds)`;
}

/**
 * What a difference between arms `a` and `b` says, in plain words: the signed difference, then whether it
 * is within the noise by the rule above, or that there is no noise estimate.
 */
export function differenceText(d: Difference, a: { label: string; sample: Sample }, b: { label: string; sample: Sample }): string {
  const head = `${a.label} − ${b.label}: ${points(d.delta)}`;
  if (d.noise === 'none') {
    const single = [a, b].filter((x) => x.sample.n === 1);
    return single.length === 2 ? `${head}; one seed: no noise estimate` : `${head}; ${single[0].label} has one seed: no noise estimate`;
  }
  const bound = `${NOISE_SE}·SE = ${points(NOISE_SE * d.se!, false)}`;
  return d.noise === 'within' ? `${head}, within the noise (${bound})` : `${head}, beyond the noise (${bound})`;
}
