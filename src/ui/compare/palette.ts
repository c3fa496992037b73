/**
 * Okabe & Ito's colour-blind-safe palette, ordered for lines on white. Their yellow (#F0E442) is too
 * faint as a thin line on a white page and a darker yellow reads as their orange, so a mid grey
 * (told apart by lightness alone) takes its place.
 */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#E69F00', '#CC79A7', '#56B4E9', '#000000', '#888888'] as const;

/** Colour of the i-th run (0-based); cycles after 8. */
export function palette(i: number): string {
  const n = PALETTE.length;
  const k = Number.isFinite(i) ? ((Math.trunc(i) % n) + n) % n : 0;
  return PALETTE[k];
}

const SAFE_COLOR = /^(#[0-9a-f]{3,8}|(rgb|rgba|hsl|hsla)\([0-9.,%\s]+\)|[a-z]{3,20})$/i;

/** The run's colour if it is a plain CSS colour, else the palette's (colours end up in style and SVG attributes). */
export function safeColor(color: string, i: number): string {
  return SAFE_COLOR.test(color.trim()) ? color.trim() : palette(i);
}
