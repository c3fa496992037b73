/**
 * The plain-JavaScript versions of the hot loops, for runtimes without wasm SIMD and for operands
 * outside the wasm memory (dispatch.ts chooses). Same results as the wasm kernels up to the order
 * of floating-point additions.
 */

/**
 * C (+)= A·B with B's rows contiguous (see Kernels.gemmNN), the inner dimension in chunks of
 * `chunk` so that a chunk of B stays in cache while the row pairs sweep it.
 */
export function gemmNNjs(
  A: Float64Array, ais: number, ass: number,
  B: Float64Array, ldb: number,
  C: Float64Array, ldc: number,
  m: number, q: number, p: number,
  accumulate: boolean, symBlocks: boolean, chunk: number,
): void {
  for (let s0 = 0; s0 < p; s0 += chunk) {
    const s1 = Math.min(p, s0 + chunk);
    const acc = accumulate || s0 > 0;
    let i = 0;
    for (; i + 2 <= m; i += 2) nnJs2(A, ais, ass, B, ldb, C, ldc, i, symBlocks ? i & ~3 : 0, q, s0, s1, acc);
    if (i < m) nnJs1(A, ais, ass, B, ldb, C, ldc, i, symBlocks ? i & ~3 : 0, q, s0, s1, acc);
  }
}

/** JS gemmNN: rows i, i+1 of C, columns j0 … q−1 (q − j0 a multiple of 4), inner range [s0, s1). */
function nnJs2(
  A: Float64Array, ais: number, ass: number, B: Float64Array, ldb: number, C: Float64Array, ldc: number,
  i: number, j0: number, q: number, s0: number, s1: number, acc: boolean,
): void {
  const c0 = i * ldc;
  const c1 = c0 + ldc;
  for (let j = j0; j < q; j += 4) {
    let x00 = 0, x01 = 0, x02 = 0, x03 = 0, x10 = 0, x11 = 0, x12 = 0, x13 = 0;
    let ia = i * ais + s0 * ass;
    let ib = s0 * ldb + j;
    for (let s = s0; s < s1; s++, ia += ass, ib += ldb) {
      const a0 = A[ia];
      const a1 = A[ia + ais];
      const b0 = B[ib];
      const b1 = B[ib + 1];
      const b2 = B[ib + 2];
      const b3 = B[ib + 3];
      x00 += a0 * b0; x01 += a0 * b1; x02 += a0 * b2; x03 += a0 * b3;
      x10 += a1 * b0; x11 += a1 * b1; x12 += a1 * b2; x13 += a1 * b3;
    }
    if (acc) {
      C[c0 + j] += x00; C[c0 + j + 1] += x01; C[c0 + j + 2] += x02; C[c0 + j + 3] += x03;
      C[c1 + j] += x10; C[c1 + j + 1] += x11; C[c1 + j + 2] += x12; C[c1 + j + 3] += x13;
    } else {
      C[c0 + j] = x00; C[c0 + j + 1] = x01; C[c0 + j + 2] = x02; C[c0 + j + 3] = x03;
      C[c1 + j] = x10; C[c1 + j + 1] = x11; C[c1 + j + 2] = x12; C[c1 + j + 3] = x13;
    }
  }
}

/** JS gemmNN for a single row i. */
function nnJs1(
  A: Float64Array, ais: number, ass: number, B: Float64Array, ldb: number, C: Float64Array, ldc: number,
  i: number, j0: number, q: number, s0: number, s1: number, acc: boolean,
): void {
  const c0 = i * ldc;
  for (let j = j0; j < q; j += 4) {
    let x0 = 0, x1 = 0, x2 = 0, x3 = 0;
    let ia = i * ais + s0 * ass;
    let ib = s0 * ldb + j;
    for (let s = s0; s < s1; s++, ia += ass, ib += ldb) {
      const a = A[ia];
      x0 += a * B[ib];
      x1 += a * B[ib + 1];
      x2 += a * B[ib + 2];
      x3 += a * B[ib + 3];
    }
    if (acc) {
      C[c0 + j] += x0; C[c0 + j + 1] += x1; C[c0 + j + 2] += x2; C[c0 + j + 3] += x3;
    } else {
      C[c0 + j] = x0; C[c0 + j + 1] = x1; C[c0 + j + 2] = x2; C[c0 + j + 3] = x3;
    }
  }
}

/** C = A·Bᵀ (see Kernels.gemmNT); with sym only j ≥ i (the caller mirrors). */
export function gemmNTjs(
  A: Float64Array, lda: number,
  B: Float64Array, ldb: number,
  C: Float64Array, ldc: number,
  m: number, q: number, p: number,
  sym: boolean,
): void {
  let i = 0;
  for (; i + 2 <= m; i += 2) {
    const a0 = i * lda;
    const a1 = a0 + lda;
    let j = sym ? i : 0;
    for (; j + 4 <= q; j += 4) {
      const b0 = j * ldb;
      const b1 = b0 + ldb;
      const b2 = b1 + ldb;
      const b3 = b2 + ldb;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      for (let t = 0; t < p; t++) {
        const x0 = A[a0 + t];
        const x1 = A[a1 + t];
        const y0 = B[b0 + t];
        const y1 = B[b1 + t];
        const y2 = B[b2 + t];
        const y3 = B[b3 + t];
        s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
        s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
      }
      const c0 = i * ldc + j;
      const c1 = c0 + ldc;
      C[c0] = s00; C[c0 + 1] = s01; C[c0 + 2] = s02; C[c0 + 3] = s03;
      C[c1] = s10; C[c1 + 1] = s11; C[c1 + 2] = s12; C[c1 + 3] = s13;
    }
    for (; j < q; j++) {
      const b0 = j * ldb;
      let s0 = 0, s1 = 0;
      for (let t = 0; t < p; t++) {
        const y = B[b0 + t];
        s0 += A[a0 + t] * y;
        s1 += A[a1 + t] * y;
      }
      C[i * ldc + j] = s0;
      C[(i + 1) * ldc + j] = s1;
    }
  }
  for (; i < m; i++) {
    const a0 = i * lda;
    for (let j = sym ? i : 0; j < q; j++) {
      const b0 = j * ldb;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let t = 0;
      for (; t + 4 <= p; t += 4) {
        s0 += A[a0 + t] * B[b0 + t];
        s1 += A[a0 + t + 1] * B[b0 + t + 1];
        s2 += A[a0 + t + 2] * B[b0 + t + 2];
        s3 += A[a0 + t + 3] * B[b0 + t + 3];
      }
      for (; t < p; t++) s0 += A[a0 + t] * B[b0 + t];
      C[i * ldc + j] = s0 + s1 + (s2 + s3);
    }
  }
}

/** The fused tridiagonalisation pass (see Kernels.triPass). */
export function triPassJs(a: Float64Array, n: number, k: number, vp: Float64Array, wp: Float64Array, v: Float64Array, y: Float64Array): void {
  for (let i = k + 1; i < n; i++) {
    const ri = i * n;
    const vpi = vp[i];
    const wpi = wp[i];
    const vi = v[i];
    const aii = a[ri + i] - 2 * vpi * wpi;
    a[ri + i] = aii;
    let acc = 0;
    for (let j = i + 1; j < n; j++) {
      const x = a[ri + j] - vpi * wp[j] - wpi * vp[j];
      a[ri + j] = x;
      y[j] += x * vi;
      acc += x * v[j];
    }
    y[i] += aii * vi + acc;
  }
}

/** One reflector applied to kv vectors (see Kernels.applyReflector). */
export function applyReflectorJs(a: Float64Array, n: number, r: number, tau: number, z: Float64Array, kv: number): void {
  const len = n - r - 2;
  const rr = r * n + r + 2;
  for (let q = 0; q < kv; q++) {
    const zr = q * n + r + 1;
    let s = z[zr];
    for (let j = 0; j < len; j++) s += a[rr + j] * z[zr + 1 + j];
    s *= tau;
    if (s === 0) continue;
    z[zr] -= s;
    for (let j = 0; j < len; j++) z[zr + 1 + j] -= s * a[rr + j];
  }
}

/** WA (K rows, stride ld) = wt·diag(scale), padding columns zeroed; returns Σ WA². */
export function fillJs(wt: Float32Array | Float64Array, K: number, O: number, scale: Float64Array | null, WA: Float64Array, ld: number): number {
  let e0 = 0;
  let e1 = 0;
  for (let k = 0; k < K; k++) {
    const src = k * O;
    const dst = k * ld;
    if (scale) {
      for (let o = 0; o < O; o++) {
        const x = wt[src + o] * scale[o];
        WA[dst + o] = x;
        e0 += x * x;
      }
    } else {
      for (let o = 0; o < O; o++) {
        const x = wt[src + o];
        WA[dst + o] = x;
        e1 += x * x;
      }
    }
    for (let o = O; o < ld; o++) WA[dst + o] = 0;
  }
  return e0 + e1;
}

/** out (K×O dense) = rows of T (stride ld). */
export function copyOutJs(out: Float32Array | Float64Array, T: Float64Array, K: number, O: number, ld: number): void {
  if (ld === O) {
    out.set(T.subarray(0, K * O));
    return;
  }
  for (let k = 0; k < K; k++) out.set(T.subarray(k * ld, k * ld + O), k * O);
}
