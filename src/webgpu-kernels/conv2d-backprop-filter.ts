/**
 * Conv2DBackpropFilter for tfjs's webgpu backend as a split-K implicit GEMM.
 *
 *   dW[kh, kw, ci, co] = Σ_{n, y, x} X[n, y·sh + kh − padTop, x·sw + kw − padLeft, ci] · dY[n, y, x, co]
 *
 * Seen as a matrix product dW[k, co] = Σ_p A[p, k] · B[p, co] with k = (kh, kw, ci) (the HWIO filter
 * flattened), p = (n, y, x) and A the implicit im2col of X (never materialised). The reduction
 * dimension P = N·OH·OW is huge (131,072 for a CIFAR batch of 128 at 32×32) while the output is
 * small (3·3·16·16 = 2,304 values), which is why tfjs's stock kernel (one thread per output value,
 * looping over all of P) runs at 11–130 GFLOP/s on an H100. Here:
 *
 *  pass 1: a 3-D grid of workgroups (co tile, k tile, slice of P). Each workgroup computes a
 *          TM×TN tile of dW over its slice of P: per step it stages a TP×TM tile of A (gathered
 *          from X with the padding test) and a TP×TN tile of B in workgroup memory, then every
 *          thread accumulates a 4×4 register block. Partial sums go to a [S, K, CO] buffer.
 *  pass 2: sums the S partial results (skipped when S = 1, pass 1 then writes dW directly).
 *
 * Loads are vec4 when CI (resp. CO) is a multiple of 4, scalar otherwise (e.g. the RGB input
 * layer). The tiling, split-K and output code are shared with Conv2DBackpropInput (tiled-gemm.ts).
 */
import type { TensorInfo } from '@tensorflow/tfjs';
import { gemmPlan, runConvGemm, splitKKernel, TiledGemmProgram, type ConvGradAttrs, type GemmPlan, type SplitKKernelBody, type SplitKTuning } from './tiled-gemm';
import { uniformValues } from './types';
import { DIV_FAST_LIMIT, DIV_FAST_WGSL } from './wgsl';

/** Rows of P staged per step. */
const TP = 16;

export const BACKPROP_FILTER_TUNING: Readonly<SplitKTuning> = {
  // An H100 keeps 132 SMs × 2,048 threads resident.
  targetThreads: 1 << 18,
  minStepsPerSlice: 8,
  maxPartialFloats: 1 << 24,
};

/** dW (K × CO, K = kh·kw·ci) = Σ_p A[p, k]·B[p, co] over P = n·oh·ow in steps of TP rows. */
export interface BackpropFilterPlan extends GemmPlan {
  /** vec4 loads of X (CI % 4 == 0) and of dY (CO % 4 == 0). */
  va: 1 | 4;
  vb: 1 | 4;
  p: number;
  /** Row decomposition p → (n, y, x) by f32 reciprocal (exact while P < 2^22). */
  fastDiv: boolean;
}

export function planBackpropFilter(k: number, co: number, ci: number, p: number, tuning: SplitKTuning = BACKPROP_FILTER_TUNING): BackpropFilterPlan {
  // tile of dW per workgroup: TM rows of k = (kh, kw, ci), TN columns of co
  const tile = { tr: TP, tm: k <= 32 ? 32 : 64, tn: co <= 16 ? 16 : co <= 32 ? 32 : 64 };
  return {
    ...gemmPlan(tile, k, co, Math.max(1, Math.ceil(p / TP)), tuning),
    va: ci % 4 === 0 ? 4 : 1,
    vb: co % 4 === 0 ? 4 : 1,
    p,
    fastDiv: p + TP < DIV_FAST_LIMIT,
  };
}

class BackpropFilterGemmProgram extends TiledGemmProgram {
  constructor(private readonly plan: BackpropFilterPlan) {
    const { tile, va, vb, fastDiv } = plan;
    const key = `lrpetConvBpFilterGemm_${tile.tm}_${tile.tn}_${va}_${vb}_${fastDiv ? 'fd' : 'id'}`;
    super(plan, ['x', 'dy'], [va, vb], key, 'K : i32, P : i32, steps : i32, kw : i32, stride : vec2<i32>, pad : vec2<i32>, invOW : f32, invOHW : f32,');
  }

  getUserCode(): string {
    const { va, vb, fastDiv } = this.plan;
    const div = (a: string, d: string, inv: string) => (fastDiv ? `divFast(${a}, ${d}, ${inv})` : `${a} / ${d}`);
    // A (im2col of X) and B (dY) along p: row r of a step is p = p0 + r; a vec4 spans 4 columns
    const a = { tile: 'As', vec: va, along: 'cols', col: 'am', row0: 'aRow0' } as const;
    const b = { tile: 'Bs', vec: vb, along: 'cols', col: 'bn', row0: 'bRow0' } as const;
    const stage = (l: typeof a | typeof b, guard: string, body: string) => this.stage({ ...l, prelude: 'let p = p0 + r;', guard, body });
    return this.wgsl({
      header: fastDiv ? DIV_FAST_WGSL : '',
      rows: 'uniforms.K',
      cols: 'CO',
      setup: /* wgsl */ `
  let pSlice = i32(workgroupId.z) * uniforms.steps * TR;
  let H = uniforms.xShape.y;
  let W = uniforms.xShape.z;
  let CI = uniforms.xShape.w;
  let OW = uniforms.dyShape.z;
  let OHW = uniforms.dyShape.y * OW;
  let CO = uniforms.dyShape.w;

  // The column of A this thread loads is the same at every step: decompose k once.
  let am = ${this.lane(a).col};
  let aRow0 = ${this.lane(a).row0};
  let ak = m0 + am;
  let aValid = ak < uniforms.K;
  let khw = ak / CI;
  let ci = ak - khw * CI;
  let kh = khw / uniforms.kw;
  let kwi = khw - kh * uniforms.kw;
  let offY = kh - uniforms.pad.x;
  let offX = kwi - uniforms.pad.y;

  let bn = ${this.lane(b).col};
  let bRow0 = ${this.lane(b).row0};
  let bco = n0 + bn;
  let bValid = bco < CO;
`,
      stage: /* wgsl */ `    let p0 = pSlice + step * TR;
${stage(a, 'aValid && p < uniforms.P', `let n = ${div('p', 'OHW', 'uniforms.invOHW')};
        let rem = p - n * OHW;
        let oy = ${div('rem', 'OW', 'uniforms.invOW')};
        let ox = rem - oy * OW;
        let iy = oy * uniforms.stride.x + offY;
        let ix = ox * uniforms.stride.y + offX;
        if (iy >= 0 && iy < H && ix >= 0 && ix < W) {
          v = x[(((n * H + iy) * W + ix) * CI + ci) / ${va}];
        }`)}
${stage(b, 'bValid && p < uniforms.P', `v = dy[(p * CO + bco) / ${vb}];`)}`,
    });
  }
}

export interface Conv2DBackpropFilterAttrs extends ConvGradAttrs {
  filterShape: [number, number, number, number];
}

/**
 * Runs the fast kernel, or returns null when the case is not covered (NCHW, non-float32, dilated)
 * so the caller falls back to the stock kernel.
 */
const conv2dBackpropFilterFast: SplitKKernelBody<{ x: TensorInfo; dy: TensorInfo }, Conv2DBackpropFilterAttrs> = ({ x, dy }, attrs, backend, tuning = BACKPROP_FILTER_TUNING) =>
  runConvGemm(backend, [x, dy], { input: x.shape, filter: attrs.filterShape, dy: dy.shape }, attrs, [...attrs.filterShape], (c) => {
    const [k, p] = [c.kh * c.kw * c.ci, c.n * c.oh * c.ow];
    const plan = planBackpropFilter(k, c.co, c.ci, p, tuning);
    const invOW = Math.fround(1 / c.ow);
    const invOHW = Math.fround(1 / (c.oh * c.ow));
    return { program: new BackpropFilterGemmProgram(plan), uniforms: uniformValues(k, p, plan.stepsPerSlice, c.kw, c.stride, c.pad, { f32: invOW }, { f32: invOHW }) };
  });

/** The kernel function, with `tuning` over BACKPROP_FILTER_TUNING (null = not covered: use stock). */
export const conv2DBackpropFilterKernel = (tuning?: Partial<SplitKTuning>) =>
  splitKKernel(BACKPROP_FILTER_TUNING, tuning, 'tuning.backpropFilter', conv2dBackpropFilterFast);
