/**
 * Float64 buffers for one top-level operation, in the wasm memory when the wasm kernels are used
 * (they can only address that memory) and in a reused ArrayBuffer otherwise.
 */
import type { WasmKernels } from './wasm-module';

/** Bytes left unused at the start of the memory (keeps address 0 free). */
const SCRATCH_BYTES = 64;

/** The JavaScript path's memory, kept between operations (like the wasm memory). */
let jsBuffer: ArrayBuffer | null = null;

/** Forgets the JavaScript path's memory. */
export function dropJsBuffer(): void {
  jsBuffer = null;
}

/**
 * Buffers are 16-byte aligned and their initial contents are undefined. Adding a buffer may move
 * the memory: call views() again after add(); contents are preserved. A later operation reuses
 * the same memory.
 */
export class Arena {
  private readonly offsets: number[] = [];
  private readonly sizes: number[] = [];
  private top = SCRATCH_BYTES;

  /** wasm: the kernels whose memory holds the buffers; null for the JavaScript path. */
  constructor(private readonly wasm: WasmKernels | null) {}

  /** Reserves n doubles; returns the buffer's index in views(). */
  add(n: number): number {
    this.offsets.push(this.top);
    this.sizes.push(n);
    this.top += Math.ceil((n * 8) / 16) * 16;
    return this.offsets.length - 1;
  }

  views(): Float64Array[] {
    const total = this.top;
    let buffer: ArrayBuffer;
    if (this.wasm) {
      const have = this.wasm.buffer.byteLength;
      if (have < total) {
        this.wasm.mem.grow(Math.ceil((total - have) / 65536));
        this.wasm.buffer = this.wasm.mem.buffer;
      }
      buffer = this.wasm.buffer;
    } else {
      if (!jsBuffer || jsBuffer.byteLength < total) {
        const next = new ArrayBuffer(Math.max(total, jsBuffer ? jsBuffer.byteLength * 2 : 0));
        if (jsBuffer) new Uint8Array(next).set(new Uint8Array(jsBuffer));
        jsBuffer = next;
      }
      buffer = jsBuffer;
    }
    return this.sizes.map((n, i) => new Float64Array(buffer, this.offsets[i], n));
  }
}
