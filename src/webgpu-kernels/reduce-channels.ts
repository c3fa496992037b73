/**
 * Sum and Mean over leading/middle axes with trailing axes kept — the shape of every batch-norm
 * statistic and gradient in NHWC (`tf.moments(x, [0, 1, 2])`, the sums in BatchNorm's gradient,
 * bias gradients, global average pooling over [1, 2]).
 *
 * tfjs's stock reduce first transposes the reduced axes innermost (a full extra pass over the
 * tensor) and then runs one workgroup per output value: 16 workgroups for a 16-channel layer,
 * a few SMs of an H100. Here x is viewed as [A, R, C] (A = kept leading axes, R = reduced run,
 * C = kept trailing axes) and read in place: a workgroup covers up to 64 consecutive columns
 * (vec4 when C % 4 == 0) and 256 / (columns / 4) rows at once, so reads are contiguous; the row
 * range is split over S workgroups and a second pass sums the S partial results.
 *
 * Innermost reductions (C = 1 … 3), integer inputs and non-contiguous axis sets go to stock.
 */
import { util, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import { reduceSlices } from './slices';
import { MAX_WORKGROUPS_PER_DIM, uniformValues, view as asView, type WebGPUBackendLike, type WebGPUProgramLike } from './types';

const THREADS = 256;

export interface ChannelReducePlan {
  a: number;
  r: number;
  c: number;
  v: 1 | 4;
  /** Threads per row (each v columns wide), rows in parallel, column groups. */
  tcv: number;
  lanes: number;
  groups: number;
  slices: number;
  rowsPerSlice: number;
}

/** Workgroups pass 1 aims for (sets the split count). */
export const CHANNEL_REDUCE_TARGET_WORKGROUPS = 1024;

export function planChannelReduce(a: number, r: number, c: number, targetWorkgroups = CHANNEL_REDUCE_TARGET_WORKGROUPS): ChannelReducePlan {
  const v = c % 4 === 0 ? 4 : 1;
  const cols = Math.ceil(c / v);
  let tcv = 1;
  while (tcv < cols && tcv < 16) tcv *= 2;
  const lanes = THREADS / tcv;
  const groups = Math.ceil(cols / tcv);
  const wanted = Math.ceil(targetWorkgroups / (groups * a));
  const byWork = Math.floor(r / (lanes * 8));
  let slices = Math.max(1, Math.min(wanted, byWork, 65535));
  const rowsPerSlice = Math.ceil(r / slices);
  slices = Math.ceil(r / rowsPerSlice);
  return { a, r, c, v, tcv, lanes, groups, slices, rowsPerSlice };
}

class ChannelReduceProgram implements WebGPUProgramLike {
  variableNames = ['x'];
  variableComponents: number[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [0], y: [1] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [THREADS, 1, 1];
  uniforms = 'A : i32, R : i32, C : i32, rowsPerSlice : i32, scale : f32,';

  constructor(
    private readonly plan: ChannelReducePlan,
    outputShape: number[],
  ) {
    this.variableComponents = [plan.v];
    this.outputShape = outputShape;
    this.dispatch = [plan.groups, plan.slices, plan.a];
    this.shaderKey = `lrpetChannelReduce_${plan.v}_${plan.tcv}`;
  }

  getUserCode(): string {
    const { v, tcv, lanes } = this.plan;
    const vt = v === 4 ? 'vec4<f32>' : 'f32';
    const write =
      v === 4
        ? `for (var j = 0; j < 4; j++) {
        if (col + j < uniforms.C) {
          result[outBase + col + j] = s[j] * uniforms.scale;
        }
      }`
        : `if (col < uniforms.C) {
        result[outBase + col] = s * uniforms.scale;
      }`;
    return /* wgsl */ `
var<workgroup> red : array<${vt}, ${THREADS}>;

fn main() {
  let t = i32(localIndex);
  let cv = i32(workgroupId.x) * ${tcv} + t % ${tcv};
  let lane = t / ${tcv};
  let col = cv * ${v};
  let slice = i32(workgroupId.y);
  let a = i32(workgroupId.z);
  let rStart = slice * uniforms.rowsPerSlice;
  let rEnd = min(rStart + uniforms.rowsPerSlice, uniforms.R);
  var s = ${vt}(0.0);
  if (col < uniforms.C) {
    let base = a * uniforms.R * uniforms.C + col;
    for (var r = rStart + lane; r < rEnd; r += ${lanes}) {
      s += x[(base + r * uniforms.C) / ${v}];
    }
  }
  red[t] = s;
  workgroupBarrier();
  for (var hs = ${lanes / 2}; hs >= 1; hs /= 2) {
    if (lane < hs) {
      red[t] += red[t + hs * ${tcv}];
    }
    workgroupBarrier();
  }
  if (lane == 0) {
    s = red[t];
    let outBase = (slice * uniforms.A + a) * uniforms.C;
    ${write}
  }
}
`;
  }
}

/** [A, R, C] view of `shape` when `axes` (sorted) is one contiguous run; null otherwise. */
export function channelView(shape: number[], axes: number[]): { a: number; r: number; c: number } | null {
  if (axes.length === 0) return null;
  for (let i = 1; i < axes.length; i++) if (axes[i] !== axes[i - 1] + 1) return null;
  const prod = (xs: number[]) => xs.reduce((p, d) => p * d, 1);
  return { a: prod(shape.slice(0, axes[0])), r: prod(shape.slice(axes[0], axes[axes.length - 1] + 1)), c: prod(shape.slice(axes[axes.length - 1] + 1)) };
}

function channelReduceFast(
  x: TensorInfo,
  axis: number | number[],
  keepDims: boolean,
  type: 'sum' | 'mean',
  backend: WebGPUBackendLike,
  targetWorkgroups = CHANNEL_REDUCE_TARGET_WORKGROUPS,
): TensorInfo | null {
  if (x.dtype !== 'float32') return null;
  const axes = [...new Set(util.parseAxisParam(axis, x.shape))].sort((p, q) => p - q);
  const view = channelView(x.shape, axes);
  if (!view || view.c < 4 || view.a * view.r * view.c === 0) return null;
  const outShape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
  const plan = planChannelReduce(view.a, view.r, view.c, targetWorkgroups);
  if (plan.groups > MAX_WORKGROUPS_PER_DIM || plan.a > MAX_WORKGROUPS_PER_DIM) return null;
  const scale = type === 'mean' ? 1 / view.r : 1;
  // Fixed-rank views (x as [A, R, C], output [S, A·C]): one pipeline per (vec width, tile). With
  // one slice pass 1 applies the scale itself.
  const x3 = asView(x, [view.a, view.r, view.c]);
  const partial = backend.runWebGPUProgram(new ChannelReduceProgram(plan, [plan.slices, view.a * view.c]), [x3], 'float32', uniformValues(view.a, view.r, view.c, plan.rowsPerSlice, { f32: plan.slices === 1 ? scale : 1 }));
  return reduceSlices(backend, partial, plan.slices, outShape, scale);
}

/**
 * Kernel body for Sum / Mean with tfjs's kernel-function arguments (null = not covered: use
 * stock), aiming for `targetWorkgroups` workgroups in pass 1.
 */
export function channelReduceKernel(type: 'sum' | 'mean', targetWorkgroups = CHANNEL_REDUCE_TARGET_WORKGROUPS): (args: Parameters<KernelFunc>[0]) => TensorInfo | null {
  if (!Number.isInteger(targetWorkgroups) || targetWorkgroups < 1) throw new Error(`tuning.channelReduce.targetWorkgroups must be a positive integer, got ${targetWorkgroups}`);
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
    return channelReduceFast(x, axis, keepDims, type, args.backend as unknown as WebGPUBackendLike, targetWorkgroups);
  };
}
