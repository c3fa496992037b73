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
