/**
 * symmetricEigen, singularValues and truncatedSvd against numpy (float64 LAPACK) and against the
 * defining identities. numpy is required: the suite fails (it never skips) without it.
 */
import { describe, expect, it } from 'vitest';
import { singularValues, symmetricEigen, truncatedSvd } from './index';
import { gaussianWt, geometricSpectrum, memo, orthonormalColumns, TestRng, wtWithSpectrum } from './fixtures.test-helper';
import { numpyCompute, requireNumpy, type ContainerItem } from '../../node/numpy-ref';

const rng = new TestRng(4242);

// ---------------------------------------------------------------- symmetric eigenproblems
interface SymCase {
  name: string;
  n: number;
  a: Float64Array;
}

function symFromSpectrum(n: number, lambda: ArrayLike<number>): Float64Array {
  const Q = orthonormalColumns(rng, n, n);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += Q[i * n + k] * lambda[k] * Q[j * n + k];
      a[i * n + j] = s;
      a[j * n + i] = s;
    }
  }
  return a;
}

function randomSym(n: number): Float64Array {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const x = rng.normal();
      a[i * n + j] = x;
      a[j * n + i] = x;
    }
  }
  return a;
}

function gram(n: number, m: number): Float64Array {
  const x = new Float64Array(n * m).map(() => rng.normal());
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < m; k++) s += x[i * m + k] * x[j * m + k];
      a[i * n + j] = s;
    }
  }
  return a;
}

const symCases: SymCase[] = [
  { name: 'n=1', n: 1, a: Float64Array.from([-3.5]) },
  { name: 'n=2', n: 2, a: Float64Array.from([2, 1, 1, 2]) },
  { name: 'random indefinite n=50', n: 50, a: randomSym(50) },
  { name: 'PSD Gram n=100', n: 100, a: gram(100, 300) },
  { name: 'rank-deficient Gram n=60 (rank 7)', n: 60, a: gram(60, 7) },
  { name: 'repeated eigenvalues n=40', n: 40, a: symFromSpectrum(40, Array.from({ length: 40 }, (_, i) => [5, 5, 5, 2, 2, -1][i % 6])) },
  { name: 'graded spectrum n=64 (1 … 1e-12)', n: 64, a: symFromSpectrum(64, geometricSpectrum(64, 12)) },
  { name: 'diagonal n=30', n: 30, a: (() => { const a = new Float64Array(900); for (let i = 0; i < 30; i++) a[i * 31] = (i * 7) % 11; return a; })() },
  { name: 'zero n=5', n: 5, a: new Float64Array(25) },
  { name: 'random n=257', n: 257, a: randomSym(257) },
];

// ---------------------------------------------------------------- SVD cases
interface SvdCase {
  name: string;
  K: number;
  O: number;
  r: number;
  wt: Float64Array | Float32Array;
  wellConditioned: boolean;
}
const svdCases: SvdCase[] = [
  { name: '16×144', K: 144, O: 16, r: 6, wt: gaussianWt(rng, 144, 16), wellConditioned: true },
  { name: '64×576 float32', K: 576, O: 64, r: 27, wt: Float32Array.from(gaussianWt(rng, 576, 64)), wellConditioned: true },
  { name: '10×64 dense', K: 64, O: 10, r: 4, wt: gaussianWt(rng, 64, 10), wellConditioned: true },
  { name: 'K<O 64×27', K: 27, O: 64, r: 18, wt: gaussianWt(rng, 27, 64), wellConditioned: true },
  { name: '256×2304', K: 2304, O: 256, r: 43, wt: gaussianWt(rng, 2304, 256), wellConditioned: true },
  { name: 'geometric 1 … 1e-8, 48×432', K: 432, O: 48, r: 30, wt: wtWithSpectrum(rng, 432, 48, geometricSpectrum(48, 8)), wellConditioned: false },
  {
    name: 'rank-6 32×288',
    K: 288,
    O: 32,
    r: 10,
    wt: wtWithSpectrum(rng, 288, 32, Array.from({ length: 32 }, (_, i) => (i < 6 ? 6 - i : 0))),
    wellConditioned: false,
  },
  { name: 'r > n: 8×72, r = 12', K: 72, O: 8, r: 12, wt: gaussianWt(rng, 72, 8), wellConditioned: true },
];

/** numpy results, computed once; throws (every caller fails) without numpy. */
const reference = memo((): { eigh: Float64Array[]; sv: Float64Array[] } => {
  requireNumpy();
  const items: ContainerItem[] = [
    ...symCases.map((c) => ({ meta: { op: 'eigh', n: c.n }, arrays: { a: c.a } })),
    ...svdCases.map((c) => ({ meta: { op: 'svd', K: c.K, O: c.O }, arrays: { wt: c.wt } })),
  ];
  const out = numpyCompute(items);
  return { eigh: out.slice(0, symCases.length).map((o) => o.arrays.values), sv: out.slice(symCases.length).map((o) => o.arrays.sigma) };
});

describe('symmetricEigen', () => {
  it.each(symCases.map((c, i) => [c.name, i] as const))('%s: values match numpy, vectors are orthonormal eigenvectors', (_n, i) => {
    const { n, a } = symCases[i];
    const copy = Float64Array.from(a);
    const { values, vectors } = symmetricEigen(a, n);
    expect(Array.from(a)).toEqual(Array.from(copy)); // input untouched
    const ref = reference().eigh[i];
    let norm = 0;
    for (const x of ref) norm = Math.max(norm, Math.abs(x));
    for (let j = 0; j < n; j++) expect(Math.abs(values[j] - ref[j])).toBeLessThanOrEqual(1e-12 * Math.max(norm, 1e-300) + 1e-300);
    // A v_j = λ_j v_j and VᵀV = I
    let resid = 0;
    let orth = 0;
    for (let j = 0; j < n; j++) {
      for (let r = 0; r < n; r++) {
        let s = 0;
        for (let c = 0; c < n; c++) s += a[r * n + c] * vectors[c * n + j];
        resid = Math.max(resid, Math.abs(s - values[j] * vectors[r * n + j]));
      }
      for (let k = j; k < n; k++) {
        let d = 0;
        for (let r = 0; r < n; r++) d += vectors[r * n + j] * vectors[r * n + k];
        orth = Math.max(orth, Math.abs(d - (j === k ? 1 : 0)));
      }
    }
    expect(resid).toBeLessThanOrEqual(1e-11 * Math.max(norm, 1e-300) * Math.sqrt(n) + 1e-300);
    expect(orth).toBeLessThan(1e-10);
  });

  it('returns only the requested top eigenvectors', () => {
    const a = gram(80, 200);
    const full = symmetricEigen(a, 80);
    const top = symmetricEigen(a, 80, { vectors: 5 });
    expect(top.vectors.length).toBe(80 * 5);
    expect(Array.from(top.values)).toEqual(Array.from(full.values));
    for (let j = 0; j < 5; j++) {
      let d = 0;
      for (let r = 0; r < 80; r++) d += top.vectors[r * 5 + j] * full.vectors[r * 80 + j];
      expect(Math.abs(Math.abs(d) - 1)).toBeLessThan(1e-10);
    }
    expect(symmetricEigen(a, 80, { vectors: 0 }).vectors.length).toBe(0);
  });
});

describe('singularValues', () => {
  it.each(svdCases.map((c, i) => [c.name, i] as const))('%s', (_n, i) => {
    const c = svdCases[i];
    const s = singularValues(c.wt, c.K, c.O);
    const ref = reference().sv[i];
    const n = Math.min(c.K, c.O);
    expect(s.length).toBe(n);
    for (let j = 0; j < n; j++) {
      const err = Math.abs(s[j] - ref[j]);
      // relative 1e-5 where resolvable from the Gram matrix (σ ≥ 1e-6·σ1), else 1e-7·σ1 absolute
      if (c.wellConditioned || ref[j] >= 1e-6 * ref[0]) expect(err / ref[j]).toBeLessThan(1e-5);
      else expect(err / ref[0]).toBeLessThan(1e-7);
    }
  });
});

describe('truncatedSvd', () => {
  it.each(svdCases.map((c, i) => [c.name, i] as const))('%s: W ≈ U diag(s) Vᵀ with orthonormal U, V', (_n, i) => {
    const { K, O, r, wt } = svdCases[i];
    const n = Math.min(K, O);
    const rr = Math.min(r, n);
    const { u, s, v } = truncatedSvd(wt, K, O, r);
    expect(u.length).toBe(O * r);
    expect(v.length).toBe(K * r);
    expect(s.length).toBe(r);
    const ref = reference().sv[i];
    for (let j = 0; j < rr; j++) {
      if (ref[j] >= 1e-6 * ref[0]) expect(Math.abs(s[j] - ref[j]) / ref[j]).toBeLessThan(1e-5);
      else expect(Math.abs(s[j] - ref[j]) / ref[0]).toBeLessThan(1e-7);
    }
    for (let j = rr; j < r; j++) expect(s[j]).toBe(0);
    // orthonormal columns (the first rr; padding columns are zero)
    const orthErr = (m: Float64Array, rows: number): number => {
      let e = 0;
      for (let a = 0; a < rr; a++) {
        for (let b = a; b < rr; b++) {
          let d = 0;
          for (let x = 0; x < rows; x++) d += m[x * r + a] * m[x * r + b];
          e = Math.max(e, Math.abs(d - (a === b ? 1 : 0)));
        }
      }
      return e;
    };
    expect(orthErr(u, O)).toBeLessThan(1e-9);
    expect(orthErr(v, K)).toBeLessThan(1e-9);
    for (let x = 0; x < O; x++) for (let j = rr; j < r; j++) expect(u[x * r + j]).toBe(0);
    // Eckart–Young: ‖W − U S Vᵀ‖_F² = Σ_{j>r} σ_j²
    let res = 0;
    let tot = 0;
    for (let k = 0; k < K; k++) {
      for (let o = 0; o < O; o++) {
        let x = 0;
        for (let j = 0; j < rr; j++) x += u[o * r + j] * s[j] * v[k * r + j];
        res += (wt[k * O + o] - x) ** 2;
        tot += wt[k * O + o] ** 2;
      }
    }
    let tail = 0;
    for (let j = rr; j < n; j++) tail += ref[j] ** 2;
    expect(Math.abs(res - tail)).toBeLessThan(1e-10 * tot);
  });
});
