/**
 * Correctness sweep of the fast webgpu kernels (Node + Dawn + lavapipe). Every replaced kernel
 * must agree with tfjs's stock webgpu kernel and with a float64 CPU reference within 1e-4,
 * measured as max|out − ref| / max|ref|. Fails (never skips) when WebGPU is unavailable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as tfType from '@tensorflow/tfjs';
import { loadTf } from '../node/webgpu-node';
import { FAST_KERNEL_NAMES, REPLACED_GRADIENTS, REPLACED_KERNELS, activeFastKernels, kernelStats, useKernels } from './index';
import {
  CONV_SWEEP,
  REDUCE_SWEEP,
  TOLERANCE,
  checkConvCase,
  checkReduceCase,
  convLabel,
  formatResult,
  type CheckResult,
} from './sweep';

let tf: typeof tfType;
const results: CheckResult[] = [];

beforeAll(async () => {
  const loaded = await loadTf('webgpu', 'stock'); // throws when WebGPU is missing: the suite fails loudly
  tf = loaded.tf;
  expect(tf.getBackend()).toBe('webgpu');
});

afterAll(() => {
  if (results.length === 0) return;
  const worst = (key: 'fastVsRef' | 'stockVsRef' | 'fastVsStock') => Math.max(...results.map((r) => r[key]));
  console.log(
    [
      `kernel sweep (${results.length} checks; error = max|out-ref|/max|ref|, tolerance ${TOLERANCE}):`,
      ...results.map(formatResult),
      `worst: fast-ref ${worst('fastVsRef').toExponential(2)}, stock-ref ${worst('stockVsRef').toExponential(2)}, fast-stock ${worst('fastVsStock').toExponential(2)}`,
    ].join('\n'),
  );
});

function expectGood(rs: CheckResult[]): void {
  for (const r of rs) {
    results.push(r);
    expect.soft(r.ranFast, `${r.kernel} ${r.label}: fast path ran`).toBe(true);
    expect.soft(r.fastVsRef, `${r.kernel} ${r.label}: fast vs float64 reference`).toBeLessThanOrEqual(TOLERANCE);
    expect.soft(r.stockVsRef, `${r.kernel} ${r.label}: stock vs float64 reference`).toBeLessThanOrEqual(TOLERANCE);
    expect.soft(r.fastVsStock, `${r.kernel} ${r.label}: fast vs stock`).toBeLessThanOrEqual(TOLERANCE);
  }
}

describe('useKernels', () => {
  it('switches between fast and the original stock KernelConfigs / gradients', () => {
    // loadTf may already have switched to 'fast'; 'stock' restores tfjs's originals.
    useKernels('stock');
    const stock = Object.fromEntries(REPLACED_KERNELS.map((n) => [n, tf.getKernel(n, 'webgpu')]));
    const gradName = (n: string) => n.replace(/^grad:/, '');
    const stockGrads = Object.fromEntries(REPLACED_GRADIENTS.map((n) => [n, tf.getGradient(gradName(n))]));
    useKernels('fast');
    expect(activeFastKernels().sort()).toEqual([...FAST_KERNEL_NAMES].sort());
    for (const n of REPLACED_KERNELS) expect(tf.getKernel(n, 'webgpu')).not.toBe(stock[n]);
    for (const n of REPLACED_GRADIENTS) expect(tf.getGradient(gradName(n))).not.toBe(stockGrads[n]);
    useKernels('stock');
    expect(activeFastKernels()).toEqual([]);
    for (const n of REPLACED_KERNELS) expect(tf.getKernel(n, 'webgpu')).toBe(stock[n]);
    for (const n of REPLACED_GRADIENTS) expect(tf.getGradient(gradName(n))).toBe(stockGrads[n]);
    useKernels('fast', { only: ['Conv2DBackpropFilter'] });
    expect(tf.getKernel('Conv2DBackpropInput', 'webgpu')).toBe(stock.Conv2DBackpropInput);
    expect(tf.getKernel('Conv2DBackpropFilter', 'webgpu')).not.toBe(stock.Conv2DBackpropFilter);
    useKernels('stock');
    expect(() => useKernels('fast', { only: ['NoSuchKernel'] })).toThrow(/unknown kernel/);
  });

  it('falls back to the stock kernel for NCHW', async () => {
    const x = tf.randomNormal([2, 4, 6, 6]); // NCHW
    const dy = tf.randomNormal([2, 8, 6, 6]);
    const attrs = { strides: 1, pad: 'same', dataFormat: 'NCHW', filterShape: [3, 3, 4, 8] };
    const run = () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs as never) as tfType.Tensor;
    useKernels('stock');
    const a = await run().data();
    useKernels('fast');
    const before = kernelStats().Conv2DBackpropFilter.fallback;
    const b = await run().data();
    expect(kernelStats().Conv2DBackpropFilter.fallback).toBe(before + 1);
    expect(Array.from(b)).toEqual(Array.from(a));
    useKernels('stock');
    x.dispose();
    dy.dispose();
  });
});

describe('Conv2DBackpropFilter / Conv2DBackpropInput sweep', () => {
  for (const k of CONV_SWEEP) {
    it(convLabel(k), async () => expectGood(await checkConvCase(tf, k)));
  }
});

describe('Sum / Mean sweep', () => {
  for (const r of REDUCE_SWEEP) {
    it(`${JSON.stringify(r.shape)} axes ${JSON.stringify(r.axes)}${r.keepDims ? ' keepDims' : ''}`, async () => {
      const rs = await checkReduceCase(tf, r);
      for (const x of rs) {
        results.push(x);
        expect.soft(x.ok, formatResult(x)).toBe(true);
      }
    });
  }
});
