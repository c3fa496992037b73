import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { fillBatch } from '../data/batcher';
import { buildModel } from '../models/builders';
import type { ConvNode } from '../models/graph';
import { initParams } from '../models/params';
import { syntheticDataset } from '../testing/synthetic';
import { recalibrateBatchNorm, recalibrationBatches } from './bn-recalibration';
import { createTrainedModel, disposeTrainedModel, type TrainedModel } from './trained-model';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const data = syntheticDataset(12, 2, 11).train;

function model(): TrainedModel {
  const graph = buildModel('vgg-tiny');
  const m = createTrainedModel(tf, graph, initParams(tf, graph, 4), null, 'all');
  // Running statistics far from anything a batch gives, so a recalibration that kept any of them shows.
  for (const bn of m.params.bn.values()) {
    tf.tidy(() => {
      bn.movingMean.assign(tf.fill(bn.movingMean.shape, 7));
      bn.movingVariance.assign(tf.fill(bn.movingVariance.shape, 50));
    });
  }
  return m;
}

const stats = (m: TrainedModel) => new Map([...m.params.bn].map(([name, b]) => [name, { mean: Array.from(b.movingMean.dataSync()), variance: Array.from(b.movingVariance.dataSync()) }]));

/** conv1 + bias of vgg-tiny in float64 on the CPU (NHWC, 3×3, pad 1): the input of bn1, computed independently of tfjs. */
function conv1Reference(m: TrainedModel, images: Float32Array, n: number): Float64Array[] {
  const node = m.graph.nodes.find((x) => x.name === 'conv1') as ConvNode;
  const w = m.params.weights.get('conv1')!;
  const k = w.kernel.dataSync(); // [3, 3, I, O]
  const b = w.bias!.dataSync();
  const { inChannels: I, outChannels: O } = node;
  const perChannel = Array.from({ length: O }, () => new Float64Array(n * 32 * 32));
  for (let img = 0; img < n; img++) {
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        for (let o = 0; o < O; o++) {
          let s = b[o];
          for (let dy = 0; dy < 3; dy++) {
            for (let dx = 0; dx < 3; dx++) {
              const yy = y + dy - 1;
              const xx = x + dx - 1;
              if (yy < 0 || yy >= 32 || xx < 0 || xx >= 32) continue;
              for (let i = 0; i < I; i++) s += images[((img * 32 + yy) * 32 + xx) * 3 + i] * k[((dy * 3 + dx) * I + i) * O + o];
            }
          }
          perChannel[o][(img * 32 + y) * 32 + x] = s;
        }
      }
    }
  }
  return perChannel;
}

describe('BN recalibration', () => {
  it('one batch: bn1 gets the batch mean and unbiased variance of its input (float64 reference), every BN changes', async () => {
    const m = model();
    const batch = Uint32Array.from([3, 8, 5]);
    const before = stats(m);
    await recalibrateBatchNorm(tf, m, data, [batch], null);
    const after = stats(m);
    for (const [name, s] of after) {
      expect(s.mean.some((v, i) => v !== before.get(name)!.mean[i]), name).toBe(true);
      expect(s.variance.every((v) => v > 0 && v < 50), name).toBe(true);
    }
    const images = new Float32Array(batch.length * 3072);
    fillBatch(data, batch, images, null);
    const ref = conv1Reference(m, images, batch.length);
    ref.forEach((values, o) => {
      const mean = values.reduce((a, v) => a + v, 0) / values.length;
      const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1);
      expect(after.get('bn1')!.mean[o]).toBeCloseTo(mean, 4);
      expect(Math.abs(after.get('bn1')!.variance[o] / variance - 1)).toBeLessThan(1e-4);
    });
    disposeTrainedModel(m);
  });

  it('several batches: the plain average of each batch\'s statistics (cumulative, not a momentum average), the old ones forgotten', async () => {
    const a = Uint32Array.from([0, 1, 2, 3]);
    const b = Uint32Array.from([4, 5, 6, 7]);
    const c = Uint32Array.from([8, 9]);
    const one = async (batches: Uint32Array[]) => {
      const m = model();
      await recalibrateBatchNorm(tf, m, data, batches, null);
      const s = stats(m);
      disposeTrainedModel(m);
      return s;
    };
    const [sa, sb, sc, sabc] = [await one([a]), await one([b]), await one([c]), await one([a, b, c])];
    for (const [name, s] of sabc) {
      s.mean.forEach((v, i) => expect(v, name).toBeCloseTo((sa.get(name)!.mean[i] + sb.get(name)!.mean[i] + sc.get(name)!.mean[i]) / 3, 5));
      s.variance.forEach((v, i) => expect(Math.abs(v / ((sa.get(name)!.variance[i] + sb.get(name)!.variance[i] + sc.get(name)!.variance[i]) / 3) - 1), name).toBeLessThan(1e-5));
    }
  });

  it('leaves the weights alone and leaks no tensors', async () => {
    const m = model();
    const weights = () => [...m.params.weights.values()].flatMap((w) => [Array.from(w.kernel.dataSync()), Array.from(w.bias?.dataSync() ?? [])]);
    const gammas = () => [...m.params.bn.values()].flatMap((b) => [Array.from(b.gamma.dataSync()), Array.from(b.beta.dataSync())]);
    const [w0, g0] = [weights(), gammas()];
    const count = tf.memory().numTensors;
    await recalibrateBatchNorm(tf, m, data, recalibrationBatches(data.count, 3, 5, 1), null);
    expect(tf.memory().numTensors).toBe(count);
    expect(weights()).toEqual(w0);
    expect(gammas()).toEqual(g0);
    disposeTrainedModel(m);
  });

  it('draws its batches from a seeded order of its own, reshuffled when used up', () => {
    const batches = recalibrationBatches(12, 4, 5, 9);
    expect(batches.map((b) => b.length)).toEqual([5, 5, 2, 5]);
    expect(new Set([...batches[0], ...batches[1], ...batches[2]]).size).toBe(12);
    expect(recalibrationBatches(12, 4, 5, 9)).toEqual(batches);
    expect(recalibrationBatches(12, 4, 5, 10)).not.toEqual(batches);
    expect(() => recalibrationBatches(12, 0, 5, 9)).toThrow(/batches ≥ 1/);
  });
});
