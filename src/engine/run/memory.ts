import type { MemorySnapshot } from '../events';
import type { Tf } from './api';

/** What tf.memory() adds on the GPU backends (webgpu: in use / allocated; webgl names the pool's bytes differently). */
interface GpuMemoryInfo {
  numBytesInGPU?: number;
  numBytesAllocatedInGPU?: number;
  numBytesInGPUAllocated?: number;
}

/** The counters the step and epoch events carry (reading them queues no GPU work). */
export function memorySnapshot(tf: Tf): MemorySnapshot {
  const m = tf.memory() as ReturnType<Tf['memory']> & GpuMemoryInfo;
  return {
    numBytes: m.numBytes,
    gpuBytesInUse: m.numBytesInGPU ?? null,
    gpuBytesAllocated: m.numBytesAllocatedInGPU ?? m.numBytesInGPUAllocated ?? null,
  };
}
