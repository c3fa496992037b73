/**
 * Dense symmetric eigenproblem, tuned for "all eigenvalues, a few eigenvectors":
 *  1. Householder reduction to tridiagonal form T = Qᵀ A Q. The rank-2 update of step k is fused
 *     with the symmetric matrix-vector product of step k+1, so every step makes one pass over the
 *     trailing triangle (the pass runs in wasm SIMD when available, see dispatch.ts).
 *  2. All eigenvalues of T by the implicit QL algorithm with Wilkinson shifts (values only, O(n²)),
 *     on each unreduced diagonal block separately.
 *  3. Eigenvectors of T only for the wanted eigenvalues, by inverse iteration on the pivoted LU of
 *     T − λI, with eigenvalue perturbation and Gram–Schmidt inside clusters (as in LAPACK's dstein).
 *  4. Back-transformation u = Q z of just those vectors.
 * Cost ≈ (2/3)n³ multiply-adds for step 1; the rest is O(n²) plus O(n²·k) for k vectors.
 */
import type { Kernels } from './dispatch';
import { xorshiftUniform } from './xorshift';

export const EPS = 2.220446049250313e-16;

/** Work buffers, in the workspace of `kernels` so that the kernels can run in wasm. */
export interface EigenWork {
  kernels: Kernels;
  /** Four vectors of length n. */
  vp: Float64Array;
  wp: Float64Array;
  v: Float64Array;
  y: Float64Array;
  /** Room for the wanted eigenvectors (k·n ≤ n² doubles). */
  z: Float64Array;
}

/** Doubles of the buffer eigenWork() splits into the four work vectors. */
export const eigenWorkSize = (n: number): number => 4 * (n + 8);

/** The work vectors in `w` (eigenWorkSize(n) doubles; kept apart to avoid cache aliasing) and z. */
export function eigenWork(kernels: Kernels, w: Float64Array, z: Float64Array, n: number): EigenWork {
  const s = n + 8;
  return { kernels, vp: w.subarray(0, n), wp: w.subarray(s, s + n), v: w.subarray(2 * s, 2 * s + n), y: w.subarray(3 * s, 3 * s + n), z };
}

/**
 * Reduces the symmetric n×n row-major matrix a (upper triangle read, destroyed) to tridiagonal
 * form: diagonal d (n), off-diagonal e (n−1). Reflector k (k < n−2) is H_k = I − tau[k]·v vᵀ with
 * v = (0…0, 1, a[k·n+k+2 … k·n+n−1]) (the 1 at position k+1), and Qᵀ A Q = T for
 * Q = H_0 H_1 ⋯ H_{n−3}.
 */
function tridiagonalize(a: Float64Array, n: number, d: Float64Array, e: Float64Array, tau: Float64Array, work: EigenWork): void {
  const { kernels, vp, wp, v, y } = work;
  vp.fill(0, 0, n);
  wp.fill(0, 0, n);
  if (n === 1) {
    d[0] = a[0];
    return;
  }
  for (let k = 0; k < n - 2; k++) {
    const rk = k * n;
    // (a) the update left pending by step k−1, on row k
    const vpk = vp[k];
    const wpk = wp[k];
    if (vpk !== 0 || wpk !== 0) for (let j = k; j < n; j++) a[rk + j] -= vpk * wp[j] + wpk * vp[j];
    d[k] = a[rk + k];
    // (b) Householder reflector that zeroes a[k, k+2 …]
    const alpha = a[rk + k + 1];
    let xn2 = 0;
    for (let j = k + 2; j < n; j++) xn2 += a[rk + j] * a[rk + j];
    let t = 0;
    if (xn2 === 0) {
      e[k] = alpha;
      v.fill(0, k + 1, n);
    } else {
      const norm = Math.sqrt(alpha * alpha + xn2);
      const beta = alpha >= 0 ? -norm : norm;
      t = (beta - alpha) / beta;
      const sc = 1 / (alpha - beta);
      v[k + 1] = 1;
      for (let j = k + 2; j < n; j++) {
        const x = a[rk + j] * sc;
        a[rk + j] = x;
        v[j] = x;
      }
      e[k] = beta;
    }
    tau[k] = t;
    // (c) one pass over the trailing triangle: apply the pending update and form y = A v
    y.fill(0, k + 1, n);
    kernels.triPass(a, n, k, vp, wp, v, y);
    // (d) w = τ y − (τ²/2)(yᵀv) v; the update A −= v wᵀ + w vᵀ is left pending
    if (t !== 0) {
      let yv = 0;
      for (let j = k + 1; j < n; j++) yv += y[j] * v[j];
      const kk = 0.5 * t * t * yv;
      for (let j = k + 1; j < n; j++) {
        wp[j] = t * y[j] - kk * v[j];
        vp[j] = v[j];
      }
    } else {
      wp.fill(0, k + 1, n);
      vp.fill(0, k + 1, n);
    }
  }
  for (let i = n - 2; i < n; i++) {
    const vpi = vp[i];
    const wpi = wp[i];
    for (let j = i; j < n; j++) a[i * n + j] -= vpi * wp[j] + wpi * vp[j];
  }
  d[n - 2] = a[(n - 2) * n + n - 2];
  e[n - 2] = a[(n - 2) * n + n - 1];
  d[n - 1] = a[n * n - 1];
}

/**
 * Eigenvalues of the unreduced tridiagonal block d[lo..hi], e[lo..hi−1], written into
 * out[0 .. hi−lo] (unordered): implicit QL with Wilkinson shifts in the root-free
 * Pal–Walker–Kahan form, which works on the squared off-diagonals and needs no square root per
 * rotation (the values-only variant LAPACK uses in dsterf).
 */
function qlValues(d: Float64Array, e: Float64Array, lo: number, hi: number, out: Float64Array, e2: Float64Array): void {
  const m = hi - lo + 1;
  for (let i = 0; i < m; i++) out[i] = d[lo + i];
  for (let i = 0; i < m - 1; i++) e2[i] = e[lo + i] * e[lo + i];
  e2[m - 1] = 0;
  const eps2 = EPS * EPS;
  for (let l = 0; l < m; l++) {
    let iter = 0;
    for (;;) {
      let mm = l;
      for (; mm < m - 1; mm++) if (e2[mm] <= eps2 * Math.abs(out[mm] * out[mm + 1])) break;
      if (mm === l) break;
      if (++iter > 60) break; // does not happen in practice; keep the current approximation
      // shift: the eigenvalue of the leading 2×2 closer to out[l]
      const p0 = out[l];
      const rte = Math.sqrt(e2[l]);
      let sg = (out[l + 1] - p0) / (2 * rte);
      const r0 = Math.abs(sg) > 1e150 ? Math.abs(sg) : Math.sqrt(sg * sg + 1);
      sg = p0 - rte / (sg + (sg >= 0 ? r0 : -r0));
      let c = 1;
      let s = 0;
      let gamma = out[mm] - sg;
      let p = gamma * gamma;
      for (let i = mm - 1; i >= l; i--) {
        const bb = e2[i];
        const r = p + bb;
        if (i !== mm - 1) e2[i + 1] = s * r;
        const oldc = c;
        const inv = 1 / r;
        c = p * inv;
        s = bb * inv;
        const oldgam = gamma;
        const alpha = out[i];
        gamma = c * (alpha - sg) - s * oldgam;
        out[i + 1] = oldgam + (alpha - gamma);
        p = c !== 0 ? (gamma * gamma) / c : oldc * bb;
      }
      e2[l] = s * p;
      out[l] = sg + gamma;
    }
  }
}

/** Deterministic uniform numbers in (−1, 1) for inverse-iteration start vectors. */
function startVector(x: Float64Array, len: number, seed: number): void {
  xorshiftUniform(x, len, (seed * 2654435761 + 0x9e3779b9) >>> 0);
}

/**
 * Eigenvalues closer than this (relative to the block's norm) are treated as a cluster whose
 * inverse-iteration vectors are explicitly orthogonalised; outside clusters orthogonality follows
 * from the gap (error ≈ ε·‖T‖/gap ≤ 1e4·ε).
 */
const CLUSTER_TOL = 1e-4;

/** x −= Σ (x·z_q) z_q over the previous cluster vectors (rows q of z, block offset lo). */
function orthogonalize(x: Float64Array, bs: number, z: Float64Array, n: number, lo: number, prev: number[]): void {
  for (const q of prev) {
    const qr = q * n + lo;
    let s = 0;
    for (let i = 0; i < bs; i++) s += x[i] * z[qr + i];
    for (let i = 0; i < bs; i++) x[i] -= s * z[qr + i];
  }
}

/** Scratch for the tridiagonal LU of one block. */
interface LuScratch {
  dd: Float64Array;
  du: Float64Array;
  du2: Float64Array;
  dl: Float64Array;
  piv: Uint8Array;
}

/** Pivoted LU of T[lo..lo+bs) − λI, tiny pivots replaced by ±tiny. */
function factorShifted(d: Float64Array, e: Float64Array, lo: number, bs: number, lam: number, tiny: number, w: LuScratch): void {
  const { dd, du, du2, dl, piv } = w;
  for (let i = 0; i < bs; i++) dd[i] = d[lo + i] - lam;
  for (let i = 0; i < bs - 1; i++) {
    du[i] = e[lo + i];
    dl[i] = e[lo + i];
    du2[i] = 0;
  }
  for (let i = 0; i < bs - 1; i++) {
    if (Math.abs(dd[i]) >= Math.abs(dl[i])) {
      piv[i] = 0;
      if (Math.abs(dd[i]) < tiny) dd[i] = dd[i] >= 0 ? tiny : -tiny;
      const fact = dl[i] / dd[i];
      dl[i] = fact;
      dd[i + 1] -= fact * du[i];
    } else {
      piv[i] = 1;
      if (Math.abs(dl[i]) < tiny) dl[i] = dl[i] >= 0 ? tiny : -tiny;
      const fact = dd[i] / dl[i];
      dd[i] = dl[i];
      dl[i] = fact;
      const tmp = du[i];
      du[i] = dd[i + 1];
      dd[i + 1] = tmp - fact * dd[i + 1];
      if (i < bs - 2) {
        du2[i] = du[i + 1];
        du[i + 1] = -fact * du[i + 1];
      }
    }
  }
  if (Math.abs(dd[bs - 1]) < tiny) dd[bs - 1] = dd[bs - 1] >= 0 ? tiny : -tiny;
}

/** Solves (T − λI) x = b in place with the factorisation; rescales to avoid overflow. */
function solveShifted(bs: number, w: LuScratch, b: Float64Array): void {
  const { dd, du, du2, dl, piv } = w;
  for (let i = 0; i < bs - 1; i++) {
    if (piv[i] === 0) {
      b[i + 1] -= dl[i] * b[i];
    } else {
      const t = b[i];
      b[i] = b[i + 1];
      b[i + 1] = t - dl[i] * b[i];
    }
  }
  const BIG = 1e150;
  for (let i = bs - 1; i >= 0; i--) {
    let x = b[i];
    if (i + 1 < bs) x -= du[i] * b[i + 1];
    if (i + 2 < bs) x -= du2[i] * b[i + 2];
    x /= dd[i];
    b[i] = x;
    if (Math.abs(x) > BIG) for (let j = 0; j < bs; j++) b[j] /= BIG;
  }
}


/**
 * Eigenvalues of the tridiagonal (d, e) and eigenvectors for the wanted positions of the
 * descending order. `select` gets the descending eigenvalues and returns those positions.
 * Returns the descending values and the vectors (k×n rows, in the order of `want`).
 */
function tridiagEigen(
  d: Float64Array,
  e: Float64Array,
  n: number,
  select: (valuesDesc: Float64Array) => number[],
  zbuf: Float64Array,
): { values: Float64Array; want: number[]; z: Float64Array } {
  // split into unreduced blocks
  const blockOf = new Int32Array(n);
  const starts: number[] = [0];
  for (let i = 0; i < n - 1; i++) {
    if (Math.abs(e[i]) <= EPS * (Math.abs(d[i]) + Math.abs(d[i + 1]))) {
      e[i] = 0;
      starts.push(i + 1);
    }
  }
  starts.push(n);
  const nb = starts.length - 1;
  const raw = new Float64Array(n);
  const ee = new Float64Array(n);
  const tnorm = new Float64Array(nb);
  for (let b = 0; b < nb; b++) {
    const lo = starts[b];
    const hi = starts[b + 1] - 1;
    qlValues(d, e, lo, hi, raw.subarray(lo, hi + 1), ee);
    let nm = 0;
    for (let i = lo; i <= hi; i++) {
      blockOf[i] = b;
      const s = Math.abs(d[i]) + (i > lo ? Math.abs(e[i - 1]) : 0) + (i < hi ? Math.abs(e[i]) : 0);
      if (s > nm) nm = s;
    }
    tnorm[b] = nm;
  }
  // descending order
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((x, y) => raw[y] - raw[x] || x - y);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = raw[order[i]];
  const want = select(values);
  const k = want.length;
  const z = zbuf.subarray(0, k * n);
  z.fill(0);
  if (k === 0) return { values, want, z };

  // inverse iteration, wanted eigenvalues processed in descending order
  const proc = want.map((pos, j) => ({ pos, j })).sort((x, y) => x.pos - y.pos);
  const lu: LuScratch = { dd: new Float64Array(n), du: new Float64Array(n), du2: new Float64Array(n), dl: new Float64Array(n), piv: new Uint8Array(n) };
  const x = new Float64Array(n);
  const lastOrig = new Float64Array(nb).fill(Infinity);
  const lastPert = new Float64Array(nb).fill(Infinity);
  const cluster: number[][] = Array.from({ length: nb }, () => []);
  for (const { pos, j } of proc) {
    const b = blockOf[order[pos]];
    const lo = starts[b];
    const bs = starts[b + 1] - lo;
    const row = j * n;
    if (bs === 1) {
      z[row + lo] = 1;
      continue;
    }
    const nm = tnorm[b] > 0 ? tnorm[b] : 1;
    const lam = values[pos];
    if (lastOrig[b] - lam > CLUSTER_TOL * nm) cluster[b] = [];
    const pertol = 10 * EPS * nm;
    const lamP = lastPert[b] - lam < pertol ? lastPert[b] - pertol : lam;
    lastOrig[b] = lam;
    lastPert[b] = lamP;
    factorShifted(d, e, lo, bs, lamP, EPS * nm, lu);
    const prev = cluster[b];
    startVector(x, bs, pos + 1);
    let nrm = 0;
    for (let i = 0; i < bs; i++) nrm += x[i] * x[i];
    nrm = Math.sqrt(nrm);
    for (let i = 0; i < bs; i++) x[i] /= nrm;
    let extra = 0;
    for (let it = 0; it < 8; it++) {
      solveShifted(bs, lu, x);
      let g = 0;
      for (let i = 0; i < bs; i++) g += x[i] * x[i];
      g = Math.sqrt(g);
      // Gram–Schmidt against the vectors already found in this cluster
      orthogonalize(x, bs, z, n, lo, prev);
      let nx = 0;
      for (let i = 0; i < bs; i++) nx += x[i] * x[i];
      nx = Math.sqrt(nx);
      if (!(nx > 0) || !Number.isFinite(nx)) {
        startVector(x, bs, pos + 7919 * (it + 1));
        continue;
      }
      for (let i = 0; i < bs; i++) x[i] /= nx;
      if (g * nm >= 1e8) {
        if (++extra >= 2) break;
      }
    }
    if (prev.length > 0) {
      // a last pass makes the cluster orthonormal to working precision
      orthogonalize(x, bs, z, n, lo, prev);
      let nx = 0;
      for (let i = 0; i < bs; i++) nx += x[i] * x[i];
      nx = Math.sqrt(nx);
      for (let i = 0; i < bs; i++) x[i] /= nx;
    }
    for (let i = 0; i < bs; i++) z[row + lo + i] = x[i];
    prev.push(j);
  }
  return { values, want, z };
}

/** z (k rows of length n) ← Q z, with the reflectors left in a by tridiagonalize. */
function backTransform(a: Float64Array, n: number, tau: Float64Array, z: Float64Array, k: number, kernels: Kernels): void {
  if (k === 0) return;
  for (let r = n - 3; r >= 0; r--) if (tau[r] !== 0) kernels.applyReflector(a, n, r, tau[r], z, k);
}

/**
 * Eigen-decomposition of the symmetric matrix a (n×n, upper triangle read, destroyed).
 * Returns all eigenvalues (descending) and the eigenvectors for the positions chosen by
 * `select` (rows of length n, in the order returned by select).
 */
export function symEig(
  a: Float64Array,
  n: number,
  work: EigenWork,
  select: (valuesDesc: Float64Array) => number[],
): { values: Float64Array; want: number[]; vectors: Float64Array } {
  const { kernels } = work;
  if (n === 0) return { values: new Float64Array(0), want: [], vectors: new Float64Array(0) };
  // scale to max |a_ij| = 1
  let mx = 0;
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) mx = Math.max(mx, Math.abs(a[i * n + j]));
  if (!(mx > 0) || !Number.isFinite(mx)) {
    // all zero, or non-finite entries (NaN eigenvalues then)
    const values = new Float64Array(n).fill(mx === 0 ? 0 : NaN);
    const want = select(values);
    const vectors = work.z.subarray(0, want.length * n);
    vectors.fill(0);
    want.forEach((p, j) => (vectors[j * n + p] = 1));
    return { values, want, vectors };
  }
  const sc = 1 / mx;
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) a[i * n + j] *= sc;
  const d = new Float64Array(n);
  const e = new Float64Array(Math.max(n - 1, 1));
  const tau = new Float64Array(Math.max(n - 2, 1));
  kernels.mark(null);
  tridiagonalize(a, n, d, e, tau, work);
  kernels.mark('tridiag');
  const { values, want, z } = tridiagEigen(d, e, n, (vals) => select(vals.map((v) => v * mx)), work.z);
  kernels.mark('tridiag-eig');
  backTransform(a, n, tau, z, want.length, kernels);
  kernels.mark('backtransform');
  for (let i = 0; i < n; i++) values[i] *= mx;
  return { values, want, vectors: z };
}
