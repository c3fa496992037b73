/**
 * The fused split convolution in float64 (tests only): relu?(bias + conv1×1(conv_k×k(x, basis), mix)),
 * x NHWC, basis HWIO [k, k, c, r], mix [r, o], symmetric padding `pad`.
 */
export function fusedReference(
  x: Float32Array,
  [n, h, w, c]: readonly number[],
  basis: Float32Array,
  k: number,
  r: number,
  mix: Float32Array,
  bias: Float32Array,
  stride: number,
  pad: number,
  relu: boolean,
): Float64Array {
  const o = bias.length;
  const oh = Math.floor((h + 2 * pad - k) / stride) + 1;
  const ow = Math.floor((w + 2 * pad - k) / stride) + 1;
  const out = new Float64Array(n * oh * ow * o);
  const t = new Float64Array(r);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++) {
        t.fill(0);
        for (let ky = 0; ky < k; ky++)
          for (let kx = 0; kx < k; kx++) {
            const iy = oy * stride + ky - pad;
            const ix = ox * stride + kx - pad;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            for (let i = 0; i < c; i++) {
              const xv = x[((b * h + iy) * w + ix) * c + i];
              for (let j = 0; j < r; j++) t[j] += xv * basis[((ky * k + kx) * c + i) * r + j];
            }
          }
        const base = ((b * oh + oy) * ow + ox) * o;
        for (let q = 0; q < o; q++) {
          let s = bias[q];
          for (let j = 0; j < r; j++) s += t[j] * mix[j * o + q];
          out[base + q] = relu ? Math.max(0, s) : s;
        }
      }
  return out;
}
