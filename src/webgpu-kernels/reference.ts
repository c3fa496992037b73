/**
 * Plain float64 CPU references for the kernels we replace (NHWC activations, HWIO filters).
 * Used by the correctness sweep in Node (vitest) and in the browser page.
 */

export interface ConvGeometry {
  strideH: number;
  strideW: number;
  padTop: number;
  padLeft: number;
}

type Shape4 = readonly [number, number, number, number];

/** y[n, oy, ox, co] = Σ x[n, oy·sh + kh − pt, ox·sw + kw − pl, ci] · w[kh, kw, ci, co] */
export function refConv2D(x: ArrayLike<number>, xs: Shape4, w: ArrayLike<number>, ws: Shape4, ys: Shape4, g: ConvGeometry): Float64Array {
  const [N, H, W, CI] = xs;
  const [KH, KW, , CO] = ws;
  const [, OH, OW] = ys;
  const y = new Float64Array(N * OH * OW * CO);
  for (let n = 0; n < N; n++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++) {
        const yo = ((n * OH + oy) * OW + ox) * CO;
        for (let kh = 0; kh < KH; kh++) {
          const iy = oy * g.strideH + kh - g.padTop;
          if (iy < 0 || iy >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const ix = ox * g.strideW + kw - g.padLeft;
            if (ix < 0 || ix >= W) continue;
            const xo = ((n * H + iy) * W + ix) * CI;
            const wo = (kh * KW + kw) * CI * CO;
            for (let ci = 0; ci < CI; ci++) {
              const xv = x[xo + ci];
              const wr = wo + ci * CO;
              for (let co = 0; co < CO; co++) y[yo + co] += xv * w[wr + co];
            }
          }
        }
      }
  return y;
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
  const [N, H, W, CI] = xs;
  const [, OH, OW, CO] = dys;
  const [KH, KW] = fs;
  const dw = new Float64Array(KH * KW * CI * CO);
  for (let n = 0; n < N; n++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++) {
        const dyo = ((n * OH + oy) * OW + ox) * CO;
        for (let kh = 0; kh < KH; kh++) {
          const iy = oy * g.strideH + kh - g.padTop;
          if (iy < 0 || iy >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const ix = ox * g.strideW + kw - g.padLeft;
            if (ix < 0 || ix >= W) continue;
            const xo = ((n * H + iy) * W + ix) * CI;
            const wo = (kh * KW + kw) * CI * CO;
            for (let ci = 0; ci < CI; ci++) {
              const xv = x[xo + ci];
              const wr = wo + ci * CO;
              for (let co = 0; co < CO; co++) dw[wr + co] += xv * dy[dyo + co];
            }
          }
        }
      }
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
  const [N, H, W, CI] = xs;
  const [, OH, OW, CO] = dys;
  const [KH, KW] = ws;
  const dx = new Float64Array(N * H * W * CI);
  for (let n = 0; n < N; n++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++) {
        const dyo = ((n * OH + oy) * OW + ox) * CO;
        for (let kh = 0; kh < KH; kh++) {
          const iy = oy * g.strideH + kh - g.padTop;
          if (iy < 0 || iy >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const ix = ox * g.strideW + kw - g.padLeft;
            if (ix < 0 || ix >= W) continue;
            const xo = ((n * H + iy) * W + ix) * CI;
            const wo = (kh * KW + kw) * CI * CO;
            for (let ci = 0; ci < CI; ci++) {
              const wr = wo + ci * CO;
              let s = 0;
              for (let co = 0; co < CO; co++) s += dy[dyo + co] * w[wr + co];
              dx[xo + ci] += s;
            }
          }
        }
      }
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

/** Deterministic pseudo-random values in [-1, 1) (xorshift32), so runs are reproducible. */
export function randomData(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s / 2147483648 - 1;
  }
  return out;
}
