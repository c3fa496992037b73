/**
 * Faster WGSL kernels for the training step on tfjs's 'webgpu' backend, registered in place of
 * the stock ones so that plain tfjs ops (`tf.conv2d`, gradients through `tf.variableGrads`,
 * `tf.moments`, …) use them transparently.
 *
 *   await tf.setBackend('webgpu');   // tfjs-backend-webgpu must have been imported first
 *   useKernels('fast');              // ours
 *   useKernels('stock');             // tfjs's own again (the KernelConfigs kept from tf.getKernel)
 *   useKernels('fast', { only: ['Conv2DBackpropFilter'] });
 *   useKernels('fast', { tuning: { backpropFilter: { targetThreads: 1 << 19 } } });
 *
 * Replaced kernels (all fall back to the stock kernel function for what they do not cover —
 * NCHW, dilation ≠ 1, non-float32, innermost reductions — so switching is always safe):
 *  - Conv2DBackpropFilter: split-K implicit GEMM + slice reduction (conv2d-backprop-filter.ts)
 *  - Conv2DBackpropInput: implicit GEMM with CI-sized tiles, split-K for small outputs
 *    (conv2d-backprop-input.ts; both GEMMs share tiled-gemm.ts)
 *  - Sum, Mean over leading/middle axes (batch-norm statistics and gradients): in-place column
 *    reduction without tfjs's transpose (reduce-channels.ts)
 * and two gradient functions with fewer full-size passes (gradients.ts; global registry, used only
 * while the webgpu backend is active): 'grad:FusedBatchNorm', 'grad:Mean'.
 * Their launch heuristics (split-K, workgroup targets) are useKernels' `tuning` option, per call;
 * reference.ts and sweep.ts are the float64 references and the correctness sweep.
 */
import {
  getGradient,
  getKernel,
  registerGradient,
  registerKernel,
  unregisterKernel,
  type GradConfig,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs';
import { BACKPROP_FILTER_TUNING, conv2DBackpropFilterKernel } from './conv2d-backprop-filter';
import { BACKPROP_INPUT_TUNING, conv2DBackpropInputKernel } from './conv2d-backprop-input';
import { CHANNEL_REDUCE_TARGET_WORKGROUPS, channelReduceKernel } from './reduce-channels';
import { FAST_GRADIENTS, gradientStats } from './gradients';
import type { SplitKTuning } from './tiled-gemm';

export type KernelMode = 'fast' | 'stock';

/**
 * Launch heuristics of the fast kernels, per useKernels call (what is not given keeps its
 * default: BACKPROP_FILTER_TUNING, BACKPROP_INPUT_TUNING, CHANNEL_REDUCE_TARGET_WORKGROUPS).
 */
export interface KernelTuning {
  backpropFilter?: Partial<SplitKTuning>;
  backpropInput?: Partial<SplitKTuning>;
  channelReduce?: { targetWorkgroups?: number };
}

const DEFAULT_TUNING = {
  backpropFilter: BACKPROP_FILTER_TUNING,
  backpropInput: BACKPROP_INPUT_TUNING,
  channelReduce: { targetWorkgroups: CHANNEL_REDUCE_TARGET_WORKGROUPS },
} as const satisfies Required<KernelTuning>;

type FastKernel = (args: Parameters<KernelFunc>[0]) => TensorInfo | null;

const BACKEND = 'webgpu';

/** Our kernels with the given tuning (throws on a bad tuning, before anything is registered). */
function fastKernels(tuning: KernelTuning): Record<string, FastKernel> {
  for (const [group, values] of Object.entries(tuning)) {
    const known = DEFAULT_TUNING[group as keyof KernelTuning] as object | undefined;
    if (!known) throw new Error(`useKernels: unknown tuning '${group}' (${Object.keys(DEFAULT_TUNING).join(', ')})`);
    for (const k of Object.keys(values ?? {})) {
      if (!(k in known)) throw new Error(`useKernels: unknown setting tuning.${group}.${k} (${Object.keys(known).join(', ')})`);
    }
  }
  const reduceTarget = tuning.channelReduce?.targetWorkgroups;
  return {
    Conv2DBackpropFilter: conv2DBackpropFilterKernel(tuning.backpropFilter),
    Conv2DBackpropInput: conv2DBackpropInputKernel(tuning.backpropInput),
    Sum: channelReduceKernel('sum', reduceTarget),
    Mean: channelReduceKernel('mean', reduceTarget),
  };
}

/** Kernel names we register on 'webgpu'. */
export const REPLACED_KERNELS: readonly string[] = Object.keys(fastKernels({}));
/** Our gradient functions, as 'grad:<KernelName>'. */
export const REPLACED_GRADIENTS: readonly string[] = Object.keys(FAST_GRADIENTS);
/** Everything `useKernels('fast', { only })` accepts. */
export const FAST_KERNEL_NAMES: readonly string[] = [...REPLACED_KERNELS, ...REPLACED_GRADIENTS];

const stockConfigs = new Map<string, KernelConfig>();
const stockGradients = new Map<string, GradConfig>();
let active = new Set<string>();
const stats: Record<string, { fast: number; fallback: number }> = {};

function captureStock(): void {
  for (const [name, g] of Object.entries(FAST_GRADIENTS)) {
    if (stockGradients.has(name)) continue;
    const cfg = getGradient(g.kernelName);
    if (!cfg) throw new Error(`useKernels: tfjs has no gradient registered for '${g.kernelName}'`);
    stockGradients.set(name, cfg);
  }
  for (const name of REPLACED_KERNELS) {
    if (stockConfigs.has(name)) continue;
    const cfg = getKernel(name, BACKEND);
    if (!cfg) {
      throw new Error(
        `useKernels: no stock '${name}' kernel is registered for the 'webgpu' backend — import ` +
          `'@tensorflow/tfjs-backend-webgpu' (with navigator.gpu present) before calling useKernels`,
      );
    }
    stockConfigs.set(name, cfg);
  }
}

function register(cfg: KernelConfig): void {
  if (getKernel(cfg.kernelName, BACKEND)) unregisterKernel(cfg.kernelName, BACKEND);
  registerKernel(cfg);
}

function wrap(name: string, fast: FastKernel, stock: KernelFunc): KernelFunc {
  const s = (stats[name] ??= { fast: 0, fallback: 0 });
  return (args) => {
    const out = fast(args);
    if (out) {
      s.fast++;
      return out;
    }
    s.fallback++;
    return stock(args);
  };
}

/**
 * Switches the webgpu kernels: 'fast' registers ours (all, or only those named in `only`; with
 * `tuning` over the defaults), 'stock' restores tfjs's original KernelConfigs. Takes effect from
 * the next op executed. Bad arguments throw before anything changes.
 */
export function useKernels(mode: KernelMode, opts: { only?: readonly string[]; tuning?: KernelTuning } = {}): void {
  const wanted = new Set(mode === 'fast' ? (opts.only ?? FAST_KERNEL_NAMES) : []);
  for (const name of wanted) {
    if (!FAST_KERNEL_NAMES.includes(name)) throw new Error(`useKernels: unknown kernel '${name}' (ours: ${FAST_KERNEL_NAMES.join(', ')})`);
  }
  const fast = fastKernels(opts.tuning ?? {});
  captureStock();
  for (const name of REPLACED_KERNELS) {
    const stock = stockConfigs.get(name)!;
    register(wanted.has(name) ? { kernelName: name, backendName: BACKEND, kernelFunc: wrap(name, fast[name], stock.kernelFunc) } : stock);
  }
  for (const [name, g] of Object.entries(FAST_GRADIENTS)) {
    const stock = stockGradients.get(name)!;
    // The gradient registry is global (all backends); ours defer to tfjs's off webgpu.
    registerGradient(wanted.has(name) ? { ...stock, gradFunc: g.make(stock.gradFunc) } : stock);
  }
  active = wanted;
}

/** Names of our kernels registered now (empty = all stock). */
export function activeFastKernels(): string[] {
  return [...active];
}

/** How often each of our kernels ran its own code and how often it fell back to stock. */
export function kernelStats(): Record<string, { fast: number; fallback: number }> {
  return JSON.parse(JSON.stringify({ ...stats, ...gradientStats })) as Record<string, { fast: number; fallback: number }>;
}

export type { SplitKTuning } from './tiled-gemm';
