/**
 * Float64 linear algebra for LRPET's projection (docs/lrpet.md §3, §4, §6). Pure TypeScript plus
 * a small WebAssembly SIMD kernel set generated at runtime (with a plain-JS fallback where wasm
 * SIMD is missing); no DOM, no Node APIs: runs in a Web Worker and in Node. Single-threaded and
 * synchronous.
 *
 * Layout: a conv kernel from tfjs is HWIO [kh, kw, I, O]; flattened row-major it is wt (K×O) with
 * K = kh·kw·I. LRPET's matrix is W = wtᵀ (O×K), one row per output filter; n = min(O, K).
 *
 * Method (see gram.ts, eigen.ts, projection.ts): the n×n Gram of M = diag(a)·W (O×O when O ≤ K,
 * else K×K) in float64; Householder tridiagonalisation; all eigenvalues by root-free implicit QL;
 * eigenvectors only for the top r (or the bottom n−r, whichever is fewer) by inverse iteration;
 * M' = c1·M + c2·U(UᵀM) applied without forming V.
 *
 * The hot loops (dispatch.ts) run in wasm SIMD or plain JavaScript (js-kernels.ts) per call, as
 * LinalgOptions say (every entry point takes them; defaults: wasm where available, 256 KiB cache
 * chunks, no phase timing). The wasm module is written at runtime by wasm-asm.ts from
 * wasm-gemm.ts, wasm-eigen.ts and wasm-convert.ts; its memory holds the workspace (arena.ts).
 *
 * Accuracy (tests compare with numpy.linalg.svd): singular values ≥ 1e-6·σ1 to ≲ 1e-8 relative
 * (kept values are Ritz values ‖Mᵀu‖), smaller ones (below what a Gram matrix resolves) to
 * ≲ 1e-7·σ1 absolute; projected weights to ≲ 1e-13 relative (float32 output: its rounding,
 * ≈ 3e-8), ≲ 1e-7 when the rank cut itself lies below √ε·σ1.
 */
export { projectMatrix, projectMatrix64, transferEnergy } from './projection';
export type { ProjectOptions, ProjectResult, ProjectResult64 } from './projection';
export { singularValues, truncatedSvd, symmetricEigen } from './svd';
export type { TruncatedSvd } from './svd';
export {
  initKernels as initLinalg,
  resolveBackend as linalgBackend,
  releaseWorkspace as releaseLinalgMemory,
} from './dispatch';
export type { Backend as LinalgBackend, LinalgOptions } from './dispatch';
