import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useCpuKernels } from '../cpu-kernels';
import { useKernels, type KernelMode } from '../webgpu-kernels';
import { registerFusedSplitConv } from '../webgpu-kernels/fused-split-conv';

const LAVAPIPE_ICD = '/usr/share/vulkan/icd.d/lvp_icd.json';

export interface NodeWebGPUInfo {
  available: boolean;
  /** Why WebGPU is not available, when it is not. */
  reason?: string;
  adapter?: { vendor: string; architecture: string; device: string; description: string; software: boolean };
}

let installed: Promise<NodeWebGPUInfo> | null = null;

/**
 * Makes `navigator.gpu` exist in Node through Dawn's binding (npm `webgpu`), so that
 * tfjs's webgpu backend registers itself when it is imported *afterwards*.
 * On a machine without a GPU, Mesa's lavapipe (software Vulkan) is used when installed.
 */
export function installNodeWebGPU(): Promise<NodeWebGPUInfo> {
  installed ??= doInstall();
  return installed;
}

async function doInstall(): Promise<NodeWebGPUInfo> {
  if (!process.env.XDG_RUNTIME_DIR) {
    const dir = join(tmpdir(), `xdg-${process.getuid?.() ?? 0}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    process.env.XDG_RUNTIME_DIR = dir;
  }
  if (!process.env.VK_ICD_FILENAMES && !process.env.VK_DRIVER_FILES && !hasNvidia() && existsSync(LAVAPIPE_ICD)) {
    process.env.VK_ICD_FILENAMES = LAVAPIPE_ICD;
  }
  let mod: { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  try {
    const dawnPath = process.env.WEBGPU_DAWN_NODE;
    mod = dawnPath
      ? (createRequire(import.meta.url)(dawnPath) as typeof mod)
      : ((await import('webgpu')) as unknown as typeof mod);
  } catch (e) {
    return { available: false, reason: `Dawn's Node binding (npm 'webgpu') could not be loaded: ${String(e)}` };
  }
  Object.assign(globalThis, mod.globals);
  const gpu = mod.create(dawnFlags());
  const g = globalThis as unknown as { navigator?: { gpu?: GPU } };
  if (!g.navigator) {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  } else {
    Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  }
  const adapter = await gpu.requestAdapter();
  if (!adapter) {
    return {
      available: false,
      reason: 'no WebGPU adapter: no Vulkan driver found (install Mesa lavapipe from bookworm-backports, or run on a GPU)',
    };
  }
  const info = adapter.info;
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`.toLowerCase();
  return {
    available: true,
    adapter: {
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
      software: /llvmpipe|lavapipe|swiftshader|cpu/.test(text) || existsSync(LAVAPIPE_ICD) && process.env.VK_ICD_FILENAMES === LAVAPIPE_ICD,
    },
  };
}

/**
 * Dawn's options from $LRPET_DAWN_FLAGS, separated by spaces: e.g.
 * 'disable-dawn-features=timestamp_quantization' (exact GPU timestamps for profiling; Dawn rounds them
 * by default) or 'enable-dawn-features=allow_unsafe_apis'.
 */
export function dawnFlags(env: string | undefined = process.env.LRPET_DAWN_FLAGS): string[] {
  return (env ?? '').split(/\s+/).filter(Boolean);
}

function hasNvidia(): boolean {
  return existsSync('/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json') || existsSync('/usr/share/vulkan/icd.d/nvidia_icd.json');
}

type TfModule = typeof import('@tensorflow/tfjs');

/**
 * Loads tfjs on the requested backend. 'auto' = WebGPU when an adapter exists, else CPU.
 * Fails loudly when 'webgpu' is asked for and not available. `kernels` picks this project's faster
 * training kernels ('fast': src/webgpu-kernels on WebGPU, src/cpu-kernels on the CPU) or tfjs's own ('stock').
 */
export async function loadTf(
  backend: 'auto' | 'webgpu' | 'cpu' = 'auto',
  kernels: KernelMode = 'fast',
): Promise<{ tf: TfModule; backend: string; note: string }> {
  let note = '';
  if (backend !== 'cpu') {
    const info = await installNodeWebGPU();
    if (info.available) {
      const tf = await import('@tensorflow/tfjs');
      await import('@tensorflow/tfjs-backend-webgpu');
      if (await tf.setBackend('webgpu')) {
        await tf.ready();
        useKernels(kernels);
        registerFusedSplitConv();
        const a = info.adapter!;
        note = `WebGPU via Dawn: ${a.vendor || 'unknown vendor'} ${a.description || a.architecture}${a.software ? ' (software adapter, no real GPU: slow)' : ''}, ${kernels} kernels`;
        return { tf, backend: 'webgpu', note };
      }
      note = 'tfjs webgpu backend failed to initialise';
    } else {
      note = info.reason ?? 'WebGPU unavailable';
    }
    if (backend === 'webgpu') throw new Error(`WebGPU requested but not available: ${note}`);
  }
  const tf = await import('@tensorflow/tfjs');
  await tf.setBackend('cpu');
  await tf.ready();
  useCpuKernels(kernels);
  return { tf, backend: 'cpu', note: `CPU backend${note ? ` (${note})` : ''}, ${kernels} kernels` };
}
