/**
 * A split convolution of the compact model in one dispatch (tfjs's webgpu backend):
 *
 *   t[p, j] = Σ_{ky, kx, i} X[n, oy·s + ky − pad, ox·s + kx − pad, i] · B[ky, kx, i, j]   (k×k conv to r channels)
 *   Y[p, o] = act(bias[o] + Σ_j t[p, j] · M[j, o])                                          (1×1 conv back to O)
 *
 * for output pixels p = (n, oy, ox), with the BatchNorm folded into M and bias and act = ReLU where one
 * follows. Each workgroup takes TP consecutive output pixels: phase 1 computes their r-channel
 * intermediate t into workgroup memory (never written to device memory), phase 2 reads it back for
 * all O outputs. TP is chosen so that TP × r fits the 16 KiB of workgroup memory WebGPU guarantees.
 *
 *   registerFusedSplitConv();   // after the webgpu backend is registered
 *   tf.engine().runKernel(FUSED_SPLIT_CONV, { x, basis, mix, bias }, { stride, pad, relu })
 *
 * x [N, H, W, I] NHWC, basis [k, k, I, r] (HWIO), mix [r, O], bias [O]; float32.
 */
import { getKernel, registerKernel, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import { FUSED_SPLIT_CONV } from '../engine/deploy/forward';
import { uniformValues, type WebGPUBackendLike, type WebGPUProgramLike } from './types';

export { FUSED_SPLIT_CONV };

export interface FusedSplitConvAttrs {
  stride: number;
  pad: number;
  relu: boolean;
}

const THREADS = 64;
/** Floats of workgroup memory (WebGPU's guaranteed maxComputeWorkgroupStorageSize, 16 KiB). */
const SHARED_FLOATS = 4096;
const MAX_TILE_PIXELS = 64;
/** Workgroups along x before the grid wraps to y (WebGPU allows 65535 per dimension). */
const GRID_X = 32768;

/** The tile: room for `cap` intermediate channels (r rounded up to a power of two ≥ 16) of `pixels` output pixels. */
export function fusedTile(rank: number): { cap: number; pixels: number } {
  let cap = 16;
  while (cap < rank) cap *= 2;
  if (cap > SHARED_FLOATS) throw new Error(`${FUSED_SPLIT_CONV}: rank ${rank} does not fit workgroup memory (at most ${SHARED_FLOATS})`);
  return { cap, pixels: Math.min(MAX_TILE_PIXELS, SHARED_FLOATS / cap) };
}

class FusedSplitConvProgram implements WebGPUProgramLike {
  variableNames = ['x', 'basis', 'mix', 'bias'];
  variableComponents: number[];
  outputShape: number[];
  shaderKey: string;
  // Not flat (y given): tfjs then calls main() without an index; the tile comes from workgroupId.
  dispatchLayout = { x: [0, 1], y: [2, 3] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [THREADS, 1, 1];
  uniforms = 'k : i32, stride : i32, pad : i32, r : i32, P : i32,';

  constructor(
    outShape: number[],
    private readonly tile: { cap: number; pixels: number },
    /** vec4 loads of basis rows (r % 4 = 0) and of mix rows (O % 4 = 0). */
    private readonly vb: 1 | 4,
    private readonly vm: 1 | 4,
    private readonly relu: boolean,
  ) {
    this.outputShape = outShape;
    this.variableComponents = [1, vb, vm, 1];
    const tiles = Math.ceil((outShape[0] * outShape[1] * outShape[2]) / tile.pixels);
    this.dispatch = [Math.min(tiles, GRID_X), Math.ceil(tiles / GRID_X), 1];
    this.shaderKey = `lrpetFusedSplitConv_${tile.cap}_${tile.pixels}_${vb}_${vm}_${relu ? 'relu' : 'lin'}`;
  }

  getUserCode(): string {
    const { cap, pixels } = this.tile;
    // Four consecutive values of a row starting at element `e` (a multiple of 4 when vec4), zero past `limit`.
    const four = (arr: string, vec: number, e: string, col: string, limit: string) =>
      vec === 4
        ? `${arr}[(${e}) / 4]`
        : `vec4<f32>(${[0, 1, 2, 3].map((c) => `select(0.0, ${arr}[${e} + ${c}], ${col} + ${c} < ${limit})`).join(', ')})`;
    return /* wgsl */ `
const TP : i32 = ${pixels};
const CAP : i32 = ${cap};
var<workgroup> T : array<f32, ${pixels * cap}>;

fn main() {
  let t = i32(localIndex);
  let tileIndex = i32(workgroupId.y) * i32(numWorkgroups.x) + i32(workgroupId.x);
  let p0 = tileIndex * TP;
  let H = uniforms.xShape.y;
  let W = uniforms.xShape.z;
  let I = uniforms.xShape.w;
  let OW = uniforms.outShape.z;
  let OHW = uniforms.outShape.y * OW;
  let O = uniforms.outShape.w;
  let R = uniforms.r;
  let K = uniforms.k;

  // Phase 1: t[pixel, j..j+3] for this tile's pixels, into workgroup memory.
  let R4 = (R + 3) / 4;
  for (var item = t; item < TP * R4; item += ${THREADS}) {
    let pl = item / R4;
    let j = (item - pl * R4) * 4;
    let p = p0 + pl;
    var acc = vec4<f32>(0.0);
    if (p < uniforms.P) {
      let n = p / OHW;
      let rem = p - n * OHW;
      let oy = rem / OW;
      let ox = rem - oy * OW;
      for (var ky = 0; ky < K; ky++) {
        let iy = oy * uniforms.stride + ky - uniforms.pad;
        if (iy < 0 || iy >= H) { continue; }
        for (var kx = 0; kx < K; kx++) {
          let ix = ox * uniforms.stride + kx - uniforms.pad;
          if (ix < 0 || ix >= W) { continue; }
          let xb = ((n * H + iy) * W + ix) * I;
          let bb = (ky * K + kx) * I;
          for (var i = 0; i < I; i++) {
            let e = (bb + i) * R + j;
            acc = fma(vec4<f32>(x[xb + i]), ${four('basis', this.vb, 'e', 'j', 'R')}, acc);
          }
        }
      }
    }
    let at = pl * CAP + j;
    T[at] = acc.x;
    T[at + 1] = acc.y;
    T[at + 2] = acc.z;
    T[at + 3] = acc.w;
  }
  workgroupBarrier();

  // Phase 2: out[pixel, o..o+3] = bias + Σ_j t[pixel, j] · mix[j, o..o+3].
  let O4 = (O + 3) / 4;
  for (var item = t; item < TP * O4; item += ${THREADS}) {
    let pl = item / O4;
    let o = (item - pl * O4) * 4;
    let p = p0 + pl;
    if (p >= uniforms.P) { continue; }
    var acc = vec4<f32>(${[0, 1, 2, 3].map((c) => `select(0.0, bias[o + ${c}], o + ${c} < O)`).join(', ')});
    let tb = pl * CAP;
    for (var jj = 0; jj < R; jj++) {
      let e = jj * O + o;
      acc = fma(vec4<f32>(T[tb + jj]), ${four('mix', this.vm, 'e', 'o', 'O')}, acc);
    }
    ${this.relu ? 'acc = max(acc, vec4<f32>(0.0));' : ''}
    let ob = p * O + o;
    for (var c = 0; c < 4; c++) {
      if (o + c < O) {
        result[ob + c] = acc[c];
      }
    }
  }
}
`;
  }
}

function fusedSplitConv(args: Parameters<KernelFunc>[0]): TensorInfo {
  const { x, basis, mix, bias } = args.inputs as Record<'x' | 'basis' | 'mix' | 'bias', TensorInfo>;
  const { stride, pad, relu } = args.attrs as unknown as FusedSplitConvAttrs;
  const backend = args.backend as unknown as WebGPUBackendLike;
  const [n, h, w, inC] = x.shape;
  const [k, k2, bi, r] = basis.shape;
  const [mr, outC] = mix.shape;
  if (x.shape.length !== 4 || k !== k2 || bi !== inC || mr !== r || bias.shape[0] !== outC || [x, basis, mix, bias].some((t) => t.dtype !== 'float32')) {
    throw new Error(`${FUSED_SPLIT_CONV}: shapes do not fit (x ${x.shape}, basis ${basis.shape}, mix ${mix.shape}, bias ${bias.shape}) or not float32`);
  }
  const oh = Math.floor((h + 2 * pad - k) / stride) + 1;
  const ow = Math.floor((w + 2 * pad - k) / stride) + 1;
  const program = new FusedSplitConvProgram([n, oh, ow, outC], fusedTile(r), r % 4 === 0 ? 4 : 1, outC % 4 === 0 ? 4 : 1, relu);
  return backend.runWebGPUProgram(program, [x, basis, mix, bias], 'float32', uniformValues(k, stride, pad, r, n * oh * ow));
}

/** Registers the fused split convolution on tfjs's 'webgpu' backend (once; later calls do nothing). */
export function registerFusedSplitConv(): void {
  if (getKernel(FUSED_SPLIT_CONV, 'webgpu')) return;
  registerKernel({ kernelName: FUSED_SPLIT_CONV, backendName: 'webgpu', kernelFunc: fusedSplitConv as unknown as KernelFunc });
}
