/**
 * The hot loops of the linear algebra, each run in WebAssembly SIMD (f64x2) where the runtime has
 * it and the operands live in the wasm memory, in plain JavaScript otherwise:
 *  - gemmNT: C = A·Bᵀ, every entry a dot product of two contiguous rows (Gram of short-fat rows);
 *  - gemmNN: C (+)= A·B with B's rows contiguous, vectorised along C's columns (Gram WAᵀWA,
 *    the projection products);
 *  - triPass / applyReflector: the fused pass of the Householder tridiagonalisation and the
 *    back-transformation of eigenvectors (eigen.ts);
 *  - fillScaled / copyOut: float32 ⇄ float64 conversion of the weights.
 * On the benchmark machine the wasm path is ≈ 3× (ResNet-56) to 5× (VGG-16) faster than the JS
 * one. Operands must come from this object's arena() to use the wasm path; anything else
 * silently takes the JS path.
 *
 * Every choice is an explicit option (LinalgOptions), fixed per call: there is no global switch.
 */
import { Arena, dropJsBuffer } from './arena';
import { applyReflectorJs, copyOutJs, fillJs, gemmNNjs, gemmNTjs, triPassJs } from './js-kernels';
import { compileWasm, dropWasm, loadWasm, MI, NJ, type WasmKernels } from './wasm-module';

/** 'auto': wasm SIMD where the runtime has it; 'js': plain JavaScript; 'wasm': wasm or an error. */
export type Backend = 'auto' | 'wasm' | 'js';

export interface LinalgOptions {
  /** Implementation of the hot loops (default 'auto'). */
  backend?: Backend;
  /**
   * Bytes of B kept per inner-dimension chunk of the matrix products, so that a chunk stays in
   * cache while the row blocks sweep it (default 256 KiB, ≈ half the L2 of current x86 cores).
   */
  cacheBytes?: number;
  /** When given, milliseconds per phase (fill, gram, tridiag, …) are added into it. */
  phases?: Record<string, number>;
}

const DEFAULT_CACHE_BYTES = 262144;

/** The implementation a call with this backend option uses. */
export function resolveBackend(backend: Backend = 'auto'): 'wasm' | 'js' {
  if (backend !== 'auto' && backend !== 'wasm' && backend !== 'js') throw new Error(`linalg: unknown backend '${String(backend)}' (auto, wasm or js)`);
  if (backend === 'js') return 'js';
  if (loadWasm()) return 'wasm';
  if (backend === 'wasm') throw new Error('linalg: WebAssembly SIMD is not available in this runtime');
  return 'js';
}

/**
 * Compiles the wasm kernels asynchronously. Optional: the first call compiles them synchronously
 * anyway, which browsers refuse on the main thread for modules of this size (the code then falls
 * back to JavaScript); awaiting this first makes the wasm path available there too.
 * Resolves to the implementation that calls with the default options will use.
 */
export async function initKernels(): Promise<'wasm' | 'js'> {
  await compileWasm();
  return resolveBackend('auto');
}

/**
 * Drops the kernels' memory (the wasm memory only grows: after a 512×4608 projection it holds
 * ≈ 45 MB). The next call re-creates it. Views from earlier calls must not be used afterwards.
 */
export function releaseWorkspace(): void {
  dropWasm();
  dropJsBuffer();
}

function onWasm(w: WasmKernels, a: Float64Array, b: Float64Array, c: Float64Array): boolean {
  const buf = w.buffer;
  return a.buffer === buf && b.buffer === buf && c.buffer === buf;
}

/** The hot loops with one call's options resolved. */
export class Kernels {
  private readonly wasm: WasmKernels | null;
  private readonly cacheBytes: number;
  private readonly phases: Record<string, number> | null;
  private phaseStart = 0;

  constructor(opts: LinalgOptions = {}) {
    this.wasm = resolveBackend(opts.backend) === 'wasm' ? loadWasm() : null;
    this.cacheBytes = opts.cacheBytes ?? DEFAULT_CACHE_BYTES;
    if (!(this.cacheBytes > 0)) throw new Error(`linalg: cacheBytes must be positive, got ${opts.cacheBytes}`);
    this.phases = opts.phases ?? null;
  }

  /** Workspace for one operation, where this object's kernels can use it. */
  arena(): Arena {
    return new Arena(this.wasm);
  }

  /** Adds the time since the previous mark to phase `name` (null: just restart the clock). */
  mark(name: string | null): void {
    if (!this.phases) return;
    const now = performance.now();
    if (name) this.phases[name] = (this.phases[name] ?? 0) + now - this.phaseStart;
    this.phaseStart = now;
  }

  /**
   * C[i·ldc + j] = Σ_t A[i·lda + t]·B[j·ldb + t] for i < m, j < q, t < p.
   * With sym (A and B the same rows, m = q) only j ≥ i is computed and then mirrored.
   */
  gemmNT(
    A: Float64Array, lda: number,
    B: Float64Array, ldb: number,
    C: Float64Array, ldc: number,
    m: number, q: number, p: number,
    sym = false,
  ): void {
    const w = this.wasm;
    if (w && onWasm(w, A, B, C)) this.gemmNTwasm(w, A.byteOffset, lda * 8, B.byteOffset, ldb * 8, C.byteOffset, ldc * 8, m, q, p, sym);
    else gemmNTjs(A, lda, B, ldb, C, ldc, m, q, p, sym);
    if (sym) {
      for (let i = 0; i < m; i++) for (let j = i + 1; j < q; j++) C[j * ldc + i] = C[i * ldc + j];
    }
  }

  /** gemmNT in wasm: a, b, c byte addresses, la, lb, lc row strides in bytes. */
  private gemmNTwasm(w: WasmKernels, a: number, la: number, b: number, lb: number, c: number, lc: number, m: number, q: number, p: number, sym: boolean): void {
    const { k24, k21, k14, k11 } = w.nt;
    // chunk the inner dimension so that q rows × chunk doubles of B stay in cache
    let chunk = p;
    if (q * p * 8 > this.cacheBytes) chunk = Math.max(64, Math.floor(this.cacheBytes / (q * 8) / 16) * 16);
    for (let t0 = 0; t0 < p || t0 === 0; t0 += chunk) {
      const pc = Math.min(chunk, p - t0);
      const accum = t0 > 0 ? 1 : 0;
      const a0 = a + t0 * 8;
      const b0 = b + t0 * 8;
      // rows of A in blocks of MI (kernels k24, k21), then one at a time (k14, k11)
      const rowBlock = (i: number, mi: number): void => {
        const j0 = sym ? i : 0;
        const nb = Math.floor((q - j0) / NJ);
        const ap = a0 + i * la;
        if (nb > 0) (mi === MI ? k24 : k14)(ap, b0 + j0 * lb, c + i * lc + j0 * 8, nb, pc, la, lb, lc, accum);
        const j1 = j0 + nb * NJ;
        if (j1 < q) (mi === MI ? k21 : k11)(ap, b0 + j1 * lb, c + i * lc + j1 * 8, q - j1, pc, la, lb, lc, accum);
      };
      let i = 0;
      for (; i + MI <= m; i += MI) rowBlock(i, MI);
      for (; i < m; i++) rowBlock(i, 1);
      if (p === 0) break;
    }
  }

  /**
   * C (+)= A·B with B's rows contiguous: C[i·ldc + j] = Σ_s A[i·ais + s·ass]·B[s·ldb + j] for
   * i < m, s < p and j < q, where q must be a multiple of 4 (B and C must have that many readable /
   * writable columns; pad them). symBlocks: only column blocks j ≥ (i rounded down to 4) are
   * computed (for a Gram AᵀA with B = A, m = q; the lower triangle is then incomplete).
   */
  gemmNN(
    A: Float64Array, ais: number, ass: number,
    B: Float64Array, ldb: number,
    C: Float64Array, ldc: number,
    m: number, q: number, p: number,
    accumulate: boolean,
    symBlocks = false,
  ): void {
    if (q % 4 !== 0) throw new Error('gemmNN: q must be a multiple of 4');
    let chunk = p;
    if (p * q * 8 > this.cacheBytes) chunk = Math.max(16, Math.floor(this.cacheBytes / (q * 8)));
    const w = this.wasm;
    if (!w || !onWasm(w, A, B, C)) {
      gemmNNjs(A, ais, ass, B, ldb, C, ldc, m, q, p, accumulate, symBlocks, chunk);
      return;
    }
    const { c42, r42, x12 } = w.nn;
    const k4 = ais === 1 ? c42 : r42;
    for (let s0 = 0; s0 < p; s0 += chunk) {
      const pc = Math.min(chunk, p - s0);
      const acc = accumulate || s0 > 0 ? 1 : 0;
      const a0 = A.byteOffset + s0 * ass * 8;
      const b0 = B.byteOffset + s0 * ldb * 8;
      let i = 0;
      for (; i + 4 <= m; i += 4) {
        const j0 = symBlocks ? i : 0;
        k4(a0 + i * ais * 8, ais * 8, ass * 8, b0 + j0 * 8, ldb * 8, C.byteOffset + (i * ldc + j0) * 8, ldc * 8, pc, (q - j0) >> 2, acc);
      }
      for (; i < m; i++) {
        const j0 = symBlocks ? i & ~3 : 0;
        x12(a0 + i * ais * 8, 8, ass * 8, b0 + j0 * 8, ldb * 8, C.byteOffset + (i * ldc + j0) * 8, ldc * 8, pc, (q - j0) >> 2, acc);
      }
    }
  }

  /**
   * The fused pass of tridiagonalisation step k (see eigen.ts) over rows k+1 … n−1 of the n×n
   * matrix a: apply the pending rank-2 update (vp, wp) and accumulate y = A v.
   */
  triPass(a: Float64Array, n: number, k: number, vp: Float64Array, wp: Float64Array, v: Float64Array, y: Float64Array): void {
    const w = this.wasm;
    if (w && onWasm(w, a, vp, wp) && onWasm(w, a, v, y)) w.triPass(a.byteOffset, n, k, vp.byteOffset, wp.byteOffset, v.byteOffset, y.byteOffset);
    else triPassJs(a, n, k, vp, wp, v, y);
  }

  /**
   * Applies reflector r of a tridiagonalisation (u = e_{r+1} + a[r·n + r+2 …], factor tau) to the
   * kv vectors stored as rows of z (row stride n): z_q ← (I − τ u uᵀ) z_q.
   */
  applyReflector(a: Float64Array, n: number, r: number, tau: number, z: Float64Array, kv: number): void {
    const w = this.wasm;
    if (w && onWasm(w, a, z, z)) w.refl(a.byteOffset + (r * n + r + 2) * 8, z.byteOffset + (r + 1) * 8, n - r - 2, kv, n * 8, tau);
    else applyReflectorJs(a, n, r, tau, z, kv);
  }

  /**
   * WA (K rows, stride ld) = wt·diag(scale) with zero padding columns; returns Σ WA². `stage` (at
   * least ⌈K·O/2⌉ doubles) and `scaleBuf` (O doubles) are workspace buffers used to bring float32
   * input and the scale into wasm memory.
   */
  fillScaled(
    wt: Float32Array | Float64Array, K: number, O: number, scale: Float64Array | null, scaleBuf: Float64Array,
    WA: Float64Array, ld: number, stage: Float64Array,
  ): number {
    const w = this.wasm;
    if (!w || !(wt instanceof Float32Array) || !onWasm(w, WA, stage, scaleBuf)) return fillJs(wt, K, O, scale, WA, ld);
    new Float32Array(stage.buffer, stage.byteOffset, K * O).set(wt);
    if (scale) scaleBuf.set(scale);
    return w.fill(stage.byteOffset, WA.byteOffset, scale ? scaleBuf.byteOffset : 0, K, O, ld);
  }

  /** out (K×O dense) = rows of T (stride ld); uses `stage` (≥ ⌈K·O/2⌉ doubles) for float32 output. */
  copyOut(out: Float32Array | Float64Array, T: Float64Array, K: number, O: number, ld: number, stage: Float64Array): void {
    const w = this.wasm;
    if (out instanceof Float32Array && w && onWasm(w, T, stage, stage)) {
      w.tof32(T.byteOffset, stage.byteOffset, K, O, ld);
      out.set(new Float32Array(stage.buffer, stage.byteOffset, K * O));
      return;
    }
    copyOutJs(out, T, K, O, ld);
  }
}

/** Convenience: one arena with the given sizes, returned as views. */
export function workspace(kernels: Kernels, sizes: number[]): Float64Array[] {
  const ar = kernels.arena();
  for (const s of sizes) ar.add(s);
  return ar.views();
}
