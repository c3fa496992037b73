/**
 * The generated wasm module (wasm-gemm.ts, wasm-eigen.ts, wasm-convert.ts) and its memory:
 * compiled once per runtime on first use and shared by every call (the memory is the workspace
 * the arenas live in, see arena.ts).
 */
import { assemble } from './wasm-asm';
import { genFill, genToF32 } from './wasm-convert';
import { genRefl, genTriPass, genTriRow } from './wasm-eigen';
import { genNN, genNt } from './wasm-gemm';

type NtKernel = (a: number, b: number, c: number, nb: number, p: number, lda: number, ldb: number, ldc: number, accumulate: number) => void;
type TriKernel = (a: number, vp: number, wp: number, v: number, y: number, count: number, vpi: number, wpi: number, vi: number) => number;
type NnKernel = (a: number, ais: number, ass: number, b: number, ldb: number, c: number, ldc: number, p: number, nb: number, accumulate: number) => void;
type FillKernel = (src: number, dst: number, scale: number, K: number, O: number, ld: number) => number;
type ToF32Kernel = (src: number, dst: number, K: number, O: number, ld: number) => void;
type TriPassKernel = (a: number, n: number, k: number, vp: number, wp: number, v: number, y: number) => void;
type ReflKernel = (v: number, z: number, len: number, kv: number, zs: number, tau: number) => void;

export interface WasmKernels {
  mem: WebAssembly.Memory;
  /** mem.buffer, cached (the getter is slow); refreshed after every grow. */
  buffer: ArrayBuffer;
  /** C = A·Bᵀ blocks of MI×NJ rows (k24), MI×1, 1×NJ, 1×1. */
  nt: Record<'k24' | 'k21' | 'k14' | 'k11', NtKernel>;
  /** C (+)= A·B: 4 rows with contiguous / strided A, 1 row. */
  nn: Record<'c42' | 'r42' | 'x12', NnKernel>;
  tri: TriKernel;
  triPass: TriPassKernel;
  refl: ReflKernel;
  fill: FillKernel;
  tof32: ToF32Kernel;
}

/** Block shape of the main A·Bᵀ kernel: MI rows of A against NJ rows of B. */
export const MI = 2;
export const NJ = 4;

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const fns = [genNt('k24', MI, NJ, 1), genNt('k21', MI, 1, 1), genNt('k14', 1, NJ, 1), genNt('k11', 1, 1, 1), genTriRow()];
  fns.push(
    genTriPass(fns.length - 1), // calls `tri` by its function index
    genRefl(),
    genNN('c42', 4, 2, true), genNN('r42', 4, 2, false), genNN('x12', 1, 2, true),
    genFill(), genToF32(),
  );
  return assemble(fns, 1);
}

function kernelsFrom(inst: WebAssembly.Instance, mem: WebAssembly.Memory): WasmKernels {
  const ex = inst.exports as unknown as Record<string, NtKernel & NnKernel & TriKernel & TriPassKernel & ReflKernel & FillKernel & ToF32Kernel>;
  return {
    mem,
    buffer: mem.buffer,
    nt: { k24: ex.k24, k21: ex.k21, k14: ex.k14, k11: ex.k11 },
    nn: { c42: ex.c42, r42: ex.r42, x12: ex.x12 },
    tri: ex.tri,
    triPass: ex.triPass,
    refl: ex.refl,
    fill: ex.fill,
    tof32: ex.tof32,
  };
}

/** undefined: not tried yet; null: this runtime has no wasm SIMD. */
let compiled: WasmKernels | null | undefined;

/** The kernels, compiled synchronously on first use (fine in workers and Node; see compileWasm). */
export function loadWasm(): WasmKernels | null {
  if (compiled !== undefined) return compiled;
  compiled = null;
  try {
    if (typeof WebAssembly !== 'object') return null;
    const bytes = moduleBytes();
    if (!WebAssembly.validate(bytes)) return null;
    const mem = new WebAssembly.Memory({ initial: 16 });
    compiled = kernelsFrom(new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { mem } }), mem);
  } catch {
    compiled = null;
  }
  return compiled;
}

/**
 * Compiles the kernels asynchronously (browsers refuse synchronous compiles of this size on the
 * main thread); a no-op once they are loaded. Failures are left to loadWasm (which returns null).
 */
export async function compileWasm(): Promise<void> {
  if (compiled !== undefined || typeof WebAssembly !== 'object') return;
  try {
    const bytes = moduleBytes();
    if (!WebAssembly.validate(bytes)) return;
    const mem = new WebAssembly.Memory({ initial: 16 });
    const inst = await WebAssembly.instantiate(await WebAssembly.compile(bytes), { env: { mem } });
    if (compiled === undefined) compiled = kernelsFrom(inst, mem);
  } catch {
    // leave it to loadWasm
  }
}

/** Forgets the module and its memory (the next use compiles a fresh one). */
export function dropWasm(): void {
  compiled = undefined;
}
