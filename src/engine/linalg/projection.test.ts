/**
 * LRPET projection (spec §3–§4) against a float64 LAPACK reference (numpy.linalg.svd via
 * bench/numpy_ref.py). numpy is required: the suite fails (it never skips) without it.
 */
import { describe, expect, it } from 'vitest';
import {
  initLinalg,
  linalgBackend,
  projectMatrix,
  projectMatrix64,
  releaseLinalgMemory,
  transferEnergy,
  type ProjectResult,
  type ProjectResult64,
} from './index';
import { bnScale, gaussianWt, geometricSpectrum, memo, relFro, TestRng, wtWithSpectrum } from './fixtures.test-helper';
import { numpyCompute, requireNumpy, type ContainerItem } from '../../node/numpy-ref';

type Kind = 'random' | 'ill' | 'deficient';

interface Case {
  name: string;
  kind: Kind;
  K: number;
  O: number;
  rank: number;
  beta: number;
  et: boolean;
  wt: Float64Array | Float32Array;
  scale: Float64Array | null;
}

function buildCases(): Case[] {
  const rng = new TestRng(20240601);
  const cases: Case[] = [];
  const add = (c: Omit<Case, 'wt'> & { wt?: Float64Array | Float32Array }, wt: Float64Array | Float32Array): void => {
    cases.push({ ...c, wt });
  };
  const C = (name: string, kind: Kind, K: number, O: number, rank: number, beta: number, et: boolean, scale: Float64Array | null, wt: Float64Array | Float32Array): void =>
    add({ name, kind, K, O, rank, beta, et, scale }, wt);

  // random matrices, shapes of real convs / dense layers
  C('16×144 conv, BN, β=0', 'random', 144, 16, 6, 0, true, bnScale(rng, 16), gaussianWt(rng, 144, 16));
  C('16×144 conv float32 input, β=0.3', 'random', 144, 16, 6, 0.3, true, bnScale(rng, 16), Float32Array.from(gaussianWt(rng, 144, 16)));
  C('64×576 conv, BN with dead channels, β=0', 'random', 576, 64, 27, 0, true, bnScale(rng, 64, 5), gaussianWt(rng, 576, 64));
  C('64×576 conv, no BN, β=0.5', 'random', 576, 64, 27, 0.5, true, null, gaussianWt(rng, 576, 64));
  C('64×576 conv, energy transfer off, β=0.2', 'random', 576, 64, 27, 0.2, false, bnScale(rng, 64), gaussianWt(rng, 576, 64));
  C('64×576 conv, energy transfer off, β=0', 'random', 576, 64, 10, 0, false, null, gaussianWt(rng, 576, 64));
  C('64×576 conv, r > n/2 (complement route), BN', 'random', 576, 64, 43, 0.1, true, bnScale(rng, 64), gaussianWt(rng, 576, 64));
  C('10×64 dense', 'random', 64, 10, 3, 0, true, null, gaussianWt(rng, 64, 10, 0.2));
  C('64×64 square', 'random', 64, 64, 20, 0, true, bnScale(rng, 64), gaussianWt(rng, 64, 64));
  C('odd O, float32: 15×135, BN', 'random', 135, 15, 5, 0, true, bnScale(rng, 15), Float32Array.from(gaussianWt(rng, 135, 15)));
  C('odd O, float32, K<O: 33×18, β=0.1', 'random', 18, 33, 7, 0.1, true, bnScale(rng, 33), Float32Array.from(gaussianWt(rng, 18, 33)));
  C('K<O: 64×27 stem conv, BN', 'random', 27, 64, 18, 0, true, bnScale(rng, 64, 2), gaussianWt(rng, 27, 64));
  C('K<O: 128×72, β=0.2', 'random', 72, 128, 20, 0.2, true, bnScale(rng, 128), gaussianWt(rng, 72, 128));
  C('K<O: 128×72, r > n/2 (complement route)', 'random', 72, 128, 50, 0, true, bnScale(rng, 128, 3), gaussianWt(rng, 72, 128));
  C('K<O: 512×9, r = 3', 'random', 9, 512, 3, 0, true, null, gaussianWt(rng, 9, 512));
  C('r ≥ n: nothing truncated, BN', 'random', 288, 32, 40, 0, true, bnScale(rng, 32, 2), gaussianWt(rng, 288, 32));
  C('r = n exactly, β=0.4', 'random', 288, 32, 32, 0.4, true, null, gaussianWt(rng, 288, 32));
  C('r = 1', 'random', 288, 32, 1, 0, true, bnScale(rng, 32), gaussianWt(rng, 288, 32));
  C('1×9 (n = 1)', 'random', 9, 1, 1, 0, true, null, gaussianWt(rng, 9, 1));
  C('128×1152 conv, r = 100 (complement route)', 'random', 1152, 128, 100, 0, true, bnScale(rng, 128), gaussianWt(rng, 1152, 128));
  C('512×4608 conv (VGG), r = 43, BN', 'random', 4608, 512, 43, 0, true, bnScale(rng, 512, 4), Float32Array.from(gaussianWt(rng, 4608, 512, 0.02)));

  // ill-conditioned: geometric spectra down to 1e-8
  const ill = (K: number, O: number): Float64Array => wtWithSpectrum(rng, K, O, geometricSpectrum(Math.min(K, O), 8, 2));
  C('ill 64×576 (σ to 1e-8), r=27, BN', 'ill', 576, 64, 27, 0, true, bnScale(rng, 64), ill(576, 64));
  C('ill 64×576 (σ to 1e-8), r=27, β=0.5', 'ill', 576, 64, 27, 0.5, true, null, ill(576, 64));
  C('ill 64×576 (σ to 1e-8), r=48 (complement route)', 'ill', 576, 64, 48, 0, true, null, ill(576, 64));
  C('ill 64×576 (σ to 1e-8), r=60: keeps σ < √ε·σ1', 'ill', 576, 64, 60, 0, true, null, ill(576, 64));
  C('ill 64×576 (σ to 1e-8), energy transfer off', 'ill', 576, 64, 16, 0.3, false, bnScale(rng, 64, 3), ill(576, 64));
  C('ill K<O 64×27 (σ to 1e-8), r=12', 'ill', 27, 64, 12, 0, true, bnScale(rng, 64), ill(27, 64));
  C('ill 16×144 (σ to 1e-8), r=6', 'ill', 144, 16, 6, 0.2, true, null, ill(144, 16));

  // rank-deficient
  const deficient = (K: number, O: number, rank: number): Float64Array => {
    const n = Math.min(K, O);
    const s = new Float64Array(n);
    for (let i = 0; i < rank; i++) s[i] = 1 + rng.uniform();
    s.sort().reverse();
    return wtWithSpectrum(rng, K, O, s);
  };
  C('rank-10 64×576, r=5', 'deficient', 576, 64, 5, 0, true, bnScale(rng, 64), deficient(576, 64, 10));
  C('rank-10 64×576, r=20 > rank', 'deficient', 576, 64, 20, 0, true, null, deficient(576, 64, 10));
  C('rank-10 64×576, r=40 > rank (complement route), β=0.3', 'deficient', 576, 64, 40, 0.3, true, null, deficient(576, 64, 10));
  C('rank-4 K<O 64×27, r=10', 'deficient', 27, 64, 10, 0, true, bnScale(rng, 64), deficient(27, 64, 4));
  C('rank-8 32×288, nothing truncated', 'deficient', 288, 32, 32, 0, true, null, deficient(288, 32, 8));
  return cases;
}

/**
 * Relative error of the values ≥ tiny·s1 and absolute error (in units of s1) of the smaller ones,
 * over the first `count` entries.
 */
function sigmaErrors(a: ArrayLike<number>, b: ArrayLike<number>, count: number, s1: number, tiny = 1e-6): { rel: number; abs: number } {
  let rel = 0;
  let abs = 0;
  for (let j = 0; j < count; j++) {
    const err = Math.abs(a[j] - b[j]);
    if (b[j] >= tiny * s1) rel = Math.max(rel, err / b[j]);
    else abs = Math.max(abs, err / s1);
  }
  return { rel, abs };
}

const cases = buildCases();

interface Computed {
  ours64: ProjectResult64[];
  ours32: ProjectResult[];
  ref: { meta: Record<string, unknown>; arrays: Record<string, Float64Array> }[];
  /** numpy singular values of our W' (f64 and f32), for the rank check. */
  svOurs64: Float64Array[];
  svOurs32: Float64Array[];
}

/** Our projections and the numpy reference, computed once; throws (every caller fails) without numpy. */
const computed = memo((): Computed => {
  requireNumpy();
  const ours64 = cases.map((c) => projectMatrix64(c.wt, c.K, c.O, { rank: c.rank, scale: c.scale, beta: c.beta, energyTransfer: c.et }));
  const ours32 = cases.map((c) => projectMatrix(c.wt, c.K, c.O, { rank: c.rank, scale: c.scale, beta: c.beta, energyTransfer: c.et }));
  const items: ContainerItem[] = cases.map((c) => {
    const arrays: Record<string, ArrayLike<number>> = { wt: c.wt };
    if (c.scale) arrays.scale = c.scale;
    return { meta: { op: 'project', K: c.K, O: c.O, rank: c.rank, beta: c.beta, energyTransfer: c.et }, arrays };
  });
  cases.forEach((c, i) => {
    items.push({ meta: { op: 'svd', K: c.K, O: c.O }, arrays: { wt: ours64[i].weights } });
    items.push({ meta: { op: 'svd', K: c.K, O: c.O }, arrays: { wt: ours32[i].weights } });
  });
  const out = numpyCompute(items);
  return {
    ours64,
    ours32,
    ref: out.slice(0, cases.length),
    svOurs64: cases.map((_, i) => out[cases.length + 2 * i].arrays.sigma),
    svOurs32: cases.map((_, i) => out[cases.length + 2 * i + 1].arrays.sigma),
  };
});
const report: string[] = [];

describe('numpy reference', () => {
  it('python3 with numpy is available (required, never skipped)', () => {
    expect(() => requireNumpy()).not.toThrow();
  });
  it('the wasm SIMD kernels are active in this runtime', () => {
    expect(linalgBackend()).toBe('wasm');
  });
});

describe('projectMatrix vs numpy float64 SVD', () => {
  it.each(cases.map((c, i) => [c.name, i] as const))('%s', (_name, i) => {
    const { ours64, ours32, ref, svOurs64, svOurs32 } = computed();
    const c = cases[i];
    const o64 = ours64[i];
    const o32 = ours32[i];
    const R = ref[i];
    const n = Math.min(c.K, c.O);
    const r = Math.min(c.rank, n);
    const sRef = R.arrays.sigma;
    expect(o64.skipped).toBe(false);
    expect(o64.sigmaBefore.length).toBe(n);
    // descending
    for (let j = 1; j < n; j++) expect(o64.sigmaBefore[j]).toBeLessThanOrEqual(o64.sigmaBefore[j - 1]);

    // singular values: top r to 1e-5 relative, all of them when well-conditioned; values the
    // Gram route cannot resolve (σ < 1e-6·σ1: zero singular values of rank-deficient inputs,
    // the tail of the 1e-8 spectra) to 1e-7·σ1 absolute
    const s1 = sRef[0];
    const check = c.kind === 'random' ? n : r;
    const { rel: topRel, abs: absTail } = sigmaErrors(o64.sigmaBefore, sRef, check, s1);
    expect(topRel).toBeLessThan(1e-5);
    expect(absTail).toBeLessThan(1e-7);
    for (let j = 0; j < n; j++) expect(Math.abs(o64.sigmaBefore[j] - sRef[j])).toBeLessThan(1e-6 * s1);

    // energy transfer numbers
    expect(Math.abs(o64.alpha - (R.meta.alpha as number)) / (R.meta.alpha as number)).toBeLessThan(1e-9);
    expect(Math.abs(o64.energyKeptBefore - (R.meta.energyKeptBefore as number))).toBeLessThan(1e-10);
    expect(Math.abs(o64.energyKeptAfter - (R.meta.energyKeptAfter as number))).toBeLessThan(1e-10);
    const after = sigmaErrors(o64.sigmaAfter, R.arrays.sigmaAfter, r, R.arrays.sigmaAfter[0]);
    expect(after.rel).toBeLessThan(1e-5);
    expect(after.abs).toBeLessThan(1e-7);

    // projected weights
    const e64 = relFro(o64.weights, R.arrays.weights);
    const e32 = relFro(o32.weights, R.arrays.weights);
    expect(e64).toBeLessThan(1e-5);
    expect(e32).toBeLessThan(1e-5);
    expect(o32.weights).toBeInstanceOf(Float32Array);

    // rank(W') ≤ r when β = 0 (and something was truncated)
    if (c.beta === 0 && r < n) {
      const sv = svOurs64[i];
      expect(sv[r] / sv[0]).toBeLessThan(1e-10);
      const sv32 = svOurs32[i];
      expect(sv32[r] / sv32[0]).toBeLessThan(1e-6);
    }
    report.push(
      `${c.name.padEnd(52)} σ top-r rel ${topRel.toExponential(1)}  tail abs/σ1 ${absTail.toExponential(1)}  W' f64 ${e64.toExponential(1)}  f32 ${e32.toExponential(1)}`,
    );
    if (i === cases.length - 1) console.log(`accuracy vs numpy:\n${report.join('\n')}`);
  });

  it('with energy transfer the Frobenius norm of M is conserved (M′ = diag((a²+ε)/a)·W′)', () => {
    const { ours64 } = computed();
    for (const [i, c] of cases.entries()) {
      if (!c.et || !c.scale || c.scale.some((a) => a < 0.1)) continue;
      let e0 = 0;
      let e1 = 0;
      for (let k = 0; k < c.K; k++) {
        for (let o = 0; o < c.O; o++) {
          const a = c.scale[o];
          e0 += (a * c.wt[k * c.O + o]) ** 2;
          e1 += (((a * a + 1e-5) / a) * ours64[i].weights[k * c.O + o]) ** 2;
        }
      }
      expect(Math.abs(e1 - e0) / e0).toBeLessThan(1e-10);
    }
  });
});

describe('JavaScript fallback', () => {
  it('gives the same projections as the wasm kernels', () => {
    const picked = cases.filter((c) => c.K * c.O <= 200_000);
    const wasm = picked.map((c) => projectMatrix64(c.wt, c.K, c.O, { rank: c.rank, scale: c.scale, beta: c.beta, energyTransfer: c.et }));
    expect(linalgBackend('js')).toBe('js');
    picked.forEach((c, i) => {
      const js = projectMatrix64(c.wt, c.K, c.O, { rank: c.rank, scale: c.scale, beta: c.beta, energyTransfer: c.et, backend: 'js' });
      // kept values to 1e-8 (those taken from √λ, when r ≥ n, carry ≈ ε·σ1²/σ_i absolute error)
      const n = Math.min(c.K, c.O);
      const s1 = wasm[i].sigmaBefore[0];
      // a cut below √ε·σ1 is itself only determined to ≈ 1e-8 (see gram.ts)
      const resolvable = wasm[i].sigmaBefore[Math.min(c.rank, n) - 1] >= 1e-6 * s1;
      expect(relFro(js.weights, wasm[i].weights)).toBeLessThan(resolvable ? 1e-9 : 1e-6);
      const e = sigmaErrors(js.sigmaBefore, wasm[i].sigmaBefore, Math.min(c.rank, n), s1);
      expect(e.rel).toBeLessThan(1e-8);
      expect(e.abs).toBeLessThan(1e-7);
      for (let j = 0; j < n; j++) expect(Math.abs(js.sigmaBefore[j] - wasm[i].sigmaBefore[j])).toBeLessThan(1e-7 * s1);
    });
  });
});

describe('skip rule', () => {
  it('skips a layer whose σ1 < 1e-4 and returns a copy of the weights', () => {
    const rng = new TestRng(7);
    const wt = Float32Array.from(gaussianWt(rng, 144, 16, 1e-7));
    const r = projectMatrix(wt, 144, 16, { rank: 4, beta: 0, energyTransfer: true });
    expect(r.skipped).toBe(true);
    expect(r.alpha).toBe(1);
    expect(r.sigmaBefore[0]).toBeLessThan(1e-4);
    expect(r.sigmaBefore[0]).toBeGreaterThan(0);
    expect(Array.from(r.weights)).toEqual(Array.from(wt));
    expect(r.weights).not.toBe(wt);
    expect(Array.from(r.sigmaAfter)).toEqual(Array.from(r.sigmaBefore));
  });
  it('uses σ1 of diag(a)·W, not of W', () => {
    const rng = new TestRng(8);
    const wt = gaussianWt(rng, 144, 16, 0.05);
    const tiny = new Float64Array(16).fill(1e-6);
    expect(projectMatrix(wt, 144, 16, { rank: 4, scale: tiny, beta: 0, energyTransfer: true }).skipped).toBe(true);
    expect(projectMatrix(wt, 144, 16, { rank: 4, beta: 0, energyTransfer: true }).skipped).toBe(false);
  });
  it('skips an all-zero layer', () => {
    const r = projectMatrix(new Float32Array(64 * 10), 64, 10, { rank: 3, beta: 0.2, energyTransfer: true });
    expect(r.skipped).toBe(true);
    expect(r.alpha).toBe(1);
    expect(Array.from(r.sigmaBefore)).toEqual(new Array(10).fill(0));
  });
});

describe('non-finite weights', () => {
  it('leaves a layer with NaN or ±Infinity untouched (skipped, NaN spectrum) instead of throwing', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const wt = Float32Array.from(gaussianWt(new TestRng(3), 144, 16));
      wt[100] = bad;
      const r = projectMatrix(wt, 144, 16, { rank: 4, beta: 0, energyTransfer: true });
      expect(r.skipped).toBe(true);
      expect(r.alpha).toBe(1);
      expect(Number.isNaN(r.sigmaBefore[0])).toBe(true);
      expect(Array.from(r.weights)).toEqual(Array.from(wt));
    }
  });
});

describe('workspace', () => {
  it('initLinalg compiles the kernels asynchronously', async () => {
    releaseLinalgMemory();
    await expect(initLinalg()).resolves.toBe('wasm');
    expect(linalgBackend()).toBe('wasm');
  });
  it('can be released and is re-created on the next call', () => {
    const rng = new TestRng(11);
    const c = { wt: gaussianWt(rng, 576, 64), scale: bnScale(rng, 64) };
    const a = projectMatrix64(c.wt, 576, 64, { rank: 20, scale: c.scale, beta: 0, energyTransfer: true });
    releaseLinalgMemory();
    const b = projectMatrix64(c.wt, 576, 64, { rank: 20, scale: c.scale, beta: 0, energyTransfer: true });
    expect(Array.from(b.weights)).toEqual(Array.from(a.weights));
    expect(linalgBackend()).toBe('wasm');
  });
});

describe('input validation', () => {
  const wt = new Float32Array(27 * 4).fill(1);
  it('rejects bad rank, β, shapes and scale length', () => {
    expect(() => projectMatrix(wt, 27, 4, { rank: 0, beta: 0, energyTransfer: true })).toThrow(/rank/);
    expect(() => projectMatrix(wt, 27, 4, { rank: 2, beta: 1, energyTransfer: true })).toThrow(/beta/);
    expect(() => projectMatrix(wt, 27, 4, { rank: 2, beta: -0.1, energyTransfer: true })).toThrow(/beta/);
    expect(() => projectMatrix(wt, 26, 4, { rank: 2, beta: 0, energyTransfer: true })).toThrow(/length/);
    expect(() => projectMatrix(wt, 27, 4, { rank: 2, beta: 0, energyTransfer: true, scale: new Float64Array(3) })).toThrow(/scale/);
  });
});

describe('transferEnergy (spec §4)', () => {
  const rng = new TestRng(99);
  const spectra: Float64Array[] = [];
  for (let t = 0; t < 20; t++) {
    const n = 1 + Math.floor(rng.uniform() * 200);
    const s = new Float64Array(n);
    for (let i = 0; i < n; i++) s[i] = Math.exp(3 * rng.normal());
    s.sort().reverse();
    spectra.push(s);
  }
  const sum2 = (a: ArrayLike<number>, from = 0, to = a.length): number => {
    let x = 0;
    for (let i = from; i < to; i++) x += a[i] * a[i];
    return x;
  };

  it('conserves Σσ² and follows α = (E − β²E_P)/E_K', () => {
    for (const s of spectra) {
      for (const beta of [0, 0.2, 0.5, 0.9]) {
        const r = Math.max(1, Math.floor(s.length * rng.uniform()));
        const t = transferEnergy(s, r, beta, true);
        const E = sum2(s);
        const EK = sum2(s, 0, Math.min(r, s.length));
        const EP = E - EK;
        expect(Math.abs(sum2(t.sigma) - E) / E).toBeLessThan(1e-10);
        expect(Math.abs(t.alpha - (E - beta * beta * EP) / EK) / t.alpha).toBeLessThan(1e-12);
        for (let i = 0; i < s.length; i++) {
          const want = i < r ? Math.sqrt(t.alpha) * s[i] : beta * s[i];
          expect(Math.abs(t.sigma[i] - want)).toBeLessThanOrEqual(1e-14 * Math.abs(want));
        }
        expect(t.energyKeptBefore).toBeCloseTo(EK / E, 12);
        expect(t.energyKeptAfter).toBeCloseTo((t.alpha * EK) / E, 12);
      }
    }
  });

  it('β = 0 is the best rank-r approximation scaled by √(E/E_K)', () => {
    const s = Float64Array.from([5, 4, 3, 2, 1]);
    const t = transferEnergy(s, 2, 0, true);
    expect(t.alpha).toBeCloseTo(55 / 41, 14);
    expect(Array.from(t.sigma.slice(2))).toEqual([0, 0, 0]);
    expect(t.energyKeptAfter).toBe(1);
  });

  it('without energy transfer keeps σ_i (i ≤ r), scales the tail by β and reports α = 1', () => {
    const s = Float64Array.from([5, 4, 3, 2, 1]);
    const t = transferEnergy(s, 2, 0.5, false);
    expect(t.alpha).toBe(1);
    expect(Array.from(t.sigma)).toEqual([5, 4, 1.5, 1, 0.5]);
    expect(t.energyKeptBefore).toBeCloseTo(41 / 55, 14);
    expect(t.energyKeptAfter).toBeCloseTo(41 / (41 + 3.5), 14);
  });

  it('r ≥ n truncates nothing (α = 1 exactly)', () => {
    const s = Float64Array.from([3, 2, 1]);
    for (const r of [3, 4, 100]) {
      const t = transferEnergy(s, r, 0.3, true);
      expect(t.alpha).toBe(1);
      expect(Array.from(t.sigma)).toEqual([3, 2, 1]);
      expect(t.energyKeptBefore).toBe(1);
    }
  });

  it('handles an all-zero spectrum', () => {
    const t = transferEnergy(new Float64Array(4), 2, 0.5, true);
    expect(t.alpha).toBe(1);
    expect(Array.from(t.sigma)).toEqual([0, 0, 0, 0]);
  });
});
