/**
 * Shared machinery of the Gram-matrix route to the SVD of a conv weight.
 *
 * Input is tfjs's HWIO kernel flattened to wt (K×O, row-major); the matrix of interest is
 * M = diag(a)·W with W = wtᵀ (O×K). We work with its "short-fat" orientation
 *   X = M (n = O, l = K) when O ≤ K ("tall" wt),   X = Mᵀ (n = K, l = O) when K < O,
 * so X is n×l with n = min(O, K) ≤ l and its left singular vectors are the eigenvectors of the
 * small n×n Gram G = X Xᵀ. The only copy of the data is WA = wt·diag(a) in the input layout
 * (K rows, padded stride): when tall WA = Xᵀ and G = WAᵀ·WA, otherwise WA = X and G = WA·WAᵀ.
 * Nothing is ever transposed.
 *
 * Singular values: σ_i = √λ_i(G) has an absolute error of about ε·σ1²/σ_i. Where an eigenvector
 * u_i is at hand the Ritz value ‖Xᵀu_i‖ is used instead; its error is about ε·σ1 plus a term that
 * only matters below σ_i ≈ 1e-6·σ1. Values below ≈ √ε·σ1 ≈ 1e-8·σ1 cannot be resolved from a
 * Gram matrix at all (the rounding of G hides them); their absolute error stays ≲ 1e-7·σ1.
 */
import type { Arena } from './arena';
import type { Kernels } from './dispatch';
import { eigenWork, eigenWorkSize, symEig } from './eigen';

/** Eigenvalues below this fraction of λ1 get a Ritz refinement when their σ is needed accurately. */
const REFINE_REL = 1e-6;

export interface Prepared {
  kernels: Kernels;
  arena: Arena;
  K: number;
  O: number;
  n: number;
  l: number;
  tall: boolean;
  /** WA = wt·diag(a): K rows of stride ldWA, columns O … ldWA−1 zero. */
  hWA: number;
  ldWA: number;
  /** Scratch as large as WA: the padded Gram, later the projected matrix. */
  hT: number;
  /** Staging room for float32 input/output (⌈K·O/2⌉ doubles). */
  hStage: number;
  /** G (n×n), eigen work vectors, eigenvector rows (room for n×n). */
  hG: number;
  hWork: number;
  hZ: number;
  /** Σ x² over all entries (= ‖M‖_F²). */
  energy: number;
}

export function checkShape(wt: ArrayLike<number>, K: number, O: number): void {
  if (!Number.isInteger(K) || !Number.isInteger(O) || K < 1 || O < 1) throw new Error(`linalg: bad shape K=${K}, O=${O}`);
  if (wt.length !== K * O) throw new Error(`linalg: weights have length ${wt.length}, expected K·O = ${K * O}`);
}

export function roundUp4(x: number): number {
  return (x + 3) & ~3;
}

/**
 * Row stride for rows of x doubles: a multiple of 4 (the kernels work on 4-column blocks), and
 * not a multiple of 16 doubles so that consecutive rows do not alias in the L1 cache sets.
 */
function paddedStride(x: number): number {
  let ld = roundUp4(x);
  if (ld % 16 === 0) ld += 8;
  return ld;
}

/** Allocates the buffers, fills WA = wt·diag(a) and forms G = X Xᵀ. */
export function prepare(wt: Float32Array | Float64Array, K: number, O: number, scale: Float64Array | null, kernels: Kernels): Prepared {
  checkShape(wt, K, O);
  const tall = O <= K;
  const n = tall ? O : K;
  const l = tall ? K : O;
  const ldWA = paddedStride(O);
  const n4 = roundUp4(n);
  const arena = kernels.arena();
  const hWA = arena.add(K * ldWA);
  const hT = arena.add(Math.max(K * ldWA, n4 * n4));
  const hG = arena.add(n * n);
  const hWork = arena.add(eigenWorkSize(n));
  const hZ = arena.add(n * n);
  const hStage = arena.add(Math.ceil((K * O) / 2));
  const hScale = arena.add(O);
  const v = arena.views();
  const WA = v[hWA];
  const G = v[hG];
  const energy = kernels.fillScaled(wt, K, O, scale, v[hScale], WA, ldWA, v[hStage]);
  kernels.mark('fill');
  if (tall) {
    // G = WAᵀ WA: upper 4-blocks into the padded scratch, then copied out
    const Gp = v[hT];
    kernels.gemmNN(WA, 1, ldWA, WA, ldWA, Gp, n4, n4, n4, K, false, true);
    for (let i = 0; i < n; i++) G.set(Gp.subarray(i * n4 + i, i * n4 + n), i * n + i);
  } else {
    kernels.gemmNT(WA, ldWA, WA, ldWA, G, n, n, n, l, true);
  }
  kernels.mark('gram');
  return { kernels, arena, K, O, n, l, tall, hWA, ldWA, hT, hStage, hG, hWork, hZ, energy };
}

export interface GramDecomposition {
  /** All n eigenvalues of G, descending. */
  lambda: Float64Array;
  /** Positions (in descending order) that have eigenvectors; k = want.length. */
  want: number[];
  /** Arena index of Uᵀ: k rows of stride n (unit eigenvectors of G). */
  hUT: number;
  /**
   * Arena index of the vectors y_q = Xᵀu_q (length l): tall: Yᵀ with l rows of stride ldY
   * (column q = y_q); otherwise Y with k rows of stride ldY (row q = y_q).
   */
  hY: number;
  ldY: number;
  /** ‖Xᵀ u_q‖ for each wanted vector. */
  ritz: Float64Array;
}

/**
 * Eigen-decomposes G (destroyed) with vectors for the positions chosen by `select`, then forms
 * y_q = Xᵀ u_q and the Ritz values.
 */
export function decompose(p: Prepared, select: (lambdaDesc: Float64Array) => number[]): GramDecomposition {
  const { kernels, arena, n, l, tall } = p;
  let v = arena.views();
  const { values, want } = symEig(v[p.hG], n, eigenWork(kernels, v[p.hWork], v[p.hZ], n), select);
  kernels.mark('eigen');
  const k = want.length;
  const k4 = roundUp4(k);
  const ritz = new Float64Array(k);
  if (k === 0) return { lambda: values, want, hUT: p.hZ, hY: p.hZ, ldY: 0, ritz };
  if (tall) {
    // Yᵀ (K × k4) = WA (K × n) · U (n × k4)
    const hU = arena.add(n * k4);
    const hY = arena.add(l * k4);
    v = arena.views();
    const U = v[hU];
    const UT = v[p.hZ];
    const Y = v[hY];
    U.fill(0);
    for (let q = 0; q < k; q++) for (let i = 0; i < n; i++) U[i * k4 + q] = UT[q * n + i];
    kernels.gemmNN(v[p.hWA], p.ldWA, 1, U, k4, Y, k4, l, k4, n, false);
    for (let i = 0; i < l; i++) {
      const row = i * k4;
      for (let q = 0; q < k; q++) ritz[q] += Y[row + q] * Y[row + q];
    }
    for (let q = 0; q < k; q++) ritz[q] = Math.sqrt(ritz[q]);
    kernels.mark('project-Y');
    return { lambda: values, want, hUT: p.hZ, hY, ldY: k4, ritz };
  }
  // Y (k × ldWA) = Uᵀ (k × n) · WA (n × O)
  const hY = arena.add(k * p.ldWA);
  v = arena.views();
  const Y = v[hY];
  kernels.gemmNN(v[p.hZ], n, 1, v[p.hWA], p.ldWA, Y, p.ldWA, k, roundUp4(l), n, false);
  for (let q = 0; q < k; q++) {
    let s = 0;
    for (let j = 0; j < l; j++) s += Y[q * p.ldWA + j] * Y[q * p.ldWA + j];
    ritz[q] = Math.sqrt(s);
  }
  kernels.mark('project-Y');
  return { lambda: values, want, hUT: p.hZ, hY, ldY: p.ldWA, ritz };
}

/** Copies y_q = Xᵀu_q (length l) into out. */
export function yVector(p: Prepared, dec: GramDecomposition, Y: Float64Array, q: number, out: Float64Array): void {
  if (p.tall) for (let i = 0; i < p.l; i++) out[i] = Y[i * dec.ldY + q];
  else for (let i = 0; i < p.l; i++) out[i] = Y[q * dec.ldY + i];
}

/** Indices i in [from, to) with λ_i < REFINE_REL·λ_1. */
export function smallPositions(lambda: Float64Array, from: number, to: number): number[] {
  const out: number[] = [];
  const thr = REFINE_REL * Math.max(lambda[0], 0);
  for (let i = from; i < to; i++) if (!(lambda[i] >= thr) || lambda[i] <= 0) out.push(i);
  return out;
}

/** σ from the eigenvalues, overridden by Ritz values where available; sorted descending. */
export function sigmaFrom(dec: GramDecomposition): Float64Array {
  const n = dec.lambda.length;
  const s = new Float64Array(n);
  for (let i = 0; i < n; i++) s[i] = Math.sqrt(Math.max(dec.lambda[i], 0));
  dec.want.forEach((pos, j) => (s[pos] = dec.ritz[j]));
  s.sort();
  s.reverse();
  return s;
}

