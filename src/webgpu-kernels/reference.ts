/**
 * Plain float64 CPU references for the kernels we replace (NHWC activations, HWIO filters).
 * Used by the correctness sweep in Node (vitest) and in the browser page.
 */
import { xorshiftUniform } from '../engine/linalg/xorshift';

export interface ConvGeometry {
  strideH: number;
  strideW: number;
  padTop: number;
  padLeft: number;
}

type Shape4 = readonly [number, number, number, number];

/**
 * Calls tap(xo, wo, yo) for every (n, oy, ox, kh, kw) where input pixel (n, oy·sh + kh − pt,
 * ox·sw + kw − pl) lies inside x: xo, wo and yo are the offsets of that input pixel's channels,
 * of the filter tap's [ci][co] block and of the output pixel's channels.
 */
function forEachTap(xs: Shape4, ys: Shape4, kh: number, kw: number, g: ConvGeometry, tap: (xo: number, wo: number, yo: number) => void): void {
  const [N, H, W, CI] = xs;
  const [, OH, OW, CO] = ys;
  for (let n = 0; n < N; n++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++) {
        const yo = ((n * OH + oy) * OW + ox) * CO;
        for (let i = 0; i < kh; i++) {
          const iy = oy * g.strideH + i - g.padTop;
          if (iy < 0 || iy >= H) continue;
          for (let j = 0; j < kw; j++) {
            const ix = ox * g.strideW + j - g.padLeft;
            if (ix < 0 || ix >= W) continue;
            tap(((n * H + iy) * W + ix) * CI, (i * kw + j) * CI * CO, yo);
          }
        }
      }
}

/** dW[kh, kw, ci, co] = Σ_{n, oy, ox} x[n, oy·sh + kh − pt, ox·sw + kw − pl, ci] · dy[n, oy, ox, co] */
export function refConv2DBackpropFilter(
  x: ArrayLike<number>,
  xs: Shape4,
  dy: ArrayLike<number>,
  dys: Shape4,
  fs: Shape4,
  g: ConvGeometry,
): Float64Array {
  const [KH, KW, CI, CO] = fs;
  const dw = new Float64Array(KH * KW * CI * CO);
  forEachTap(xs, dys, KH, KW, g, (xo, wo, dyo) => {
    for (let ci = 0; ci < CI; ci++) {
      const xv = x[xo + ci];
      const wr = wo + ci * CO;
      for (let co = 0; co < CO; co++) dw[wr + co] += xv * dy[dyo + co];
    }
  });
  return dw;
}

/** dX[n, iy, ix, ci] = Σ dy[n, oy, ox, co] · w[kh, kw, ci, co] over iy = oy·sh + kh − pt, ix = ox·sw + kw − pl */
export function refConv2DBackpropInput(
  dy: ArrayLike<number>,
  dys: Shape4,
  w: ArrayLike<number>,
  ws: Shape4,
  xs: Shape4,
  g: ConvGeometry,
): Float64Array {
  const [KH, KW, CI, CO] = ws;
  const dx = new Float64Array(xs[0] * xs[1] * xs[2] * CI);
  forEachTap(xs, dys, KH, KW, g, (xo, wo, dyo) => {
    for (let ci = 0; ci < CI; ci++) {
      const wr = wo + ci * CO;
      let s = 0;
      for (let co = 0; co < CO; co++) s += dy[dyo + co] * w[wr + co];
      dx[xo + ci] += s;
    }
  });
  return dx;
}

/** Sum (or mean) of x viewed as [A, R, C] over R. */
export function refReduce(x: ArrayLike<number>, a: number, r: number, c: number, mean: boolean): Float64Array {
  const out = new Float64Array(a * c);
  for (let i = 0; i < a; i++)
    for (let j = 0; j < r; j++) {
      const o = (i * r + j) * c;
      for (let k = 0; k < c; k++) out[i * c + k] += x[o + k];
    }
  if (mean) for (let i = 0; i < out.length; i++) out[i] /= r;
  return out;
}

/**
 * Norm-relative error: max_i |a_i − ref_i| / max_i |ref_i| (infinity norms). 0 when both are
 * all zero; Infinity on a length mismatch or a NaN.
 */
export function relMaxError(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (a.length !== ref.length) return Infinity;
  let md = 0;
  let mr = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - ref[i]);
    if (Number.isNaN(d)) return Infinity;
    if (d > md) md = d;
    const r = Math.abs(ref[i]);
    if (r > mr) mr = r;
  }
  return mr === 0 ? md : md / mr;
}

/** Deterministic pseudo-random values in (−1, 1) (xorshift32), so runs are reproducible. */
export function randomData(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  xorshiftUniform(out, size, (seed * 2654435761) >>> 0 || 1);
  return out;
}
