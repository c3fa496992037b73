/**
 * What the two implicit-GEMM kernels (conv2d-backprop-filter.ts, conv2d-backprop-input.ts) share:
 * C[m, n] = Σ_r A[r, m] · B[r, n] with A and B gathered on the fly by the caller's WGSL.
 *
 *  - A workgroup computes a TM × TN tile of C, 4 × 4 per thread, over its range of reduction
 *    steps: each step stages a TR × TM tile of A and a TR × TN tile of B in workgroup memory
 *    (stageTile), then every thread accumulates its register block (tiledGemmWgsl).
 *  - Launch plans (gemmPlan) and the pass-1 program class (TiledGemmProgram).
 *  - Split-K: the reduction steps are spread over S workgroups along z (splitK); pass 1 always
 *    writes partial results [S, M, N] (S = 1: C itself, so one pipeline whether or not a second
 *    pass follows), reduceSlices (slices.ts) sums them (runConvGemm).
 *  - Which convolutions they cover (coveredConv) and their kernel functions (splitKKernel).
 * Shape values are uniforms, so one pipeline serves every shape with the same tile configuration.
 */
import { backend_util, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import { reduceSlices } from './slices';
import { MAX_WORKGROUPS_PER_DIM, type ProgramUniform, type WebGPUBackendLike, type WebGPUProgramLike } from './types';

/** Split-K knobs (see splitK); each kernel has its defaults, useKernels can override them. */
export interface SplitKTuning {
  /** Aim for about this many threads in flight in pass 1 (sets the split count S). */
  targetThreads: number;
  /** Each slice gets at least this many reduction steps. */
  minStepsPerSlice: number;
  /** Cap on the partial-sum buffer, in floats. */
  maxPartialFloats: number;
}

/** `partial` over `defaults`, every value checked (a positive integer); `what` names it in errors. */
function splitKTuning(defaults: SplitKTuning, partial: Partial<SplitKTuning> = {}, what = 'tuning'): SplitKTuning {
  for (const k of Object.keys(partial)) {
    if (!(k in defaults)) throw new Error(`${what}: unknown setting '${k}' (${Object.keys(defaults).join(', ')})`);
  }
  const t = { ...defaults, ...partial };
  for (const [k, v] of Object.entries(t)) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${what}.${k} must be a positive integer, got ${String(v)}`);
  }
  return t;
}

/**
 * Splits `totalSteps` reduction steps into S slices for a launch of `threads` threads (all
 * tiles) with `outputFloats` outputs: about targetThreads in flight, at least minStepsPerSlice
 * steps a slice, S·outputFloats ≤ maxPartialFloats, and no empty slice.
 */
function splitK(totalSteps: number, threads: number, outputFloats: number, tuning: SplitKTuning): { slices: number; stepsPerSlice: number } {
  const wanted = Math.ceil(tuning.targetThreads / threads);
  const byWork = Math.floor(totalSteps / tuning.minStepsPerSlice);
  const byMemory = Math.floor(tuning.maxPartialFloats / outputFloats);
  let slices = Math.max(1, Math.min(wanted, byWork, byMemory, 65535));
  const stepsPerSlice = Math.ceil(totalSteps / slices);
  slices = Math.ceil(totalSteps / stepsPerSlice);
  return { slices, stepsPerSlice };
}

/** Tile of one workgroup: TR reduction rows staged per step, TM × TN outputs, TM·TN/16 threads. */
export interface GemmTile {
  tr: number;
  tm: number;
  tn: number;
}

const threadsOf = (tile: GemmTile): number => (tile.tm * tile.tn) / 16;

/** What every tiled-GEMM launch plan has. */
export interface GemmPlan {
  tile: GemmTile;
  /** Threads per workgroup (TM·TN/16). */
  threads: number;
  /** C is rows × cols (M × N). */
  rows: number;
  cols: number;
  /** Split count S and reduction steps per slice. */
  slices: number;
  stepsPerSlice: number;
}

/**
 * The launch plan of an M × N output over totalSteps reduction steps. With splitOnlyWhenIdle the
 * reduction is split only when the output tiles alone leave the GPU half idle.
 */
export function gemmPlan(tile: GemmTile, rows: number, cols: number, totalSteps: number, tuning: SplitKTuning, splitOnlyWhenIdle = false): GemmPlan {
  const threads = threadsOf(tile);
  const all = threads * Math.ceil(rows / tile.tm) * Math.ceil(cols / tile.tn);
  const split =
    splitOnlyWhenIdle && all >= tuning.targetThreads / 2 ? { slices: 1, stepsPerSlice: totalSteps } : splitK(totalSteps, all, rows * cols, tuning);
  return { tile, threads, rows, cols, ...split };
}

/**
 * The pass-1 program of a tiled GEMM (outputs [S, M, N]); subclasses write their WGSL with
 * wgsl(), stage() and lane().
 */
export abstract class TiledGemmProgram implements WebGPUProgramLike {
  variableComponents: number[];
  outputShape: number[];
  dispatchLayout = { x: [0], y: [1] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  protected readonly tile: GemmTile;

  constructor(plan: GemmPlan, readonly variableNames: string[], components: number[], readonly shaderKey: string, readonly uniforms: string) {
    this.tile = plan.tile;
    this.variableComponents = components;
    this.outputShape = [plan.slices, plan.rows, plan.cols];
    this.dispatch = [Math.ceil(plan.cols / plan.tile.tn), Math.ceil(plan.rows / plan.tile.tm), plan.slices];
    this.workgroupSize = [plan.threads, 1, 1];
  }

  abstract getUserCode(): string;

  protected wgsl(parts: GemmWgsl): string {
    return tiledGemmWgsl(this.tile, parts);
  }

  protected stage(load: StageLoad): string {
    return stageTile(this.tile, load);
  }

  protected lane(loads: TileLoads): { col: string; row0: string } {
    return tileLane(this.tile, loads);
  }
}

/** WGSL pieces of one tiled GEMM (see tiledGemmWgsl). */
export interface GemmWgsl {
  /** Module-scope code (helper functions). */
  header?: string;
  /**
   * Statements run once per thread before the step loop; t (local index), tx, ty (its column and
   * row group), n0 and m0 (the tile's first column and row) are defined.
   */
  setup: string;
  /** Statements of step `step` (0 … uniforms.steps − 1 within the slice) that fill As and Bs. */
  stage: string;
  /** Expressions for M and N (bounds of the written block). */
  rows: string;
  cols: string;
}

/** The WGSL of a tiled GEMM's pass 1 (what runs between the caller's setup/stage and the output). */
function tiledGemmWgsl(tile: GemmTile, w: GemmWgsl): string {
  const { tr, tm, tn } = tile;
  return /* wgsl */ `
${w.header ?? ''}
const TR : i32 = ${tr};
const TM4 : i32 = ${tm / 4};
const TN4 : i32 = ${tn / 4};
var<workgroup> As : array<vec4<f32>, ${(tr * tm) / 4}>;
var<workgroup> Bs : array<vec4<f32>, ${(tr * tn) / 4}>;

fn main() {
  let t = i32(localIndex);
  let tx = t % TN4;
  let ty = t / TN4;
  let n0 = i32(workgroupId.x) * ${tn};
  let m0 = i32(workgroupId.y) * ${tm};
${w.setup}
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);

  for (var step = 0; step < uniforms.steps; step++) {
${w.stage}
    workgroupBarrier();
    for (var rr = 0; rr < TR; rr++) {
      let a = As[rr * TM4 + ty];
      let b = Bs[rr * TN4 + tx];
      acc0 = fma(vec4<f32>(a.x), b, acc0);
      acc1 = fma(vec4<f32>(a.y), b, acc1);
      acc2 = fma(vec4<f32>(a.z), b, acc2);
      acc3 = fma(vec4<f32>(a.w), b, acc3);
    }
    workgroupBarrier();
  }

  let col = n0 + tx * 4;
  let rowBase = m0 + ty * 4;
  let outBase = i32(workgroupId.z) * ${w.rows};
  var accs = array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
  for (var i = 0; i < 4; i++) {
    let row = rowBase + i;
    if (row < ${w.rows}) {
      let base = (outBase + row) * ${w.cols} + col;
      let a = accs[i];
      for (var j = 0; j < 4; j++) {
        if (col + j < ${w.cols}) {
          result[base + j] = a[j];
        }
      }
    }
  }
}
`;
}

/**
 * How the threads load one staged tile: `vec` components per load, a vec4 spanning 4 tile columns
 * or 4 tile rows (reduction indices r … r+3).
 */
export interface TileLoads {
  tile: 'As' | 'Bs';
  vec: 1 | 4;
  along: 'cols' | 'rows';
}

/**
 * The tile column a thread loads (the first of 4 for a vec4 along columns) and its first tile row,
 * as WGSL expressions of t; it then loads every rowStep-th row (see stageTile).
 */
function tileLane(gemm: GemmTile, l: TileLoads): { col: string; row0: string } {
  const width = l.tile === 'As' ? gemm.tm : gemm.tn;
  return l.along === 'cols'
    ? { col: `(t % ${width / l.vec}) * ${l.vec}`, row0: `t / ${width / l.vec}` }
    : { col: `t % ${width}`, row0: `(t / ${width}) * ${l.vec}` };
}

/** One tile's staging code (see stageTile). */
export interface StageLoad extends TileLoads {
  /** Names of the thread's column and first row (lets of the setup, from tileLane). */
  col: string;
  row0: string;
  /** Statements after the tile row `r` is defined (e.g. its reduction index). */
  prelude: string;
  /** The loaded value `v`: 0 unless `guard`, then what `body` assigns. */
  guard: string;
  body: string;
}

/** WGSL statements staging this thread's values of one tile for the current step. */
function stageTile(gemm: GemmTile, s: StageLoad): string {
  const width = s.tile === 'As' ? gemm.tm : gemm.tn;
  const threads = threadsOf(gemm);
  const ld = s.tile === 'As' ? 'TM4' : 'TN4';
  const at = (row: string) => `${s.tile}[${row} * ${ld} + ${s.col} / 4]`;
  let store: string;
  if (s.vec === 1) store = `${at('r')}[${s.col} % 4] = v;`;
  else if (s.along === 'cols') store = `${at('r')} = v;`;
  else store = ['x', 'y', 'z', 'w'].map((c, j) => `${at(j === 0 ? 'r' : `(r + ${j})`)}[${s.col} % 4] = v.${c};`).join('\n      ');
  return `    for (var i = 0; i < ${(gemm.tr * width) / s.vec / threads}; i++) {
      let r = ${s.row0} + i * ${(threads * s.vec) / width};
      ${s.prelude}
      var v = ${s.vec === 4 ? 'vec4<f32>(0.0)' : '0.0'};
      if (${s.guard}) {
        ${s.body}
      }
      ${store}
    }`;
}

type Shape4 = [number, number, number, number];

/** The attributes tfjs gives both conv gradients. */
export interface ConvGradAttrs {
  strides: number | [number, number];
  pad: 'same' | 'valid' | number | backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** A convolution our gradient kernels cover: its sizes (all non-zero), stride and padding. */
export interface CoveredConv {
  /** [strideHeight, strideWidth] and [padTop, padLeft]. */
  stride: [number, number];
  pad: [number, number];
  /** Input n × h × w × ci, filter kh × kw × ci × co, output n × oh × ow × co. */
  n: number;
  h: number;
  w: number;
  ci: number;
  kh: number;
  kw: number;
  co: number;
  oh: number;
  ow: number;
}

/**
 * The convolution (NHWC input `inShape`, HWIO `filterShape`, output `dyShape`) whose gradient
 * takes the tensors a and b, or null when our kernels do not cover it: NCHW, not float32, not
 * 4-D, dilated, inconsistent shapes, or empty (stock handles those).
 */
function coveredConv(a: TensorInfo, b: TensorInfo, inShape: number[], filterShape: number[], dyShape: number[], attrs: ConvGradAttrs): CoveredConv | null {
  if (attrs.dataFormat === 'NCHW' || a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  if (a.shape.length !== 4 || b.shape.length !== 4) return null;
  const info = backend_util.computeConv2DInfo(inShape as Shape4, filterShape as Shape4, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return null;
  const [n, h, w, ci] = inShape;
  const [kh, kw, fci, co] = filterShape;
  const [oh, ow] = [info.outHeight, info.outWidth];
  if (fci !== ci || String(dyShape) !== String([n, oh, ow, co])) return null;
  const sizes = { n, h, w, ci, kh, kw, co, oh, ow };
  if (Object.values(sizes).includes(0)) return null;
  return { ...sizes, stride: [info.strideHeight, info.strideWidth], pad: [info.padInfo.top, info.padInfo.left] };
}

/**
 * One conv gradient as a tiled GEMM on the tensors a and b: null when coveredConv says so (the
 * caller then uses stock), else `launch` plans it, pass 1 runs and, with S > 1, the slice sum;
 * the result is viewed as `outShape`. Also null when the grid exceeds WebGPU's default limits.
 */
export function runConvGemm(
  backend: WebGPUBackendLike,
  [a, b]: [TensorInfo, TensorInfo],
  shapes: { input: number[]; filter: number[]; dy: number[] },
  attrs: ConvGradAttrs,
  outShape: number[],
  launch: (c: CoveredConv) => { program: TiledGemmProgram; uniforms: ProgramUniform[] },
): TensorInfo | null {
  const c = coveredConv(a, b, shapes.input, shapes.filter, shapes.dy, attrs);
  if (!c) return null;
  const { program, uniforms } = launch(c);
  if (program.dispatch.some((d) => d > MAX_WORKGROUPS_PER_DIM)) return null;
  const partial = backend.runWebGPUProgram(program, [a, b], 'float32', uniforms);
  return reduceSlices(backend, partial, program.outputShape[0], outShape);
}

/** A split-K kernel on tfjs's inputs and attributes: the result, or null when not covered. */
export type SplitKKernelBody<Inputs, Attrs> = (inputs: Inputs, attrs: Attrs, backend: WebGPUBackendLike, tuning?: SplitKTuning) => TensorInfo | null;

/**
 * The kernel function for tfjs's arguments (null = not covered: use stock) that runs `body` with
 * `tuning` over `defaults`, checked once here (`what` names it in errors).
 */
export function splitKKernel<Inputs, Attrs>(
  defaults: SplitKTuning,
  tuning: Partial<SplitKTuning> | undefined,
  what: string,
  body: SplitKKernelBody<Inputs, Attrs>,
): (args: Parameters<KernelFunc>[0]) => TensorInfo | null {
  const t = splitKTuning(defaults, tuning, what);
  return (args) => body(args.inputs as unknown as Inputs, args.attrs as unknown as Attrs, args.backend as unknown as WebGPUBackendLike, t);
}
