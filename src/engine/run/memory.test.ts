import { describe, expect, it } from 'vitest';
import { loadTf } from '../../node/webgpu-node';
import type { Tf } from './api';
import { memorySnapshot } from './memory';

const fakeTf = (info: object) => ({ memory: () => info }) as unknown as Tf;

describe('memorySnapshot', () => {
  it('reads the webgpu and the webgl names of the GPU counters', () => {
    expect(memorySnapshot(fakeTf({ numTensors: 3, numBytes: 40, numBytesInGPU: 64, numBytesAllocatedInGPU: 128 }))).toEqual({
      numBytes: 40,
      gpuBytesInUse: 64,
      gpuBytesAllocated: 128,
    });
    expect(memorySnapshot(fakeTf({ numTensors: 3, numBytes: 40, numBytesInGPU: 64, numBytesInGPUAllocated: 96, numBytesInGPUFree: 32 }))).toEqual({
      numBytes: 40,
      gpuBytesInUse: 64,
      gpuBytesAllocated: 96,
    });
  });

  it('on the CPU backend: the bytes of the live tensors, no GPU counters', async () => {
    const { tf } = await loadTf('cpu');
    const before = memorySnapshot(tf);
    const t = tf.zeros([10, 10]);
    const during = memorySnapshot(tf);
    t.dispose();
    expect(during.numBytes - before.numBytes).toBe(400);
    expect(during.gpuBytesInUse).toBeNull();
    expect(during.gpuBytesAllocated).toBeNull();
    expect(memorySnapshot(tf).numBytes).toBe(before.numBytes);
  });
});
