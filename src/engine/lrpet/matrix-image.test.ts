import { describe, expect, it } from 'vitest';
import { singularValues } from '../linalg';
import { Rng } from '../rng';
import { matrixImage } from './matrix-image';

/** wt in the engine's K×O layout (W[o][k] = wt[k·O + o]) with entries from `f`. */
function layout(K: number, O: number, f: (o: number, k: number) => number): Float32Array {
  const wt = new Float32Array(K * O);
  for (let k = 0; k < K; k++) for (let o = 0; o < O; o++) wt[k * O + o] = f(o, k);
  return wt;
}

const random = (seed: number) => {
  const rng = new Rng(seed);
  return () => rng.next() * 2 - 1;
};

describe('matrixImage', () => {
  it('is the signed mean of each block of diag(a)·W, partial blocks at the ends included', () => {
    const [O, K] = [10, 23];
    const r = random(1);
    const W = Array.from({ length: O }, () => Array.from({ length: K }, r));
    const a = Array.from({ length: O }, (_, o) => 0.5 + o);
    const img = matrixImage(layout(K, O, (o, k) => W[o][k]), K, O, Float64Array.from(a), 4);
    // Blocks of ⌈10/4⌉ = 3 rows × ⌈23/4⌉ = 6 columns: 4 × 4 pixels, the last row of blocks 1 high, the last column 5 wide.
    expect([img.rows, img.cols, ...img.block]).toEqual([4, 4, 3, 6]);
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        let sum = 0;
        let count = 0;
        for (let o = i * 3; o < Math.min(O, i * 3 + 3); o++) {
          for (let k = j * 6; k < Math.min(K, j * 6 + 6); k++) {
            sum += a[o] * Math.fround(W[o][k]);
            count++;
          }
        }
        expect(img.values[i * 4 + j]).toBeCloseTo(sum / count, 5);
      }
    }
  });

  it('is the matrix itself when it fits, W when there is no scale', () => {
    const img = matrixImage(layout(27, 8, (o, k) => o * 100 + k), 27, 8, null);
    expect([img.rows, img.cols, ...img.block]).toEqual([8, 27, 1, 1]);
    expect(img.values[3 * 27 + 5]).toBe(305);
    expect(img.values[7 * 27 + 26]).toBe(726);
  });

  it('keeps a rank-r matrix at rank ≤ r (a 64×576 rank-3 conv matrix pictured at 64×96), unlike a full-rank one', () => {
    const [O, K, r] = [64, 576, 3];
    const rand = random(2);
    const U = Array.from({ length: O }, () => Array.from({ length: r }, rand));
    const V = Array.from({ length: K }, () => Array.from({ length: r }, rand));
    const lowRank = layout(K, O, (o, k) => U[o].reduce((s, u, i) => s + u * V[k][i], 0));
    const img = matrixImage(lowRank, K, O, null);
    expect([img.rows, img.cols, ...img.block]).toEqual([64, 96, 1, 6]);
    const sigma = singularValues(img.values, img.rows, img.cols);
    expect(sigma[r - 1] / sigma[0]).toBeGreaterThan(1e-3);
    expect(sigma[r] / sigma[0]).toBeLessThan(1e-5);
    const full = singularValues(matrixImage(layout(K, O, rand), K, O, null).values, 64, 96);
    expect(full[O - 1] / full[0]).toBeGreaterThan(1e-3);
  });

  it('stays within 96×96 for the largest layers (VGG-16: 512 × 4608)', () => {
    const img = matrixImage(new Float32Array(4608 * 512), 4608, 512, null);
    expect([img.rows, img.cols, ...img.block]).toEqual([86, 96, 6, 48]);
    expect(img.values.length).toBe(86 * 96);
  });

  it('rejects sizes that do not match', () => {
    expect(() => matrixImage(new Float32Array(10), 3, 4, null)).toThrow(/4×3 matrix needs 12 values, not 10/);
    expect(() => matrixImage(new Float32Array(12), 3, 4, new Float64Array(3))).toThrow(/3 scale factors for 4 rows/);
    expect(() => matrixImage(new Float32Array(12), 3, 4, null, 0)).toThrow(/max must be/);
  });
});
