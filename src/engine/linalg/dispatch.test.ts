/**
 * The hot loops on both paths (wasm SIMD and plain JS) against naive float64 loops, including the
 * cache chunking, and the per-call options (LinalgOptions): no global switch decides anything.
 */
import { describe, expect, it } from 'vitest';
import { Kernels, resolveBackend, workspace } from './dispatch';
import { projectMatrix64 } from './projection';
import { singularValues, symmetricEigen } from './svd';
import { loadWasm } from './wasm-module';
import { xorshiftUniform } from './xorshift';

function fillRandom(x: Float64Array, seed: number): void {
  xorshiftUniform(x, x.length, seed);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

const PATHS = [
  { name: 'wasm', opts: { backend: 'wasm' as const } },
  { name: 'js', opts: { backend: 'js' as const } },
  // a tiny cache budget makes every product run in many inner-dimension chunks
  { name: 'wasm, 1 KiB chunks', opts: { backend: 'wasm' as const, cacheBytes: 1024 } },
  { name: 'js, 1 KiB chunks', opts: { backend: 'js' as const, cacheBytes: 1024 } },
];

describe.each(PATHS)('kernels ($name)', ({ opts }) => {
  it('gemmNT: C = A·Bᵀ (general, symmetric, odd sizes)', () => {
    for (const [m, q, p] of [[7, 9, 13], [2, 4, 1], [5, 5, 301], [1, 3, 0]]) {
      const k = new Kernels(opts);
      const [A, B, C] = workspace(k, [m * p, q * p, m * q]);
      fillRandom(A, 11 + m);
      fillRandom(B, 23 + q);
      k.gemmNT(A, p, B, p, C, q, m, q, p);
      const ref = new Float64Array(m * q);
      for (let i = 0; i < m; i++) for (let j = 0; j < q; j++) for (let t = 0; t < p; t++) ref[i * q + j] += A[i * p + t] * B[j * p + t];
      expect(maxAbsDiff(C, ref)).toBeLessThan(1e-12 * Math.max(1, p));
      if (m === q) {
        // Gram of A's rows, upper triangle computed and mirrored
        k.gemmNT(A, p, A, p, C, q, m, m, p, true);
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < m; j++) {
            let s = 0;
            for (let t = 0; t < p; t++) s += A[i * p + t] * A[j * p + t];
            expect(Math.abs(C[i * q + j] - s)).toBeLessThan(1e-12 * Math.max(1, p));
          }
        }
      }
    }
  });

  it('gemmNN: C = A·B and C += A·B with strided A', () => {
    for (const [m, q, p, ais, ass] of [[6, 8, 37, 37, 1], [5, 12, 90, 1, 5], [1, 4, 3, 3, 1]]) {
      for (const accumulate of [false, true]) {
        const k = new Kernels(opts);
        const [A, B, C] = workspace(k, [Math.max(m * ais, p * ass), p * q, m * q]);
        fillRandom(A, 5);
        fillRandom(B, 6);
        fillRandom(C, 7);
        const before = Float64Array.from(C);
        k.gemmNN(A, ais, ass, B, q, C, q, m, q, p, accumulate);
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < q; j++) {
            let s = accumulate ? before[i * q + j] : 0;
            for (let t = 0; t < p; t++) s += A[i * ais + t * ass] * B[t * q + j];
            expect(Math.abs(C[i * q + j] - s)).toBeLessThan(1e-12 * p);
          }
        }
      }
    }
    const k = new Kernels(opts);
    const [A, B, C] = workspace(k, [4, 4, 4]);
    expect(() => k.gemmNN(A, 1, 1, B, 3, C, 3, 1, 3, 1, false)).toThrow(/multiple of 4/);
  });
});

describe('LinalgOptions', () => {
  it('backend: js keeps the workspace out of the wasm memory, wasm/auto put it there', () => {
    const wasm = loadWasm();
    expect(wasm, 'wasm SIMD in this runtime').not.toBeNull();
    const buffer = (opts: ConstructorParameters<typeof Kernels>[0]) => workspace(new Kernels(opts), [8])[0].buffer;
    expect(buffer({ backend: 'js' })).not.toBe(wasm!.buffer);
    expect(buffer({ backend: 'wasm' })).toBe(wasm!.buffer);
    expect(buffer({})).toBe(wasm!.buffer);
    expect(resolveBackend('js')).toBe('js');
    expect(resolveBackend()).toBe('wasm');
  });

  it('rejects an unknown backend and a non-positive cache budget', () => {
    const wt = new Float32Array(27 * 4).fill(1);
    expect(() => singularValues(wt, 27, 4, { backend: 'gpu' as never })).toThrow(/unknown backend/);
    expect(() => singularValues(wt, 27, 4, { cacheBytes: 0 })).toThrow(/cacheBytes/);
    expect(() => symmetricEigen(new Float64Array(4), 2, { cacheBytes: NaN })).toThrow(/cacheBytes/);
  });

  it('phases: a projection adds time to every phase of the record it is given, and only to it', () => {
    const wt = new Float64Array(144 * 16);
    fillRandom(wt, 3);
    const phases: Record<string, number> = {};
    const a = projectMatrix64(wt, 144, 16, { rank: 4, beta: 0, energyTransfer: true, phases });
    expect(Object.keys(phases).sort()).toEqual(['backtransform', 'eigen', 'fill', 'gram', 'output', 'project-T', 'project-Y', 'tridiag', 'tridiag-eig']);
    for (const v of Object.values(phases)) expect(v).toBeGreaterThanOrEqual(0);
    const copy = { ...phases };
    const b = projectMatrix64(wt, 144, 16, { rank: 4, beta: 0, energyTransfer: true });
    expect(phases).toEqual(copy);
    expect(Array.from(b.weights)).toEqual(Array.from(a.weights));
  });

  it('cache chunking does not change a projection beyond rounding', () => {
    const wt = new Float64Array(576 * 64);
    fillRandom(wt, 9);
    const a = projectMatrix64(wt, 576, 64, { rank: 20, beta: 0, energyTransfer: true });
    const b = projectMatrix64(wt, 576, 64, { rank: 20, beta: 0, energyTransfer: true, cacheBytes: 4096 });
    expect(maxAbsDiff(a.weights, b.weights)).toBeLessThan(1e-12);
    expect(maxAbsDiff(a.sigmaBefore, b.sigmaBefore)).toBeLessThan(1e-12 * a.sigmaBefore[0]);
  });
});
