/**
 * Correctness sweep of the fast webgpu kernels (Node + Dawn + lavapipe). Every replaced kernel
 * must agree with tfjs's stock webgpu kernel and with a float64 CPU reference within 1e-4,
 * measured as max|out − ref| / max|ref|. Fails (never skips) when WebGPU is unavailable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as tfType from '@tensorflow/tfjs';
import { loadTf } from '../node/webgpu-node';
import { FAST_KERNEL_NAMES, REPLACED_GRADIENTS, REPLACED_KERNELS, activeFastKernels, kernelStats, useKernels, type KernelTuning } from './index';
import type { WebGPUBackendLike, WebGPUProgramLike } from './types';
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

describe('tuning (useKernels options)', () => {
  /** The programs our registered kernel launches for one call (on a recording stand-in backend). */
  function programsOf(kernel: 'Conv2DBackpropFilter' | 'Conv2DBackpropInput'): WebGPUProgramLike[] {
    const programs: WebGPUProgramLike[] = [];
    const backend: WebGPUBackendLike = {
      device: {} as GPUDevice,
      runWebGPUProgram: (program, _inputs, dtype) => {
        programs.push(program);
        return { dataId: {}, shape: program.outputShape, dtype };
      },
      disposeData: () => true,
    };
    const t = (shape: number[]) => ({ dataId: {}, shape, dtype: 'float32' as const });
    const [x, w, dy] = [t([128, 32, 32, 16]), t([3, 3, 16, 16]), t([128, 32, 32, 16])];
    const common = { strides: 1, pad: 1, dataFormat: 'NHWC' };
    const args =
      kernel === 'Conv2DBackpropFilter'
        ? { inputs: { x, dy }, attrs: { ...common, filterShape: [3, 3, 16, 16] } }
        : { inputs: { dy, filter: w }, attrs: { ...common, inputShape: [128, 32, 32, 16] } };
    tf.getKernel(kernel, 'webgpu')!.kernelFunc({ ...args, backend } as never);
    return programs;
  }
  const slicesOf = (programs: WebGPUProgramLike[]) => programs[0].dispatch[2];

  it('reaches the kernels: the split follows the tuning given to useKernels', () => {
    useKernels('fast');
    const filterDefault = slicesOf(programsOf('Conv2DBackpropFilter'));
    expect(filterDefault).toBeGreaterThan(1);
    expect(slicesOf(programsOf('Conv2DBackpropInput'))).toBe(1);
    useKernels('fast', { tuning: { backpropFilter: { targetThreads: 1 }, backpropInput: { targetThreads: 1 << 30, minStepsPerSlice: 1, maxPartialFloats: 1 << 30 } } });
    expect(programsOf('Conv2DBackpropFilter')).toHaveLength(1); // one slice: no second pass
    expect(slicesOf(programsOf('Conv2DBackpropFilter'))).toBe(1);
    expect(slicesOf(programsOf('Conv2DBackpropInput'))).toBe(9); // every (kh, kw) step its own slice
    useKernels('fast');
    expect(slicesOf(programsOf('Conv2DBackpropFilter'))).toBe(filterDefault);
    useKernels('stock');
  });

  it('rejects bad tuning before changing anything', () => {
    useKernels('fast', { only: ['Sum'] });
    const bad: KernelTuning[] = [
      { backpropFilter: { targetThreads: 0 } },
      { backpropInput: { minStepsPerSlice: 1.5 } },
      { backpropFilter: { targetThread: 5 } as never },
      { channelReduce: { targetWorkgroups: -1 } },
      { conv: {} } as never,
    ];
    for (const tuning of bad) {
      expect(() => useKernels('fast', { tuning }), JSON.stringify(tuning)).toThrow(/tuning/);
      expect(activeFastKernels()).toEqual(['Sum']);
    }
    useKernels('stock');
  });

  it('split or not, results stay within tolerance', async () => {
    const k = CONV_SWEEP.find((c) => c.n === 33)!;
    for (const tuning of [
      { backpropFilter: { targetThreads: 1 }, backpropInput: { targetThreads: 1 } },
      { backpropFilter: { targetThreads: 1 << 24, minStepsPerSlice: 1 }, backpropInput: { targetThreads: 1 << 24, minStepsPerSlice: 1 } },
    ]) {
      expectGood(await checkConvCase(tf, k, 3, tuning));
    }
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
