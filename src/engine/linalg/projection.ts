/**
 * LRPET's projection of one conv weight (spec §3–§4):
 *   M = diag(a)·W,  M = UΣVᵀ,  Σ → Σ' (energy transfer),  M' = UΣ'Vᵀ,  W' = diag(a/(a²+1e-5))·M'.
 * With X the short-fat orientation of M (see gram.ts) and P the projector onto the top-r left
 * singular subspace, X' = s·P X + β·(I − P) X with s = √α (s = 1 without energy transfer). P is
 * applied through whichever of the top-r or the bottom-(n−r) eigenvectors of the Gram is the
 * smaller set:  X' = β X + (s−β)·U_r(U_rᵀX)  or  X' = s X + (β−s)·U_t(U_tᵀX).
 */
import { Kernels, type LinalgOptions } from './dispatch';
import { decompose, prepare, roundUp4, sigmaFrom, smallPositions } from './gram';

export interface ProjectOptions extends LinalgOptions {
  /** r, 1 ≤ r; r ≥ n means nothing is truncated. */
  rank: number;
  /** BN rectification factors a_j (length O); null/undefined = all ones. */
  scale?: Float64Array | null;
  /** β ∈ [0, 1). */
  beta: number;
  energyTransfer: boolean;
}

export interface ProjectResult {
  /** New wt (K×O, same layout as the input). */
  weights: Float32Array;
  /** All n singular values of M = diag(a)·W before, descending. */
  sigmaBefore: Float64Array;
  /** After energy transfer (spec §4). */
  sigmaAfter: Float64Array;
  /** E_K/E before. */
  energyKeptBefore: number;
  /** Σ_{i≤r} σ'² / Σ σ'². */
  energyKeptAfter: number;
  alpha: number;
  /** σ1 < 1e-4: weights returned unchanged (copy), alpha = 1. */
  skipped: boolean;
}

/** Same as ProjectResult with float64 weights (for callers that want full precision). */
export interface ProjectResult64 extends Omit<ProjectResult, 'weights'> {
  weights: Float64Array;
}

/** Layers whose largest singular value is below this are skipped (spec §4). */
const SKIP_SIGMA = 1e-4;
/** The ε of the regularised inverse a/(a² + ε) (spec §3). */
const RECTIFY_EPS = 1e-5;

/**
 * Energy transfer on a descending spectrum (spec §4). With E = Σσ², E_K = Σ_{i≤r}σ², E_P = E − E_K:
 * α = (E − β²E_P)/E_K, σ'_i = √α·σ_i (i ≤ r), β·σ_i (i > r). Without energy transfer the kept σ stay
 * (α reported as 1) and the tail becomes β·σ_i.
 */
export function transferEnergy(
  sigma: Float64Array,
  r: number,
  beta: number,
  energyTransfer: boolean,
): { sigma: Float64Array; alpha: number; energyKeptBefore: number; energyKeptAfter: number } {
  checkRankBeta(r, beta);
  const n = sigma.length;
  const rr = Math.min(Math.floor(r), n);
  let ek = 0;
  let ep = 0;
  for (let i = 0; i < rr; i++) ek += sigma[i] * sigma[i];
  for (let i = rr; i < n; i++) ep += sigma[i] * sigma[i];
  const e = ek + ep;
  const out = new Float64Array(n);
  if (!(e > 0) || !(ek > 0)) {
    for (let i = 0; i < n; i++) out[i] = i < rr ? sigma[i] : beta * sigma[i];
    let k2 = 0;
    let t2 = 0;
    for (let i = 0; i < n; i++) {
      t2 += out[i] * out[i];
      if (i < rr) k2 += out[i] * out[i];
    }
    return { sigma: out, alpha: 1, energyKeptBefore: e > 0 ? ek / e : 1, energyKeptAfter: t2 > 0 ? k2 / t2 : 1 };
  }
  const alpha = energyTransfer ? (e - beta * beta * ep) / ek : 1;
  const s = Math.sqrt(alpha);
  let k2 = 0;
  let t2 = 0;
  for (let i = 0; i < n; i++) {
    const x = i < rr ? s * sigma[i] : beta * sigma[i];
    out[i] = x;
    if (i < rr) k2 += x * x;
    else t2 += x * x;
  }
  t2 += k2;
  return { sigma: out, alpha, energyKeptBefore: ek / e, energyKeptAfter: t2 > 0 ? k2 / t2 : 1 };
}

function checkRankBeta(r: number, beta: number): void {
  if (!(r >= 1) || !Number.isFinite(r)) throw new Error(`linalg: rank must be ≥ 1, got ${r}`);
  if (!(beta >= 0 && beta < 1)) throw new Error(`linalg: beta must be in [0, 1), got ${beta}`);
}

/** LRPET projection of one conv weight wt (K×O). See the module comment and spec §3–§4. */
export function projectMatrix(wt: Float32Array | Float64Array, K: number, O: number, opts: ProjectOptions): ProjectResult {
  return project(wt, K, O, opts, new Float32Array(K * O)) as ProjectResult;
}

/** projectMatrix with float64 output weights. */
export function projectMatrix64(wt: Float32Array | Float64Array, K: number, O: number, opts: ProjectOptions): ProjectResult64 {
  return project(wt, K, O, opts, new Float64Array(K * O)) as ProjectResult64;
}

function project(
  wt: Float32Array | Float64Array,
  K: number,
  O: number,
  opts: ProjectOptions,
  out: Float32Array | Float64Array,
): ProjectResult | ProjectResult64 {
  const { beta, energyTransfer } = opts;
  checkRankBeta(opts.rank, beta);
  const scale = opts.scale ?? null;
  if (scale && scale.length !== O) throw new Error(`linalg: scale has length ${scale.length}, expected O = ${O}`);
  const kernels = new Kernels(opts);
  kernels.mark(null);
  const p = prepare(wt, K, O, scale, kernels);
  const { n, tall } = p;
  const rr = Math.min(Math.floor(opts.rank), n);

  // which eigenvectors: S (for the projector) first, then R (kept σ that need refinement)
  let nS = 0;
  let complement = false;
  const dec = decompose(p, (lam) => {
    if (!(lam[0] > 0)) return [];
    let S: number[];
    let R: number[];
    if (rr >= n) {
      S = [];
      R = smallPositions(lam, 0, n);
    } else if (rr <= n - rr) {
      S = range(0, rr);
      R = [];
    } else {
      complement = true;
      S = range(rr, n);
      R = smallPositions(lam, 0, rr);
    }
    nS = S.length;
    return S.concat(R);
  });
  const sigmaBefore = sigmaFrom(dec);
  const te = transferEnergy(sigmaBefore, rr, beta, energyTransfer);
  if (!(sigmaBefore[0] >= SKIP_SIGMA)) {
    for (let i = 0; i < K * O; i++) out[i] = wt[i];
    return {
      weights: out,
      sigmaBefore,
      sigmaAfter: Float64Array.from(sigmaBefore),
      energyKeptBefore: te.energyKeptBefore,
      energyKeptAfter: te.energyKeptBefore,
      alpha: 1,
      skipped: true,
    } as ProjectResult;
  }

  const cw = new Float64Array(O);
  for (let o = 0; o < O; o++) {
    const a = scale ? scale[o] : 1;
    cw[o] = a / (a * a + RECTIFY_EPS);
  }
  const s = energyTransfer ? Math.sqrt(te.alpha) : 1;

  const { ldWA } = p;
  let v = p.arena.views();
  if (nS === 0) {
    // nothing truncated: M' = M (α = 1); WA is M in the wt layout
    const WA = v[p.hWA];
    for (let k = 0; k < K; k++) {
      const src = k * ldWA;
      const dst = k * O;
      for (let o = 0; o < O; o++) out[dst + o] = cw[o] * WA[src + o];
    }
  } else {
    // X' = c1·X + c2·U_S(U_Sᵀ X), written in the wt layout as T = rows of wt', with the output
    // scaling diag(cw) and c2 folded into the small right-hand factor.
    const c1 = complement ? s : beta;
    const c2 = complement ? beta - s : s - beta;
    const O4 = roundUp4(O);
    const hB = p.arena.add(nS * (tall ? O4 : ldWA));
    v = p.arena.views();
    const WA = v[p.hWA];
    const T = v[p.hT];
    const B = v[hB];
    const UT = v[dec.hUT];
    const Y = v[dec.hY];
    if (c1 !== 0) {
      for (let k = 0; k < K; k++) {
        const row = k * ldWA;
        for (let o = 0; o < O; o++) T[row + o] = c1 * cw[o] * WA[row + o];
        for (let o = O; o < ldWA; o++) T[row + o] = 0;
      }
    }
    if (tall) {
      // T (K × O) += Yᵀ_S (K × nS) · B,  B[s][o] = c2·cw[o]·u_s[o]
      for (let q = 0; q < nS; q++) {
        const row = q * O4;
        for (let o = 0; o < O; o++) B[row + o] = c2 * cw[o] * UT[q * n + o];
        for (let o = O; o < O4; o++) B[row + o] = 0;
      }
      kernels.gemmNN(Y, dec.ldY, 1, B, O4, T, ldWA, K, O4, nS, c1 !== 0);
    } else {
      // T (K × O) += U_S (K × nS) · B,  B[s][o] = c2·cw[o]·y_s[o]
      for (let q = 0; q < nS; q++) {
        const row = q * ldWA;
        for (let o = 0; o < O; o++) B[row + o] = c2 * cw[o] * Y[q * dec.ldY + o];
        for (let o = O; o < ldWA; o++) B[row + o] = 0;
      }
      kernels.gemmNN(UT, 1, n, B, ldWA, T, ldWA, K, O4, nS, c1 !== 0);
    }
    kernels.mark('project-T');
    kernels.copyOut(out, T, K, O, ldWA, v[p.hStage]);
  }
  kernels.mark('output');
  return {
    weights: out,
    sigmaBefore,
    sigmaAfter: te.sigma,
    energyKeptBefore: te.energyKeptBefore,
    energyKeptAfter: te.energyKeptAfter,
    alpha: energyTransfer ? te.alpha : 1,
    skipped: false,
  } as ProjectResult;
}

function range(a: number, b: number): number[] {
  const out: number[] = [];
  for (let i = a; i < b; i++) out.push(i);
  return out;
}
