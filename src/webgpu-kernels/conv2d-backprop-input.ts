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
 * split over S workgroups and a second pass sums the partial results.
 */
import { backend_util, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import { sumSlices } from './slices';
import { MAX_WORKGROUPS_PER_DIM, view, type ProgramUniform, type WebGPUBackendLike, type WebGPUProgramLike } from './types';

const TK = 16;
const TM = 64;

export interface BackpropInputTuning {
  targetThreads: number;
  minStepsPerSlice: number;
  maxPartialFloats: number;
}

const tuning: BackpropInputTuning = { targetThreads: 1 << 17, minStepsPerSlice: 8, maxPartialFloats: 1 << 24 };

export function setBackpropInputTuning(t: Partial<BackpropInputTuning>): BackpropInputTuning {
  Object.assign(tuning, t);
  return { ...tuning };
}

export interface BackpropInputPlan {
  tn: number;
  threads: number;
  /** vec4 loads along co (CO % 4 == 0). */
  v: 1 | 4;
  /** Steps of TK channels per (kh, kw), total steps, split count S and steps per slice. */
  coSteps: number;
  totalSteps: number;
  slices: number;
  stepsPerSlice: number;
  m: number;
  ci: number;
}

export function planBackpropInput(m: number, ci: number, khw: number, co: number): BackpropInputPlan {
  const tn = ci <= 16 ? 16 : ci <= 32 ? 32 : 64;
  const threads = (TM * tn) / 16;
  const tiles = Math.ceil(m / TM) * Math.ceil(ci / tn);
  const coSteps = Math.ceil(co / TK);
  const totalSteps = khw * coSteps;
  let slices = 1;
  if (tiles * threads < tuning.targetThreads / 2) {
    const wanted = Math.ceil(tuning.targetThreads / (threads * tiles));
    const byWork = Math.floor(totalSteps / tuning.minStepsPerSlice);
    const byMemory = Math.floor(tuning.maxPartialFloats / (m * ci));
    slices = Math.max(1, Math.min(wanted, byWork, byMemory, 65535));
  }
  const stepsPerSlice = Math.ceil(totalSteps / slices);
  slices = Math.ceil(totalSteps / stepsPerSlice);
  return { tn, threads, v: co % 4 === 0 ? 4 : 1, coSteps, totalSteps, slices, stepsPerSlice, m, ci };
}

class BackpropInputGemmProgram implements WebGPUProgramLike {
  variableNames = ['dy', 'W'];
  variableComponents: number[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [0], y: [1] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  uniforms =
    'M : i32, coSteps : i32, totalSteps : i32, steps : i32, kw : i32, inHW : vec2<i32>, stride : vec2<i32>, pad : vec2<i32>,';

  constructor(
    private readonly plan: BackpropInputPlan,
    outputShape: number[],
  ) {
    const { tn, v, threads, slices, m, ci } = plan;
    this.variableComponents = [v, v];
    this.outputShape = outputShape;
    this.workgroupSize = [threads, 1, 1];
    this.dispatch = [Math.ceil(ci / tn), Math.ceil(m / TM), slices];
    this.shaderKey = `lrpetConvBpInputGemm_${tn}_${v}`;
  }

  getUserCode(): string {
    const { tn, v, threads } = this.plan;
    const aLoads = (TM * TK) / v / threads;
    const aRowStep = (threads / TM) * v;
    const bLoads = (tn * TK) / v / threads;
    const bRowStep = (threads / tn) * v;
    const zero = v === 4 ? 'vec4<f32>(0.0)' : '0.0';
    const storeA =
      v === 4
        ? `As[rl * TM4 + aq / 4][aq % 4] = val.x;
      As[(rl + 1) * TM4 + aq / 4][aq % 4] = val.y;
      As[(rl + 2) * TM4 + aq / 4][aq % 4] = val.z;
      As[(rl + 3) * TM4 + aq / 4][aq % 4] = val.w;`
        : 'As[rl * TM4 + aq / 4][aq % 4] = val;';
    const storeB =
      v === 4
        ? `Bs[rl * TN4 + bl / 4][bl % 4] = val.x;
      Bs[(rl + 1) * TN4 + bl / 4][bl % 4] = val.y;
      Bs[(rl + 2) * TN4 + bl / 4][bl % 4] = val.z;
      Bs[(rl + 3) * TN4 + bl / 4][bl % 4] = val.w;`
        : 'Bs[rl * TN4 + bl / 4][bl % 4] = val;';
    return /* wgsl */ `
const TK : i32 = ${TK};
const TM4 : i32 = ${TM / 4};
const TN4 : i32 = ${tn / 4};
var<workgroup> As : array<vec4<f32>, ${(TK * TM) / 4}>;
var<workgroup> Bs : array<vec4<f32>, ${(TK * tn) / 4}>;

fn main() {
  let t = i32(localIndex);
  let tx = t % TN4;
  let ty = t / TN4;
  let n0 = i32(workgroupId.x) * ${tn};
  let m0 = i32(workgroupId.y) * ${TM};
  let stepBase = i32(workgroupId.z) * uniforms.steps;

  let H = uniforms.inHW.x;
  let W_ = uniforms.inHW.y;
  let OH = uniforms.dyShape.y;
  let OW = uniforms.dyShape.z;
  let CO = uniforms.dyShape.w;
  let CI = uniforms.wShape.z;

  // The row q of A this thread loads is fixed: decompose it once.
  let aq = t % ${TM};
  let ar0 = (t / ${TM}) * ${v};
  let q = m0 + aq;
  let qValid = q < uniforms.M;
  let n = q / (H * W_);
  let rem = q - n * H * W_;
  let iy = rem / W_;
  let ix = rem - iy * W_;
  let yb = iy + uniforms.pad.x;
  let xb = ix + uniforms.pad.y;

  let bl = t % ${tn};
  let br0 = (t / ${tn}) * ${v};
  let bci = n0 + bl;
  let bValid = bci < CI;

  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);

  for (var step = 0; step < uniforms.steps; step++) {
    let g = stepBase + step;
    let gValid = g < uniforms.totalSteps;
    let khw = g / uniforms.coSteps;
    let co0 = (g - khw * uniforms.coSteps) * TK;
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
    for (var i = 0; i < ${aLoads}; i++) {
      let rl = ar0 + i * ${aRowStep};
      let co = co0 + rl;
      var val = ${zero};
      if (aOk && co < CO) {
        val = dy[(aBase + co) / ${v}];
      }
      ${storeA}
    }
    let bBase = (khw * CI + bci) * CO;
    for (var i = 0; i < ${bLoads}; i++) {
      let rl = br0 + i * ${bRowStep};
      let co = co0 + rl;
      var val = ${zero};
      if (gValid && bValid && co < CO) {
        val = W[(bBase + co) / ${v}];
      }
      ${storeB}
    }
    workgroupBarrier();
    for (var rr = 0; rr < TK; rr++) {
      let a = As[rr * TM4 + ty];
      let b = Bs[rr * TN4 + tx];
      acc0 = fma(vec4<f32>(a.x), b, acc0);
      acc1 = fma(vec4<f32>(a.y), b, acc1);
      acc2 = fma(vec4<f32>(a.z), b, acc2);
      acc3 = fma(vec4<f32>(a.w), b, acc3);
    }
    workgroupBarrier();
  }

  let ci = n0 + tx * 4;
  let qBase = m0 + ty * 4;
  let outBase = i32(workgroupId.z) * uniforms.M;
  var accs = array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
  for (var i = 0; i < 4; i++) {
    let qq = qBase + i;
    if (qq < uniforms.M) {
      let base = (outBase + qq) * CI + ci;
      let a = accs[i];
      for (var j = 0; j < 4; j++) {
        if (ci + j < CI) {
          result[base + j] = a[j];
        }
      }
    }
  }
}
`;
  }
}

export interface Conv2DBackpropInputAttrs {
  inputShape: [number, number, number, number];
  strides: number | [number, number];
  pad: 'same' | 'valid' | number | backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** Runs the fast kernel, or returns null for what it does not cover (the caller uses stock). */
export function conv2dBackpropInputFast(
  dy: TensorInfo,
  filter: TensorInfo,
  attrs: Conv2DBackpropInputAttrs,
  backend: WebGPUBackendLike,
): TensorInfo | null {
  if (attrs.dataFormat === 'NCHW' || dy.dtype !== 'float32' || filter.dtype !== 'float32') return null;
  if (dy.shape.length !== 4 || filter.shape.length !== 4) return null;
  const inShape = attrs.inputShape;
  const fShape = filter.shape as [number, number, number, number];
  const info = backend_util.computeConv2DInfo(inShape, fShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return null;
  const [n, h, w, ci] = inShape;
  const [kh, kw, fci, co] = fShape;
  if (fci !== ci || dy.shape[3] !== co || dy.shape[1] !== info.outHeight || dy.shape[2] !== info.outWidth || dy.shape[0] !== n) return null;
  const m = n * h * w;
  if (m === 0 || kh * kw * co === 0) return null;
  const plan = planBackpropInput(m, ci, kh * kw, co);
  if (Math.ceil(m / TM) > MAX_WORKGROUPS_PER_DIM) return null;
  const uniforms: ProgramUniform[] = [
    { type: 'int32', data: [m] },
    { type: 'int32', data: [plan.coSteps] },
    { type: 'int32', data: [plan.totalSteps] },
    { type: 'int32', data: [plan.stepsPerSlice] },
    { type: 'int32', data: [kw] },
    { type: 'int32', data: [h, w] },
    { type: 'int32', data: [info.strideHeight, info.strideWidth] },
    { type: 'int32', data: [info.padInfo.top, info.padInfo.left] },
  ];
  // Always [S, M, CI] (S = 1: dX itself), so one pipeline whether or not a second pass follows.
  const partial = backend.runWebGPUProgram(new BackpropInputGemmProgram(plan, [plan.slices, m, ci]), [dy, filter], 'float32', uniforms);
  if (plan.slices === 1) return view(partial, [n, h, w, ci]);
  const out = sumSlices(backend, partial, plan.slices, [n, h, w, ci]);
  backend.disposeData(partial.dataId);
  return out;
}

/** The kernel body with tfjs's kernel-function arguments; null = not covered (use stock). */
export function conv2DBackpropInputKernel(args: Parameters<KernelFunc>[0]): TensorInfo | null {
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  return conv2dBackpropInputFast(dy, filter, args.attrs as unknown as Conv2DBackpropInputAttrs, args.backend as unknown as WebGPUBackendLike);
}
