/**
 * The fused split convolution (webgpu-kernels/fused-split-conv.ts) and the engine's compact forward
 * with it (engine/deploy/forward.ts), in Node on Dawn (software WebGPU here). Fails — never skips —
 * without WebGPU.
 *  - the kernel over a sweep of shapes (stride 1 and 2, k 1 and 3, r from 1 to n, channel counts that are
 *    not multiples of 4, with and without ReLU) against a float64 reference, within 1e-5 of max|ref|;
 *  - ResNet-56 (p = 0.57) and VGG-16 (rank floors) compact models: fused logits = the unfused ops' within
 *    max|Δ| / max|logit| ≤ 1e-5, and the unfused deploy model = the engine's compact model with its BN;
 *  - one dispatch per split layer, counted with tfjs's profiler (and the programs the backend ran);
 *  - no tensor left behind.
 */
import type * as tfType from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { deployRunner, FUSED_SPLIT_CONV } from '../engine/deploy/forward';
import { splitPairs } from '../engine/deploy/model';
import { readGraphModel } from '../engine/deploy/read-graph-model';
import { exportGraphModel } from '../engine/export/graph-model';
import { forward } from '../engine/models/forward';
import { Rng } from '../engine/rng';
import { randomCompactModel } from '../engine/testing/compact-fixture';
import { maxRelDiff } from '../engine/testing/compare';
import { fusedReference } from '../webgpu-kernels/fused-reference';
import { loadTf } from './webgpu-node';

let tf: typeof tfType;

beforeAll(async () => {
  tf = (await loadTf('webgpu')).tf; // throws when WebGPU is missing
  expect(tf.getBackend()).toBe('webgpu');
});

describe('fused split convolution kernel', () => {
  it('matches a float64 reference over a sweep of shapes (stride 1 and 2, r from 1 to n, channels not multiples of 4)', async () => {
    const rng = new Rng(3);
    const rand = (len: number) => Float32Array.from({ length: len }, () => rng.normal());
    const cases: { c: number; o: number; k: number; stride: number; h: number; relu: boolean }[] = [
      { c: 3, o: 7, k: 3, stride: 1, h: 9, relu: true },
      { c: 5, o: 6, k: 3, stride: 2, h: 8, relu: false },
      { c: 8, o: 12, k: 3, stride: 2, h: 7, relu: true },
      { c: 6, o: 5, k: 1, stride: 1, h: 5, relu: false },
      { c: 2, o: 20, k: 3, stride: 1, h: 6, relu: true },
    ];
    let checks = 0;
    for (const s of cases) {
      const n = Math.min(s.o, s.c * s.k * s.k);
      for (let r = 1; r <= n; r++) {
        const shape = [2, s.h, s.h, s.c];
        const pad = (s.k - 1) / 2;
        const [xv, bv, mv, biasv] = [rand(2 * s.h * s.h * s.c), rand(s.k * s.k * s.c * r), rand(r * s.o), rand(s.o)];
        const y = tf.tidy(() =>
          tf.engine().runKernel(
            FUSED_SPLIT_CONV,
            { x: tf.tensor4d(xv, shape as [number, number, number, number]), basis: tf.tensor4d(bv, [s.k, s.k, s.c, r]), mix: tf.tensor2d(mv, [r, s.o]), bias: tf.tensor1d(biasv) } as never,
            { stride: s.stride, pad, relu: s.relu } as never,
          ) as tfType.Tensor,
        );
        const ref = fusedReference(xv, shape, bv, s.k, r, mv, biasv, s.stride, pad, s.relu);
        const got = (await y.data()) as Float32Array;
        const oh = Math.floor((s.h + 2 * pad - s.k) / s.stride) + 1;
        expect(y.shape).toEqual([2, oh, oh, s.o]);
        y.dispose();
        expect(maxRelDiff(got, ref), `c ${s.c} o ${s.o} k ${s.k} stride ${s.stride} r ${r}`).toBeLessThanOrEqual(1e-5);
        checks++;
      }
    }
    expect(checks).toBeGreaterThan(40);
  });
});

describe.each([
  ['resnet56', {}],
  ['vgg16', { prune: 0.99, rankFloors: true }],
] as const)('engine compact forward of %s', (model, opts) => {
  it('fused = unfused within 1e-5 of max|logit|, one dispatch per split layer, no tensor left', async () => {
    const compact = randomCompactModel(tf, model, opts);
    const deploy = readGraphModel(await exportGraphModel(compact.graph, compact.params));
    const pairs = splitPairs(deploy.graph);
    expect(pairs.length).toBe(compact.layers.filter((l) => l.split).length);
    const before = tf.memory().numTensors;
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 5) as tfType.Tensor4D;
    const runner = deployRunner(tf, deploy);
    const ops = tf.tidy(() => runner.predict(x, 'ops'));
    const fused = tf.tidy(() => runner.predict(x, 'fused'));
    const withBn = tf.tidy(() => forward(tf, compact.graph, compact.params, x, false));
    const [o, f, b] = (await Promise.all([ops.data(), fused.data(), withBn.data()])) as Float32Array[];
    const fusedVsOps = maxRelDiff(f, o);
    const foldedVsBn = maxRelDiff(o, b);
    console.log(`${model}: ${pairs.length} split layers; fused vs unfused ${fusedVsOps.toExponential(2)}, BN folded vs the engine's compact model ${foldedVsBn.toExponential(2)}`);
    expect(fusedVsOps).toBeLessThanOrEqual(1e-5);
    expect(foldedVsBn).toBeLessThanOrEqual(1e-5);
    tf.dispose([ops, fused, withBn]);

    // One dispatch per split layer: the profiler's kernels, and the GPU programs the backend ran.
    const backend = tf.backend() as unknown as { runWebGPUProgram: (p: { shaderKey: string }, ...rest: unknown[]) => unknown };
    const original = backend.runWebGPUProgram;
    const programs: string[] = [];
    backend.runWebGPUProgram = function (p, ...rest) {
      programs.push(p.shaderKey);
      return original.call(this, p, ...rest);
    };
    let info: Awaited<ReturnType<typeof tf.profile>>;
    try {
      info = await tf.profile(() => tf.tidy(() => runner.predict(x, 'fused')));
    } finally {
      backend.runWebGPUProgram = original;
    }
    const names = info.kernels.map((k) => k.name);
    expect(names.filter((n) => n === FUSED_SPLIT_CONV).length).toBe(pairs.length);
    expect(programs.filter((k) => k.startsWith('lrpetFusedSplitConv')).length).toBe(pairs.length);
    expect(names.filter((n) => n === 'Conv2D').length).toBe(deploy.graph.nodes.filter((n) => n.op === 'conv').length - 2 * pairs.length);
    tf.dispose(info.result as tfType.Tensor);
    x.dispose();
    runner.dispose();
    expect(tf.memory().numTensors).toBe(before);
    compact.dispose();
  });
});
