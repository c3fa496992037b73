/**
 * Correctness sweep of our kernels: each replaced kernel against tfjs's stock webgpu kernel and
 * against a float64 CPU reference (reference.ts). Environment-independent: the same code runs in
 * vitest (Node + Dawn + lavapipe) and in the Chromium page (SwiftShader), e2e/kernels-page.
 *
 * Error measure, everywhere: norm-relative max error, max_i |out_i − ref_i| / max_i |ref_i|.
 */
import type * as tfType from '@tensorflow/tfjs';
import { kernelStats, useKernels, type KernelTuning } from './index';
import { randomData, refConv2DBackpropFilter, refConv2DBackpropInput, refReduce, relMaxError } from './reference';
import { channelView } from './reduce-channels';

type Tf = typeof tfType;
type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

export interface ConvCase {
  n: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  kh: number;
  kw: number;
  stride: number | [number, number];
  pad: Pad;
}

export const TOLERANCE = 1e-4;

const c = (n: number, h: number, w: number, ci: number, co: number, k: number | [number, number], stride: number, pad: Pad): ConvCase => {
  const [kh, kw] = typeof k === 'number' ? [k, k] : k;
  return { n, h, w, ci, co, kh, kw, stride, pad };
};

/**
 * Node sweep: batch 1–128, channels 3–512, 1×1 / 3×3 (and 1×3, 5×5), stride 1 / 2,
 * same / valid / numeric / explicit padding, odd and non-square sizes. The two batch-128 cases
 * are the ResNet shapes that matter (32×32×16 and 8×8×64); kept few because lavapipe is slow.
 */
export const CONV_SWEEP: ConvCase[] = [
  c(1, 5, 5, 3, 16, 3, 1, 1),
  c(2, 7, 7, 3, 16, 3, 2, 'same'),
  c(3, 9, 11, 5, 7, 3, 1, 'valid'),
  c(4, 8, 8, 16, 16, 3, 1, 1),
  c(4, 9, 9, 16, 32, 3, 2, 1),
  c(2, 8, 8, 16, 32, 1, 2, 'valid'),
  c(5, 6, 6, 32, 64, 1, 1, 'same'),
  c(3, 5, 7, 12, 20, 3, 2, 'valid'),
  c(2, 6, 6, 8, 8, 3, 1, [[0, 0], [1, 2], [2, 1], [0, 0]]),
  c(2, 7, 7, 10, 6, [1, 3], 1, 'same'),
  c(2, 9, 9, 6, 9, 5, 2, 2),
  c(33, 6, 6, 24, 40, 3, 2, 'same'),
  c(2, 4, 4, 256, 512, 3, 1, 1),
  c(3, 2, 2, 512, 512, 3, 1, 'same'),
  c(16, 32, 32, 3, 16, 3, 1, 1),
  c(128, 8, 8, 64, 64, 3, 1, 1),
  c(128, 32, 32, 16, 16, 3, 1, 1),
];

/** Browser subset (SwiftShader inside Chromium is slower than lavapipe). */
export const CONV_SWEEP_BROWSER: ConvCase[] = [
  c(1, 5, 5, 3, 16, 3, 1, 1),
  c(2, 7, 7, 3, 16, 3, 2, 'same'),
  c(3, 9, 11, 5, 7, 3, 1, 'valid'),
  c(4, 9, 9, 16, 32, 3, 2, 1),
  c(2, 8, 8, 16, 32, 1, 2, 'valid'),
  c(2, 6, 6, 8, 8, 3, 1, [[0, 0], [1, 2], [2, 1], [0, 0]]),
  c(2, 4, 4, 64, 128, 3, 1, 1),
  c(32, 8, 8, 16, 16, 3, 1, 1),
];

export interface ReduceCase {
  shape: number[];
  axes: number[];
  keepDims: boolean;
}

export const REDUCE_SWEEP: ReduceCase[] = [
  { shape: [8, 32, 32, 16], axes: [0, 1, 2], keepDims: false },
  { shape: [128, 16, 16, 32], axes: [0, 1, 2], keepDims: false },
  { shape: [3, 5, 7, 12], axes: [0, 1, 2], keepDims: true },
  { shape: [8, 8, 8, 64], axes: [1, 2], keepDims: false },
  { shape: [2, 3, 4, 5], axes: [1, 2], keepDims: true },
  { shape: [33, 10], axes: [0], keepDims: false },
  { shape: [1, 1, 1, 512], axes: [0, 1, 2], keepDims: false },
  { shape: [6, 10], axes: [1], keepDims: false },
];

export const REDUCE_SWEEP_BROWSER: ReduceCase[] = [
  { shape: [8, 16, 16, 16], axes: [0, 1, 2], keepDims: false },
  { shape: [3, 5, 7, 12], axes: [0, 1, 2], keepDims: true },
  { shape: [4, 8, 8, 64], axes: [1, 2], keepDims: false },
];

export interface CheckResult {
  kernel: string;
  label: string;
  /** max|fast − ref| / max|ref| */
  fastVsRef: number;
  /** max|stock − ref| / max|ref| */
  stockVsRef: number;
  /** max|fast − stock| / max|stock| */
  fastVsStock: number;
  /** The fast path ran (did not fall back to stock). */
  ranFast: boolean;
  ok: boolean;
}

export function convLabel(k: ConvCase): string {
  const pad = Array.isArray(k.pad) ? `explicit${JSON.stringify(k.pad.slice(1, 3))}` : String(k.pad);
  return `n${k.n} ${k.h}x${k.w} ${k.ci}->${k.co} k${k.kh}x${k.kw} s${String(k.stride)} pad=${pad}`;
}

async function runMode<T extends tfType.Tensor>(
  tf: Tf,
  mode: 'fast' | 'stock',
  kernel: string,
  f: () => T,
  tuning?: KernelTuning,
): Promise<{ data: Float32Array; ranFast: boolean }> {
  useKernels(mode, mode === 'fast' ? { only: [kernel], tuning } : {});
  const before = kernelStats()[kernel]?.fast ?? 0;
  const t = tf.tidy(f);
  const data = (await t.data()) as Float32Array;
  t.dispose();
  const after = kernelStats()[kernel]?.fast ?? 0;
  return { data, ranFast: after > before };
}

function result(kernel: string, label: string, fast: { data: Float32Array; ranFast: boolean }, stock: Float32Array, ref: Float64Array): CheckResult {
  const r = {
    kernel,
    label,
    fastVsRef: relMaxError(fast.data, ref),
    stockVsRef: relMaxError(stock, ref),
    fastVsStock: relMaxError(fast.data, stock),
    ranFast: fast.ranFast,
  };
  return { ...r, ok: r.ranFast && r.fastVsRef <= TOLERANCE && r.stockVsRef <= TOLERANCE && r.fastVsStock <= TOLERANCE };
}

/** Checks Conv2DBackpropFilter and Conv2DBackpropInput for one conv shape (ours with `tuning`). */
export async function checkConvCase(tf: Tf, k: ConvCase, seed = 1, tuning?: KernelTuning): Promise<CheckResult[]> {
  const xs: [number, number, number, number] = [k.n, k.h, k.w, k.ci];
  const fs: [number, number, number, number] = [k.kh, k.kw, k.ci, k.co];
  const info = tf.backend_util.computeConv2DInfo(xs, fs, k.stride, 1, k.pad, undefined, false, 'channelsLast');
  const dys: [number, number, number, number] = [k.n, info.outHeight, info.outWidth, k.co];
  const g = { strideH: info.strideHeight, strideW: info.strideWidth, padTop: info.padInfo.top, padLeft: info.padInfo.left };
  const xd = randomData(xs.reduce((a, b) => a * b), seed);
  const wd = randomData(fs.reduce((a, b) => a * b), seed + 1);
  const dyd = randomData(dys.reduce((a, b) => a * b), seed + 2);
  const x = tf.tensor4d(xd, xs);
  const w = tf.tensor4d(wd, fs);
  const dy = tf.tensor4d(dyd, dys);
  const label = convLabel(k);
  const out: CheckResult[] = [];
  try {
    const attrsF = { strides: k.stride, pad: k.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: fs };
    const bpf = () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrsF as never) as tfType.Tensor;
    const stockF = await runMode(tf, 'stock', 'Conv2DBackpropFilter', bpf);
    const fastF = await runMode(tf, 'fast', 'Conv2DBackpropFilter', bpf, tuning);
    out.push(result('Conv2DBackpropFilter', label, fastF, stockF.data, refConv2DBackpropFilter(xd, xs, dyd, dys, fs, g)));

    const attrsI = { inputShape: xs, strides: k.stride, pad: k.pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
    const bpi = () => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, attrsI as never) as tfType.Tensor;
    const stockI = await runMode(tf, 'stock', 'Conv2DBackpropInput', bpi);
    const fastI = await runMode(tf, 'fast', 'Conv2DBackpropInput', bpi, tuning);
    out.push(result('Conv2DBackpropInput', label, fastI, stockI.data, refConv2DBackpropInput(dyd, dys, wd, fs, xs, g)));
  } finally {
    x.dispose();
    w.dispose();
    dy.dispose();
    useKernels('stock');
  }
  return out;
}

/** Checks Sum and Mean for one shape/axes (falls back to stock, by design, for innermost axes). */
export async function checkReduceCase(tf: Tf, r: ReduceCase, seed = 7): Promise<CheckResult[]> {
  const size = r.shape.reduce((a, b) => a * b, 1);
  const xd = randomData(size, seed);
  const x = tf.tensor(xd, r.shape);
  const view = channelView(r.shape, r.axes)!;
  const label = `${JSON.stringify(r.shape)} axes=${JSON.stringify(r.axes)}${r.keepDims ? ' keepDims' : ''}`;
  const out: CheckResult[] = [];
  try {
    for (const [kernel, op] of [
      ['Sum', 'sum'],
      ['Mean', 'mean'],
    ] as const) {
      const f = () => tf[op](x, r.axes, r.keepDims);
      const stock = await runMode(tf, 'stock', kernel, f);
      const fast = await runMode(tf, 'fast', kernel, f);
      const res = result(kernel, label, fast, stock.data, refReduce(xd, view.a, view.r, view.c, op === 'mean'));
      // Innermost reductions are meant to stay on the stock kernel.
      const expectFast = view.c >= 4;
      out.push({ ...res, ok: res.ok || (!expectFast && !res.ranFast && res.fastVsRef <= TOLERANCE) });
    }
  } finally {
    x.dispose();
    useKernels('stock');
  }
  return out;
}

/** Runs a whole sweep; returns every result (check `.ok`). */
export async function runSweep(
  tf: Tf,
  convCases: ConvCase[],
  reduceCases: ReduceCase[],
  onResult?: (r: CheckResult) => void,
): Promise<CheckResult[]> {
  const all: CheckResult[] = [];
  const add = (r: CheckResult) => {
    all.push(r);
    onResult?.(r);
  };
  for (const k of convCases) (await checkConvCase(tf, k)).forEach(add);
  for (const k of reduceCases) (await checkReduceCase(tf, k)).forEach(add);
  return all;
}

export function formatResult(r: CheckResult): string {
  const e = (v: number) => v.toExponential(2);
  return `${r.ok ? 'ok  ' : 'FAIL'} ${r.kernel.padEnd(21)} ${r.label.padEnd(52)} fast-ref ${e(r.fastVsRef)}  stock-ref ${e(r.stockVsRef)}  fast-stock ${e(r.fastVsStock)}${r.ranFast ? '' : '  (stock fallback)'}`;
}
