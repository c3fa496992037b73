/**
 * Conv2DBackpropInput for tfjs's webgpu backend as an implicit GEMM (NHWC, HWIO filter).
 *
 *   dX[n, iy, ix, ci] = Σ_{kh, kw, co} dY[n, oy, ox, co] · W[kh, kw, ci, co]
 *       where oy = (iy + padTop − kh) / sh and ox = (ix + padLeft − kw) / sw are exact and in range.
 *
 * As a matrix product dX[q, ci] = Σ_r A[q, r] · B[r, ci] with q = (n, iy, ix), r = (kh, kw, co):
 * A gathers dY (zero where no output pixel maps to q), B is the filter read along co (its
 * contiguous axis). A workgroup computes a 64 × TN tile (TN = 16/32/64 after CI, so thin layers
 * do not waste half a tile), 4×4 per thread. The reduction runs (kh, kw) outer and co inner in
 * steps of 16 staged in workgroup memory, so which output pixel feeds a row (and whether one
 * does) is worked out once per step, not per loaded value.
 * When the output has too few tiles to fill the GPU (deep layers at 2×2 or 4×4), the r range is
 * split over S workgroups and a second pass sums the partial results. The tiling, split-K and
 * output code are shared with Conv2DBackpropFilter (tiled-gemm.ts).
 */
import type { TensorInfo } from '@tensorflow/tfjs';
import { gemmPlan, runConvGemm, splitKKernel, TiledGemmProgram, type ConvGradAttrs, type GemmPlan, type SplitKKernelBody, type SplitKTuning } from './tiled-gemm';
import { uniformValues } from './types';

const TK = 16;
const TM = 64;

export const BACKPROP_INPUT_TUNING: Readonly<SplitKTuning> = { targetThreads: 1 << 17, minStepsPerSlice: 8, maxPartialFloats: 1 << 24 };

/** dX (M × CI, M = n·h·w) = Σ_r A[r, q]·B[r, ci] over r = (kh, kw, co), co in steps of TK. */
export interface BackpropInputPlan extends GemmPlan {
  /** vec4 loads along co (CO % 4 == 0). */
  v: 1 | 4;
  /** Steps of TK channels per (kh, kw), and in all. */
  coSteps: number;
  totalSteps: number;
}

export function planBackpropInput(m: number, ci: number, khw: number, co: number, tuning: SplitKTuning = BACKPROP_INPUT_TUNING): BackpropInputPlan {
  // TN after CI, so that thin layers do not waste half a tile
  const tile = { tr: TK, tm: TM, tn: ci <= 16 ? 16 : ci <= 32 ? 32 : 64 };
  const coSteps = Math.ceil(co / TK);
  const totalSteps = khw * coSteps;
  return { ...gemmPlan(tile, m, ci, totalSteps, tuning, true), v: co % 4 === 0 ? 4 : 1, coSteps, totalSteps };
}

class BackpropInputGemmProgram extends TiledGemmProgram {
  constructor(private readonly plan: BackpropInputPlan) {
    const { tile, v } = plan;
    const key = `lrpetConvBpInputGemm_${tile.tn}_${v}`;
    super(plan, ['dy', 'W'], [v, v], key, 'M : i32, coSteps : i32, totalSteps : i32, steps : i32, kw : i32, inHW : vec2<i32>, stride : vec2<i32>, pad : vec2<i32>,');
  }

  getUserCode(): string {
    const { v } = this.plan;
    // A (dY) and B (W) along co: row r of a step is co = co0 + r; a vec4 spans 4 rows
    const a = { tile: 'As', vec: v, along: 'rows', col: 'aq', row0: 'ar0' } as const;
    const b = { tile: 'Bs', vec: v, along: 'rows', col: 'bl', row0: 'br0' } as const;
    const stage = (l: typeof a | typeof b, guard: string, body: string) => this.stage({ ...l, prelude: 'let co = co0 + r;', guard, body });
    return this.wgsl({
      rows: 'uniforms.M',
      cols: 'CI',
      setup: /* wgsl */ `
  let stepBase = i32(workgroupId.z) * uniforms.steps;
  let H = uniforms.inHW.x;
  let W_ = uniforms.inHW.y;
  let OH = uniforms.dyShape.y;
  let OW = uniforms.dyShape.z;
  let CO = uniforms.dyShape.w;
  let CI = uniforms.wShape.z;

  // The row q of A this thread loads is fixed: decompose it once.
  let aq = ${this.lane(a).col};
  let ar0 = ${this.lane(a).row0};
  let q = m0 + aq;
  let qValid = q < uniforms.M;
  let n = q / (H * W_);
  let rem = q - n * H * W_;
  let iy = rem / W_;
  let ix = rem - iy * W_;
  let yb = iy + uniforms.pad.x;
  let xb = ix + uniforms.pad.y;

  let bl = ${this.lane(b).col};
  let br0 = ${this.lane(b).row0};
  let bci = n0 + bl;
  let bValid = bci < CI;
`,
      stage: /* wgsl */ `    let g = stepBase + step;
    let gValid = g < uniforms.totalSteps;
    let khw = g / uniforms.coSteps;
    let co0 = (g - khw * uniforms.coSteps) * TR;
    let kh = khw / uniforms.kw;
    let kwi = khw - kh * uniforms.kw;
    // Which dY pixel feeds row q at this (kh, kw), if any.
    let ty0 = yb - kh;
    let tx0 = xb - kwi;
    let oy = ty0 / uniforms.stride.x;
    let ox = tx0 / uniforms.stride.y;
    let aOk = gValid && qValid && ty0 >= 0 && tx0 >= 0 && oy * uniforms.stride.x == ty0 &&
        ox * uniforms.stride.y == tx0 && oy < OH && ox < OW;
    let aBase = ((n * OH + oy) * OW + ox) * CO;
${stage(a, 'aOk && co < CO', `v = dy[(aBase + co) / ${v}];`)}
    let bBase = (khw * CI + bci) * CO;
${stage(b, 'gValid && bValid && co < CO', `v = W[(bBase + co) / ${v}];`)}`,
    });
  }
}

export interface Conv2DBackpropInputAttrs extends ConvGradAttrs {
  inputShape: [number, number, number, number];
}

/** Runs the fast kernel, or returns null for what it does not cover (the caller uses stock). */
const conv2dBackpropInputFast: SplitKKernelBody<{ dy: TensorInfo; filter: TensorInfo }, Conv2DBackpropInputAttrs> = ({ dy, filter }, attrs, backend, tuning = BACKPROP_INPUT_TUNING) =>
  runConvGemm(backend, [dy, filter], { input: attrs.inputShape, filter: filter.shape, dy: dy.shape }, attrs, [...attrs.inputShape], (c) => {
    const m = c.n * c.h * c.w;
    const plan = planBackpropInput(m, c.ci, c.kh * c.kw, c.co, tuning);
    return { program: new BackpropInputGemmProgram(plan), uniforms: uniformValues(m, plan.coSteps, plan.totalSteps, plan.stepsPerSlice, c.kw, [c.h, c.w], c.stride, c.pad) };
  });

/** The kernel function, with `tuning` over BACKPROP_INPUT_TUNING (null = not covered: use stock). */
export const conv2DBackpropInputKernel = (tuning?: Partial<SplitKTuning>) =>
  splitKKernel(BACKPROP_INPUT_TUNING, tuning, 'tuning.backpropInput', conv2dBackpropInputFast);
