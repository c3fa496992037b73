/**
 * This project's kernel for tfjs's 'cpu' backend, registered in place of the stock one like the WebGPU ones
 * (src/webgpu-kernels): 'Conv2DBackpropFilter' over flat arrays (conv2d-backprop-filter.ts), falling back to
 * tfjs's for what it does not cover (NCHW, non-float32). 'stock' restores tfjs's own.
 */
import { getKernel, registerKernel, unregisterKernel, type KernelConfig, type KernelFunc } from '@tensorflow/tfjs';
import { conv2dBackpropFilterCpu } from './conv2d-backprop-filter';

const NAME = 'Conv2DBackpropFilter';
const BACKEND = 'cpu';
let stock: KernelConfig | null = null;
const calls = { fast: 0, fallback: 0 };

/** How often ours ran and how often it left the call to tfjs's kernel, since the start. */
export const cpuKernelCalls = (): Readonly<typeof calls> => ({ ...calls });

export function useCpuKernels(mode: 'fast' | 'stock'): void {
  stock ??= getKernel(NAME, BACKEND) ?? null;
  if (!stock) throw new Error(`useCpuKernels: no stock '${NAME}' kernel is registered for the 'cpu' backend (import @tensorflow/tfjs first)`);
  const stockFunc = stock.kernelFunc;
  const fast: KernelFunc = (args) => {
    const out = conv2dBackpropFilterCpu(args);
    calls[out ? 'fast' : 'fallback']++;
    return out ?? stockFunc(args);
  };
  const kernelFunc = mode === 'fast' ? fast : stockFunc;
  unregisterKernel(NAME, BACKEND);
  registerKernel({ ...stock, kernelFunc });
}
