/**
 * Float64 linear algebra for LRPET's projection (spec §3, §4, §6). Pure TypeScript plus a small
 * runtime-generated WebAssembly SIMD kernel set (falls back to JavaScript where wasm SIMD is
 * unavailable); no DOM, no Node APIs, runs in a Web Worker or in Node.
 *
 * Layout: a conv kernel from tfjs is HWIO [kh, kw, I, O]; flattened row-major it is wt (K×O) with
 * K = kh·kw·I. LRPET's matrix is W = wtᵀ (O×K), one row per output filter; n = min(O, K).
 */
export { projectMatrix, projectMatrix64, transferEnergy, SKIP_SIGMA, RECTIFY_EPS } from './projection';
export type { ProjectOptions, ProjectResult, ProjectResult64 } from './projection';
export { singularValues, truncatedSvd, symmetricEigen } from './svd';
export type { TruncatedSvd } from './svd';
export { setBackend as setLinalgBackend, activeBackend as linalgBackend, releaseWorkspace as releaseLinalgMemory } from './kernels';
export type { Backend as LinalgBackend } from './kernels';
