/** Colour ramp (viridis-like) for t ∈ [0, 1]; pure so it can be unit-tested. */
const STOPS: [number, number, number][] = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];

export function ramp(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(x));
  const f = x - i;
  const a = STOPS[i];
  const b = STOPS[i + 1];
  return [Math.round(a[0] + (b[0] - a[0]) * f), Math.round(a[1] + (b[1] - a[1]) * f), Math.round(a[2] + (b[2] - a[2]) * f)];
}

/** σᵢ/σ₁ on a log scale: 1 → 1, 10^−decades (or 0) → 0. */
export function logNorm(sigma: number, sigma1: number, decades = 3): number {
  if (!(sigma1 > 0) || !(sigma > 0)) return 0;
  return Math.max(0, 1 + Math.log10(sigma / sigma1) / decades);
}

const NEG: [number, number, number] = [33, 102, 172];
const POS: [number, number, number] = [178, 24, 43];

/** Diverging colours for t ∈ [−1, 1] (clamped): blue below 0, white at 0, red above. */
export function diverging(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(-1, Number.isFinite(t) ? t : 0));
  const end = x < 0 ? NEG : POS;
  const f = Math.abs(x);
  return [Math.round(255 + (end[0] - 255) * f), Math.round(255 + (end[1] - 255) * f), Math.round(255 + (end[2] - 255) * f)];
}

/**
 * The q-quantile of |v| over all the arrays: a colour scale that a few outlying entries do not wash
 * out (they saturate instead). 0 when every value is 0 or not finite.
 */
export function absQuantile(arrays: ArrayLike<number>[], q: number): number {
  const all: number[] = [];
  for (const a of arrays) for (let i = 0; i < a.length; i++) if (Number.isFinite(a[i])) all.push(Math.abs(a[i]));
  if (!all.length) return 0;
  all.sort((x, y) => x - y);
  return all[Math.min(all.length - 1, Math.max(0, Math.ceil(q * all.length) - 1))];
}

/** RGBA pixels of `values` coloured by diverging(v / scale), for an ImageData of the same size. */
export function divergingPixels(values: ArrayLike<number>, scale: number): Uint8ClampedArray<ArrayBuffer> {
  const px = new Uint8ClampedArray(values.length * 4);
  for (let i = 0; i < values.length; i++) {
    const [r, g, b] = diverging(scale > 0 ? values[i] / scale : 0);
    px.set([r, g, b, 255], i * 4);
  }
  return px;
}
