/** Summary statistics of repeated timings: the median, the extremes and the quartiles. */
export interface TimingStats {
  /** How many timings were taken. */
  samples: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** First and third quartiles (the interquartile range is q3 − q1). */
  q1Ms: number;
  q3Ms: number;
}

/**
 * The p-quantile (0 ≤ p ≤ 1) of sorted values, linearly interpolated between the two closest ranks
 * (numpy's default, "type 7"): q = x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]) with h = (n − 1)·p.
 */
export function quantile(sorted: readonly number[], p: number): number {
  if (!sorted.length) throw new Error('quantile of no values');
  if (!(p >= 0 && p <= 1)) throw new Error(`quantile p must be in [0, 1], got ${p}`);
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** Median, extremes and quartiles of some timings (ms); throws on none or on a value that is not a finite number ≥ 0. */
export function timingStats(ms: readonly number[]): TimingStats {
  if (!ms.length) throw new Error('no timings to summarise');
  for (const t of ms) if (!(Number.isFinite(t) && t >= 0)) throw new Error(`a timing must be a finite number ≥ 0, got ${t}`);
  const s = [...ms].sort((a, b) => a - b);
  return { samples: s.length, medianMs: quantile(s, 0.5), minMs: s[0], maxMs: s[s.length - 1], q1Ms: quantile(s, 0.25), q3Ms: quantile(s, 0.75) };
}
