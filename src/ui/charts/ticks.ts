/**
 * Ticks for a whole-number x axis (iterations, singular-value indices) over [lo, hi]: round values
 * (1, 2, 2.5 or 5 × 10ᵏ apart) inside the range only. Recharts, given a range ending at the data's
 * maximum, adds that maximum as a last tick right next to the last round one (0 … 60 64), and labels
 * centred on the ends of the axis run into the y axes' labels; see also EdgeTick in common.tsx.
 */
export function niceTicks(lo: number, hi: number, maxCount: number): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi < lo) return [];
  if (hi === lo) return [lo];
  const count = Math.max(2, Math.floor(maxCount));
  const inRange = (step: number) => Math.floor(hi / step) - Math.ceil(lo / step) + 1;
  const step = smallestStep(count, (hi - lo) / count, inRange);
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi; t += step) out.push(t);
  // Round ticks that would sit so close to an end that their label hangs over it are left out.
  const margin = 0.04 * (hi - lo);
  return out.filter((t) => t === lo || t === hi || (t - lo >= margin && hi - t >= margin));
}

/** How many ticks fit a plot `width` px wide (about one every 80 px, 2 to 8). */
export const tickCountFor = (width: number) => Math.max(2, Math.min(8, Math.floor(width / 80)));

/** A tick label: 40000 → "40k" when the ticks are whole thousands of a long axis, else the number. */
export function tickLabel(v: number, ticks: number[]): string {
  const thousands = ticks.length > 1 && ticks[ticks.length - 1] >= 10_000 && ticks.every((t) => t % 1000 === 0);
  return thousands && v !== 0 ? `${v / 1000}k` : String(v);
}

/** The smallest whole round step (1, 2, 2.5, 5 × 10ᵏ, from about `rough` up) that gives at most `count` ticks. */
function smallestStep(count: number, rough: number, inRange: (step: number) => number): number {
  for (let pow = 10 ** Math.floor(Math.log10(rough)); ; pow *= 10) {
    const s = [1, 2, 2.5, 5].map((m) => m * pow).find((c) => c >= 1 && Number.isInteger(c) && inRange(c) <= count);
    if (s !== undefined) return s;
  }
}

/**
 * A value (y) axis over the data's [lo, hi]: a round step (1, 2, 2.5 or 5 × 10ᵏ, any k) giving at most
 * `maxCount` ticks, and the axis widened to the round values around the data, so both ends are ticks
 * themselves — no label at an end of the data next to a round one.
 */
export function valueTicks(lo: number, hi: number, maxCount: number): { domain: [number, number]; ticks: number[] } {
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi < lo) return { domain: [0, 1], ticks: [0, 0.5, 1] };
  // Equal values, or values a float rounding apart (a loss and its smoothed copy after one step): a range around them.
  if (hi - lo <= Math.max(Math.abs(lo), Math.abs(hi)) * 1e-9) {
    const pad = Math.abs(lo) * 0.05 || 0.5;
    return valueTicks(lo - pad, hi + pad, maxCount);
  }
  const intervals = Math.max(1, Math.floor(maxCount) - 1);
  let pow = 10 ** Math.floor(Math.log10((hi - lo) / intervals));
  for (;;) {
    for (const m of [1, 2, 2.5, 5]) {
      const step = m * pow;
      const first = Math.floor(lo / step + 1e-9);
      const last = Math.ceil(hi / step - 1e-9);
      if (last - first <= intervals) {
        // Decimals of the step, so 0.1 + 0.2 prints as 0.3.
        const digits = Math.max(0, -Math.floor(Math.log10(step)) + (m === 2.5 ? 1 : 0));
        const ticks = Array.from({ length: last - first + 1 }, (_, k) => Number(((first + k) * step).toFixed(digits)));
        return { domain: [ticks[0], ticks[ticks.length - 1]], ticks };
      }
    }
    pow *= 10;
  }
}
