/**
 * Second pass of our split-K kernels: sums S partial results [S, KC] into KC outputs, times a scale.
 * Workgroup = 64 outputs × 4 lanes striding over S; consecutive outputs are consecutive in memory.
 */
import type { TensorInfo } from '@tensorflow/tfjs';
import { uniformValues, view, type WebGPUBackendLike, type WebGPUProgramLike } from './types';

class SumSlicesProgram implements WebGPUProgramLike {
  variableNames = ['partial'];
  outputShape: number[];
  shaderKey = 'lrpetSumSlices';
  dispatchLayout = { x: [0], y: [1] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [64, 4, 1];
  uniforms = 'S : i32, KC : i32, scale : f32,';

  constructor(outputShape: number[], kc: number) {
    this.outputShape = outputShape;
    const groups = Math.ceil(kc / 64);
    // Stay under maxComputeWorkgroupsPerDimension (65,535) by folding into y.
    const gy = Math.ceil(groups / 32768);
    this.dispatch = [Math.ceil(groups / gy), gy, 1];
  }

  getUserCode(): string {
    return /* wgsl */ `
var<workgroup> red : array<f32, 256>;

fn main() {
  let lx = i32(localId.x);
  let ly = i32(localId.y);
  let o = (i32(workgroupId.y) * i32(numWorkgroups.x) + i32(workgroupId.x)) * 64 + lx;
  var sum = 0.0;
  if (o < uniforms.KC) {
    for (var s = ly; s < uniforms.S; s += 4) {
      sum += partial[s * uniforms.KC + o];
    }
  }
  red[ly * 64 + lx] = sum;
  workgroupBarrier();
  if (ly == 0 && o < uniforms.KC) {
    result[o] = ((red[lx] + red[64 + lx]) + (red[128 + lx] + red[192 + lx])) * uniforms.scale;
  }
}
`;
  }
}

/** Sums `partial` ([S, …] with S·KC elements) over S into a new tensor of `outShape` (KC elements). */
function sumSlices(
  backend: WebGPUBackendLike,
  partial: TensorInfo,
  slices: number,
  outShape: number[],
  scale = 1,
): TensorInfo {
  const kc = outShape.reduce((a, b) => a * b, 1);
  // Fixed-rank views ([S, KC] → [KC]): one pipeline for every caller and shape.
  const out = backend.runWebGPUProgram(new SumSlicesProgram([kc], kc), [view(partial, [slices, kc])], 'float32', uniformValues(slices, kc, { f32: scale }));
  return view(out, outShape);
}

/**
 * The result of a split pass 1 (`partial` = S partial results [S, …], KC values each): the sum
 * over S times `scale` as a new tensor of `outShape` (partial disposed), or `partial` itself seen
 * as `outShape` when S = 1 (pass 1 has then applied any scale itself).
 */
export function reduceSlices(backend: WebGPUBackendLike, partial: TensorInfo, slices: number, outShape: number[], scale = 1): TensorInfo {
  if (slices === 1) return view(partial, outShape);
  const out = sumSlices(backend, partial, slices, outShape, scale);
  backend.disposeData(partial.dataId);
  return out;
}
