import type * as tfType from '@tensorflow/tfjs';
import { EpochOrder, fillBatch } from '../data/batcher';
import type { CifarSplit } from '../data/cifar';
import { forward, type BatchStats } from '../models/forward';
import { deriveSeed, Rng } from '../rng';
import type { Tf } from '../run/api';
import type { TrainedModel } from './trained-model';

export interface BnRecalibration {
  /** Training batches to average over. */
  batches: number;
  batchSize: number;
  /** Random crops and flips as in training. */
  augment: boolean;
  /** Draws the batches and the augmentation (streams of their own: the training RNGs are not touched). */
  seed: number;
}

/** `batches` batches of image indices: consecutive slices of a seeded order, reshuffled whenever it is used up. */
export function recalibrationBatches(count: number, batches: number, batchSize: number, seed: number): Uint32Array[] {
  if (!(Number.isInteger(batches) && batches >= 1)) throw new Error(`BN recalibration needs a whole number of batches ≥ 1, got ${batches}`);
  const order = new EpochOrder(count, new Rng(deriveSeed(seed, 'order')));
  const out: Uint32Array[] = [];
  let at = 0;
  for (let b = 0; b < batches; b++) {
    if (at >= count) {
      order.reshuffle();
      at = 0;
    }
    out.push(order.order.slice(at, Math.min(at + batchSize, count)));
    at += out[b].length;
  }
  return out;
}

/**
 * Recomputes every BN's running statistics for the model's current weights: a forward pass in
 * training mode over the given batches, each BN's running mean and variance set to the plain average
 * of the batches' means and unbiased variances. That is PyTorch's cumulative moving average
 * (BatchNorm momentum=None after reset_running_stats()): the old statistics, gathered while the weights
 * still moved and were projected, play no part. Nothing else changes (no gradients, no weight update).
 */
export async function recalibrateBatchNorm(tf: Tf, model: TrainedModel, split: CifarSplit, batches: readonly ArrayLike<number>[], augment: Rng | null): Promise<void> {
  if (!batches.length) throw new Error('BN recalibration needs at least one batch');
  const buffer = new Float32Array(Math.max(...batches.map((b) => b.length)) * 3072);
  const sums = new Map<string, { mean: tfType.Tensor; variance: tfType.Tensor }>();
  try {
    for (const indices of batches) {
      const n = indices.length;
      fillBatch(split, indices, buffer, augment);
      tf.tidy(() => {
        const stats = new Map<string, BatchStats>();
        forward(tf, model.graph, model.params, tf.tensor4d(buffer.subarray(0, n * 3072), [n, 32, 32, 3]), true, stats);
        for (const [name, s] of stats) {
          const unbiased = tf.mul(s.variance, s.count / Math.max(1, s.count - 1));
          const prev = sums.get(name);
          const next = { mean: prev ? tf.add(prev.mean, s.mean) : s.mean, variance: prev ? tf.add(prev.variance, unbiased) : unbiased };
          if (prev) tf.dispose([prev.mean, prev.variance]);
          sums.set(name, { mean: tf.keep(next.mean), variance: tf.keep(next.variance) });
        }
      });
      // One batch at a time on the device, as training steps go (the read waits for it).
      await sums.values().next().value?.mean.data();
    }
    tf.tidy(() => {
      for (const [name, s] of sums) {
        const bn = model.params.bn.get(name)!;
        bn.movingMean.assign(tf.div(s.mean, batches.length));
        bn.movingVariance.assign(tf.div(s.variance, batches.length));
      }
    });
  } finally {
    for (const s of sums.values()) tf.dispose([s.mean, s.variance]);
  }
}

/** The recalibration a run asks for: its batches drawn from the training split with their own seed. */
export function recalibrateForRun(tf: Tf, model: TrainedModel, split: CifarSplit, o: BnRecalibration): Promise<void> {
  const batches = recalibrationBatches(split.count, o.batches, o.batchSize, o.seed);
  return recalibrateBatchNorm(tf, model, split, batches, o.augment ? new Rng(deriveSeed(o.seed, 'augment')) : null);
}
