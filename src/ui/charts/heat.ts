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
