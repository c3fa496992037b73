/**
 * Public SVD / eigen entry points built on the Gram route (gram.ts) and the symmetric eigensolver
 * (eigen.ts).
 */
import { Kernels, workspace, type LinalgOptions } from './dispatch';
import { EPS, eigenWork, eigenWorkSize, symEig } from './eigen';
import { checkShape, decompose, prepare, sigmaFrom, smallPositions, yVector } from './gram';

export interface TruncatedSvd {
  /** O×r row-major. */
  u: Float64Array;
  /** r. */
  s: Float64Array;
  /** K×r row-major. */
  v: Float64Array;
}

/** All n = min(O, K) singular values of W = wtᵀ, descending. */
export function singularValues(wt: Float32Array | Float64Array, K: number, O: number, opts: LinalgOptions = {}): Float64Array {
  const p = prepare(wt, K, O, null, new Kernels(opts));
  const dec = decompose(p, (lam) => (lam[0] > 0 ? smallPositions(lam, 0, p.n) : []));
  return sigmaFrom(dec);
}

/**
 * Rank-r truncated SVD of W = wtᵀ (O×K) = U diag(s) Vᵀ. Columns are ordered by descending s.
 * If r exceeds n = min(O, K) the extra columns are zero (s = 0, zero vectors), so the layout
 * always has r columns. Singular vectors of (numerically) zero singular values are an arbitrary
 * orthonormal completion.
 */
export function truncatedSvd(wt: Float32Array | Float64Array, K: number, O: number, r: number, opts: LinalgOptions = {}): TruncatedSvd {
  checkShape(wt, K, O);
  if (!Number.isInteger(r) || r < 1) throw new Error(`linalg: rank must be an integer ≥ 1, got ${r}`);
  const p = prepare(wt, K, O, null, new Kernels(opts));
  const { n, l, tall } = p;
  const rr = Math.min(r, n);
  const dec = decompose(p, () => Array.from({ length: rr }, (_, i) => i));
  const v = p.arena.views();
  const UT = v[dec.hUT];
  const Y = v[dec.hY];
  const yq = new Float64Array(l);
  // descending order of the Ritz values
  const order = Array.from({ length: rr }, (_, j) => j).sort((x, y) => dec.ritz[y] - dec.ritz[x] || x - y);
  const s = new Float64Array(r);
  // other side: columns of Yᵀ / s, orthonormalised (Gram–Schmidt twice, completion where needed)
  const other = new Float64Array(rr * l);
  const smax = rr > 0 ? dec.ritz[order[0]] : 0;
  let seed = 12345;
  const rand = (): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 4294967296 - 0.5;
  };
  for (let q = 0; q < rr; q++) {
    const j = order[q];
    const sj = dec.ritz[j];
    s[q] = sj;
    const row = q * l;
    const useY = sj > 0 && sj > smax * EPS * 4;
    if (useY) yVector(p, dec, Y, j, yq);
    for (let i = 0; i < l; i++) other[row + i] = useY ? yq[i] / sj : rand();
    for (let attempt = 0; attempt < 3; attempt++) {
      let before = 0;
      for (let i = 0; i < l; i++) before += other[row + i] * other[row + i];
      for (let pass = 0; pass < 2; pass++) {
        for (let pq = 0; pq < q; pq++) {
          const pr = pq * l;
          let dot = 0;
          for (let i = 0; i < l; i++) dot += other[row + i] * other[pr + i];
          for (let i = 0; i < l; i++) other[row + i] -= dot * other[pr + i];
        }
      }
      let nrm = 0;
      for (let i = 0; i < l; i++) nrm += other[row + i] * other[row + i];
      if (nrm > 1e-4 * before && nrm > 0) {
        const inv = 1 / Math.sqrt(nrm);
        for (let i = 0; i < l; i++) other[row + i] *= inv;
        break;
      }
      for (let i = 0; i < l; i++) other[row + i] = rand();
    }
  }
  const u = new Float64Array(O * r);
  const vv = new Float64Array(K * r);
  // tall: U side = eigenvectors (length O = n), V side = other (length K = l); wide: swapped
  const eig = tall ? u : vv;
  const oth = tall ? vv : u;
  for (let q = 0; q < rr; q++) {
    const j = order[q];
    for (let i = 0; i < n; i++) eig[i * r + q] = UT[j * n + i];
    for (let i = 0; i < l; i++) oth[i * r + q] = other[q * l + i];
  }
  return { u, s, v: vv };
}

/**
 * Eigen-decomposition of the symmetric n×n row-major matrix a (upper triangle read; a is not
 * modified). values: all n eigenvalues, descending. vectors: n×k row-major, column j = the unit
 * eigenvector of values[j], for the top k = opts.vectors (default n).
 */
export function symmetricEigen(
  a: Float64Array,
  n: number,
  opts: { vectors?: number } & LinalgOptions = {},
): { values: Float64Array; vectors: Float64Array } {
  if (!Number.isInteger(n) || n < 0 || a.length < n * n) throw new Error(`linalg: bad symmetric matrix (n=${n}, length ${a.length})`);
  const k = Math.max(0, Math.min(n, Math.floor(opts.vectors ?? n)));
  const kernels = new Kernels(opts);
  const [A, W, Z] = workspace(kernels, [n * n, eigenWorkSize(n), n * k]);
  A.set(a.subarray(0, n * n));
  const { values, vectors } = symEig(A, n, eigenWork(kernels, W, Z, n), () => Array.from({ length: k }, (_, i) => i));
  const out = new Float64Array(n * k);
  for (let j = 0; j < k; j++) for (let i = 0; i < n; i++) out[i * k + j] = vectors[j * n + i];
  return { values, vectors: out };
}
