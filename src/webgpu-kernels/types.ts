/**
 * Minimal structural types for talking to tfjs's webgpu backend from our own kernels.
 *
 * We do not import `@tensorflow/tfjs-backend-webgpu` at runtime here: that module registers the
 * backend as a side effect only if `navigator.gpu` exists when it is evaluated, so the caller
 * (src/node/webgpu-node.ts in Node, the page in a browser) decides when to load it.
 */
import type { DataType, TensorInfo } from '@tensorflow/tfjs';

/** One uniform value as tfjs's webgpu backend packs it (std140-like, see backend.makeUniforms). */
export interface ProgramUniform {
  type: 'int32' | 'uint32' | 'float32';
  data: number[];
}

/**
 * The shape of a program object as `WebGPUBackend.runWebGPUProgram` consumes it
 * (mirrors tfjs-backend-webgpu's `WebGPUProgram`). The backend prepends its own preamble to
 * `getUserCode()`: the `Uniforms` struct (NAN, INFINITY, `<input>Shape`, `<input>ShapeStrides`,
 * `outShape`, `outShapeStrides`, [`size`], then our `uniforms` string), the bindings `result`
 * (binding 0) and one `array<f32|vec4<f32>>` per `variableNames` entry, and `_start`, which sets
 * the private `localId`, `localIndex`, `globalId`, `workgroupId`, `numWorkgroups` and calls
 * `main()` (non-flat dispatch layout) or `main(index)` (flat layout).
 */
export interface WebGPUProgramLike {
  variableNames: string[];
  /** Components per input element (1 or 4): the binding becomes `array<vec4<f32>>` for 4. */
  variableComponents?: number[];
  outputComponent?: number;
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[]; y?: number[]; z?: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  uniforms?: string;
  size?: boolean;
  atomic?: boolean;
  getUserCode(): string;
}

/** The part of tfjs's `WebGPUBackend` our kernels use. */
export interface WebGPUBackendLike {
  device: GPUDevice;
  runWebGPUProgram(
    program: WebGPUProgramLike,
    inputs: TensorInfo[],
    outputDtype: DataType,
    programDefinedUniform?: ProgramUniform[],
    output?: TensorInfo,
  ): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

/** Uniform values in declaration order: numbers and pairs as int32, `{ f32 }` as float32. */
export function uniformValues(...values: (number | [number, number] | { f32: number })[]): ProgramUniform[] {
  return values.map((v) => (typeof v === 'number' ? { type: 'int32', data: [v] } : Array.isArray(v) ? { type: 'int32', data: v } : { type: 'float32', data: [v.f32] }));
}

/**
 * The same data under another shape (what tfjs's Reshape kernel returns, minus the extra
 * reference). Our programs always see fixed-rank views — tfjs keys compiled pipelines by the
 * ranks of inputs and output — so one pipeline serves every shape.
 */
export function view(t: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

/** WebGPU's default maxComputeWorkgroupsPerDimension; plans beyond it fall back to stock. */
export const MAX_WORKGROUPS_PER_DIM = 65535;

