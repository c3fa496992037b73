import type * as tfType from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTf } from '../node/webgpu-node';
import type { EngineEvent } from './events';
import { createRun } from './run/run';
import { syntheticDataset } from './testing/synthetic';

let tf: typeof tfType;
beforeAll(async () => {
  tf = (await loadTf('webgpu')).tf;
}, 120_000);

/** What tfjs and its WebGPU backend hold: tensors, their bytes, GPU bytes in use and in the buffer pool, buffer counts. */
interface MemorySample {
  numTensors: number;
  numBytes: number;
  gpuBytesUsed: number;
  gpuBytesAllocated: number;
  gpuBuffers: number;
}

interface WebGPUBackendView {
  bufferManager: { getNumUsedBuffers(): number; getNumFreeBuffers(): number };
}

function sample(): MemorySample {
  const m = tf.memory() as tfType.MemoryInfo & { numBytesInGPU: number; numBytesAllocatedInGPU: number };
  const buffers = (tf.backend() as unknown as WebGPUBackendView).bufferManager;
  return {
    numTensors: m.numTensors,
    numBytes: m.numBytes,
    gpuBytesUsed: m.numBytesInGPU,
    gpuBytesAllocated: m.numBytesAllocatedInGPU,
    gpuBuffers: buffers.getNumUsedBuffers() + buffers.getNumFreeBuffers(),
  };
}

describe('a long run (WebGPU through Dawn)', () => {
  it('holds tensors and GPU buffers flat over 500 steps with projections, gradient norms and test evaluations', async () => {
    expect(tf.getBackend()).toBe('webgpu');
    const before = tf.memory().numTensors;
    const samples = new Map<number, MemorySample>();
    const epochs: EngineEvent[] = [];
    const errors: string[] = [];
    let projections = 0;
    const gradNorms: number[] = [];
    const t0 = performance.now();
    const run = createRun({
      tf,
      // 200 images in batches of 2: 100 steps an epoch, 5 epochs, a test evaluation after each.
      data: syntheticDataset(200, 50),
      // Gradient norms every 7 steps and around each projection: sampled and plain steps interleave irregularly.
      config: { model: 'vgg-tiny', epochs: 5, batchSize: 2, lr: 0.02, seed: 2, gradNormEvery: 7, lrpet: { prune: 0.5, interval: 5 } },
      onEvent: (e) => {
        // Step events come between two steps, after the step's tensors are freed.
        if (e.type === 'step') samples.set(e.iteration, sample());
        if (e.type === 'epoch') epochs.push(e);
        if (e.type === 'projection') projections++;
        if (e.type === 'gradNorms') gradNorms.push(e.iteration);
        if (e.type === 'error') errors.push(e.message);
      },
    });
    await run.start();
    const seconds = (performance.now() - t0) / 1000;
    // Measured here (2 shared cores, lavapipe): about 55 s. From step 200 on, 300 steps with 60 projections, 3 evaluations
    // and the gradient-norm pattern (period 35) repeated 8 times: a tensor or a buffer added per step, per projection,
    // per evaluation or per recorded step shows hundreds of times over.
    console.log(`500 steps, ${projections} projections, ${epochs.length} evaluations: ${seconds.toFixed(1)} s`);
    expect(samples.size).toBe(500);
    expect(epochs).toHaveLength(5);
    expect(projections).toBe(100);
    // Every 7th step, the step before each projection (multiples of 5) and the one after it.
    const recorded = Array.from({ length: 500 }, (_, i) => i + 1).filter((it) => it % 7 === 0 || it % 5 === 0 || (it > 1 && it % 5 === 1));
    expect(gradNorms).toEqual(recorded);
    const at200 = samples.get(200)!;
    const distinct = (k: keyof MemorySample) => [...new Set([...samples].filter(([i]) => i >= 200).map(([, s]) => s[k]))];
    expect(errors).toEqual([]);
    // From step 200 on, every sample is the same: no tensor, byte or pooled GPU buffer is added per step.
    for (const key of Object.keys(at200) as (keyof MemorySample)[]) expect([key, distinct(key)]).toEqual([key, [at200[key]]]);
    run.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 400_000);
});
