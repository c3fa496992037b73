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
 * layer). All shape values are uniforms, so one pipeline serves every shape with the same
 * tile configuration.
 */
import { backend_util, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import { sumSlices } from './slices';
import { DIV_FAST_LIMIT, DIV_FAST_WGSL } from './wgsl';
import { MAX_WORKGROUPS_PER_DIM, view, type ProgramUniform, type WebGPUBackendLike, type WebGPUProgramLike } from './types';

/** Rows of P staged per step. */
const TP = 16;

export interface BackpropFilterTuning {
  /** Aim for about this many threads in flight in pass 1 (sets the split count S). */
  targetThreads: number;
  /** Each slice of P gets at least this many TP-row steps. */
  minStepsPerSlice: number;
  /** Cap on the partial-sum buffer, in floats. */
  maxPartialFloats: number;
}

const tuning: BackpropFilterTuning = {
  // An H100 keeps 132 SMs × 2,048 threads resident.
  targetThreads: 1 << 18,
  minStepsPerSlice: 8,
  maxPartialFloats: 1 << 24,
};

export function setBackpropFilterTuning(t: Partial<BackpropFilterTuning>): BackpropFilterTuning {
  Object.assign(tuning, t);
  return { ...tuning };
}

export interface BackpropFilterPlan {
  /** Tile of dW per workgroup: TM rows of k = (kh, kw, ci), TN columns of co. */
  tm: number;
  tn: number;
  /** vec4 loads of X (CI % 4 == 0) and of dY (CO % 4 == 0). */
  va: 1 | 4;
  vb: 1 | 4;
  threads: number;
  /** Number of slices of P (split-K factor) and steps of TP rows per slice. */
  slices: number;
  stepsPerSlice: number;
  k: number;
  p: number;
  co: number;
  /** Row decomposition p → (n, y, x) by f32 reciprocal (exact while P < 2^22). */
  fastDiv: boolean;
}

export function planBackpropFilter(k: number, co: number, ci: number, p: number): BackpropFilterPlan {
  const tn = co <= 16 ? 16 : co <= 32 ? 32 : 64;
  const tm = k <= 32 ? 32 : 64;
  const threads = (tm * tn) / 16;
  const tiles = Math.ceil(k / tm) * Math.ceil(co / tn);
  const totalSteps = Math.max(1, Math.ceil(p / TP));
  const wanted = Math.ceil(tuning.targetThreads / threads / tiles);
  const byWork = Math.floor(totalSteps / tuning.minStepsPerSlice);
  const byMemory = Math.floor(tuning.maxPartialFloats / (k * co));
  let slices = Math.max(1, Math.min(wanted, byWork, byMemory, 65535));
  const stepsPerSlice = Math.ceil(totalSteps / slices);
  slices = Math.ceil(totalSteps / stepsPerSlice);
  return {
    tm,
    tn,
    va: ci % 4 === 0 ? 4 : 1,
    vb: co % 4 === 0 ? 4 : 1,
    threads,
    slices,
    stepsPerSlice,
    k,
    p,
    co,
    fastDiv: p + TP < DIV_FAST_LIMIT,
  };
}

class BackpropFilterGemmProgram implements WebGPUProgramLike {
  variableNames = ['x', 'dy'];
  variableComponents: number[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [0], y: [1] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  uniforms =
    'K : i32, P : i32, steps : i32, kw : i32, stride : vec2<i32>, pad : vec2<i32>, invOW : f32, invOHW : f32,';

  constructor(
    private readonly plan: BackpropFilterPlan,
    outputShape: number[],
  ) {
    const { tm, tn, va, vb, threads, slices, k, co } = plan;
    this.variableComponents = [va, vb];
    this.outputShape = outputShape;
    this.workgroupSize = [threads, 1, 1];
    this.dispatch = [Math.ceil(co / tn), Math.ceil(k / tm), slices];
    this.shaderKey = `lrpetConvBpFilterGemm_${tm}_${tn}_${va}_${vb}_${plan.fastDiv ? 'fd' : 'id'}`;
  }

  getUserCode(): string {
    const { tm, tn, va, vb, threads, fastDiv } = this.plan;
    const div = (a: string, d: string, inv: string) => (fastDiv ? `divFast(${a}, ${d}, ${inv})` : `${a} / ${d}`);
    const aLoads = (TP * tm) / va / threads;
    const bLoads = (TP * tn) / vb / threads;
    const aRowStep = threads / (tm / va);
    const bRowStep = threads / (tn / vb);
    const zeroA = va === 4 ? 'vec4<f32>(0.0)' : '0.0';
    const zeroB = vb === 4 ? 'vec4<f32>(0.0)' : '0.0';
    const storeA =
      va === 4 ? 'As[r * TM4 + am / 4] = v;' : 'As[r * TM4 + am / 4][am % 4] = v;';
    const storeB =
      vb === 4 ? 'Bs[r * TN4 + bn / 4] = v;' : 'Bs[r * TN4 + bn / 4][bn % 4] = v;';
    return /* wgsl */ `
${fastDiv ? DIV_FAST_WGSL : ''}
const TP : i32 = ${TP};
const TM4 : i32 = ${tm / 4};
const TN4 : i32 = ${tn / 4};
var<workgroup> As : array<vec4<f32>, ${(TP * tm) / 4}>;
var<workgroup> Bs : array<vec4<f32>, ${(TP * tn) / 4}>;

fn main() {
  let t = i32(localIndex);
  let tx = t % TN4;
  let ty = t / TN4;
  let n0 = i32(workgroupId.x) * ${tn};
  let m0 = i32(workgroupId.y) * ${tm};
  let pSlice = i32(workgroupId.z) * uniforms.steps * TP;

  let H = uniforms.xShape.y;
  let W = uniforms.xShape.z;
  let CI = uniforms.xShape.w;
  let OW = uniforms.dyShape.z;
  let OHW = uniforms.dyShape.y * OW;
  let CO = uniforms.dyShape.w;

  // The column of A this thread loads is the same at every step: decompose k once.
  let am = (t % ${tm / va}) * ${va};
  let aRow0 = t / ${tm / va};
  let ak = m0 + am;
  let aValid = ak < uniforms.K;
  let khw = ak / CI;
  let ci = ak - khw * CI;
  let kh = khw / uniforms.kw;
  let kwi = khw - kh * uniforms.kw;
  let offY = kh - uniforms.pad.x;
  let offX = kwi - uniforms.pad.y;

  let bn = (t % ${tn / vb}) * ${vb};
  let bRow0 = t / ${tn / vb};
  let bco = n0 + bn;
  let bValid = bco < CO;

  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);

  for (var step = 0; step < uniforms.steps; step++) {
    let p0 = pSlice + step * TP;
    for (var i = 0; i < ${aLoads}; i++) {
      let r = aRow0 + i * ${aRowStep};
      let p = p0 + r;
      var v = ${zeroA};
      if (aValid && p < uniforms.P) {
        let n = ${div('p', 'OHW', 'uniforms.invOHW')};
        let rem = p - n * OHW;
        let oy = ${div('rem', 'OW', 'uniforms.invOW')};
        let ox = rem - oy * OW;
        let iy = oy * uniforms.stride.x + offY;
        let ix = ox * uniforms.stride.y + offX;
        if (iy >= 0 && iy < H && ix >= 0 && ix < W) {
          v = x[(((n * H + iy) * W + ix) * CI + ci) / ${va}];
        }
      }
      ${storeA}
    }
    for (var i = 0; i < ${bLoads}; i++) {
      let r = bRow0 + i * ${bRowStep};
      let p = p0 + r;
      var v = ${zeroB};
      if (bValid && p < uniforms.P) {
        v = dy[(p * CO + bco) / ${vb}];
      }
      ${storeB}
    }
    workgroupBarrier();
    for (var pp = 0; pp < TP; pp++) {
      let a = As[pp * TM4 + ty];
      let b = Bs[pp * TN4 + tx];
      acc0 = fma(vec4<f32>(a.x), b, acc0);
      acc1 = fma(vec4<f32>(a.y), b, acc1);
      acc2 = fma(vec4<f32>(a.z), b, acc2);
      acc3 = fma(vec4<f32>(a.w), b, acc3);
    }
    workgroupBarrier();
  }

  let co = n0 + tx * 4;
  let kBase = m0 + ty * 4;
  let outBase = i32(workgroupId.z) * uniforms.K;
  var accs = array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
  for (var i = 0; i < 4; i++) {
    let k = kBase + i;
    if (k < uniforms.K) {
      let base = (outBase + k) * CO + co;
      let a = accs[i];
      for (var j = 0; j < 4; j++) {
        if (co + j < CO) {
          result[base + j] = a[j];
        }
      }
    }
  }
}
`;
  }
}

export interface Conv2DBackpropFilterAttrs {
  strides: number | [number, number];
  pad: 'same' | 'valid' | number | backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/**
 * Runs the fast kernel, or returns null when the case is not covered (NCHW, non-float32) so the
 * caller falls back to the stock kernel.
 */
export function conv2dBackpropFilterFast(
  x: TensorInfo,
  dy: TensorInfo,
  attrs: Conv2DBackpropFilterAttrs,
  backend: WebGPUBackendLike,
): TensorInfo | null {
  if (attrs.dataFormat === 'NCHW' || x.dtype !== 'float32' || dy.dtype !== 'float32') return null;
  if (x.shape.length !== 4 || dy.shape.length !== 4) return null;
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return null;
  const [kh, kw, ci, co] = attrs.filterShape;
  const [n, oh, ow, dco] = dy.shape;
  if (dco !== co || oh !== info.outHeight || ow !== info.outWidth || x.shape[3] !== ci || n !== x.shape[0]) return null;
  const k = kh * kw * ci;
  const p = n * oh * ow;
  if (p === 0 || k === 0 || co === 0) return null;
  const plan = planBackpropFilter(k, co, ci, p);
  if (Math.ceil(k / plan.tm) > MAX_WORKGROUPS_PER_DIM || Math.ceil(co / plan.tn) > MAX_WORKGROUPS_PER_DIM) return null;
  const uniforms: ProgramUniform[] = [
    { type: 'int32', data: [k] },
    { type: 'int32', data: [p] },
    { type: 'int32', data: [plan.stepsPerSlice] },
    { type: 'int32', data: [kw] },
    { type: 'int32', data: [info.strideHeight, info.strideWidth] },
    { type: 'int32', data: [info.padInfo.top, info.padInfo.left] },
    { type: 'float32', data: [Math.fround(1 / ow)] },
    { type: 'float32', data: [Math.fround(1 / (oh * ow))] },
  ];
  // Pass 1 always writes [S, K, CO] (with S = 1 that is dW itself), so its pipeline does not
  // depend on whether a second pass follows.
  const partial = backend.runWebGPUProgram(new BackpropFilterGemmProgram(plan, [plan.slices, k, co]), [x, dy], 'float32', uniforms);
  if (plan.slices === 1) return view(partial, [kh, kw, ci, co]);
  const out = sumSlices(backend, partial, plan.slices, [kh, kw, ci, co]);
  backend.disposeData(partial.dataId);
  return out;
}

/** The kernel body with tfjs's kernel-function arguments; null = not covered (use stock). */
export function conv2DBackpropFilterKernel(args: Parameters<KernelFunc>[0]): TensorInfo | null {
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  return conv2dBackpropFilterFast(x, dy, args.attrs as unknown as Conv2DBackpropFilterAttrs, args.backend as unknown as WebGPUBackendLike);
}
