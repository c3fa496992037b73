import type * as tfType from '@tensorflow/tfjs';
import { fillBatch } from '../data/batcher';
import type { CifarSplit } from '../data/cifar';
import { forward, type BatchStats } from '../models/forward';
import type { Rng } from '../rng';
import type { Tf } from '../run/api';
import { normsFromSums, sumsOfSquares, type GradNorms } from './grad-norms';
import type { TrainedModel } from './trained-model';

/** A loss above max(EXPLODING_FLOOR, EXPLODING_FACTOR × the first step's loss) counts as diverging. */
const EXPLODING_FLOOR = 20;
const EXPLODING_FACTOR = 10;

export interface Divergence {
  code: 'nan' | 'exploding';
  message: string;
}

/**
 * The error to report when a step's loss says training diverges (NaN/inf, or far above the first
 * step's), else null. `iteration`: the step's 1-based number.
 */
function divergence(loss: number, lr: number, firstLoss: number | null, iteration: number): Divergence | null {
  if (!Number.isFinite(loss)) {
    return {
      code: 'nan',
      message: `the loss became ${loss} at iteration ${iteration} (learning rate ${lr}); training paused before applying that step. Lower the learning rate, then resume.`,
    };
  }
  if (firstLoss === null) return null;
  const limit = Math.max(EXPLODING_FLOOR, EXPLODING_FACTOR * firstLoss);
  if (loss <= limit) return null;
  return {
    code: 'exploding',
    message:
      `the loss jumped to ${loss.toPrecision(4)} at iteration ${iteration}, above ${limit.toPrecision(3)} (the larger of ${EXPLODING_FLOOR} and ${EXPLODING_FACTOR}× the first step's ` +
      `${firstLoss.toPrecision(4)}): training is diverging at learning rate ${lr}, so it paused before applying that step. ` +
      `Lower the learning rate, e.g. to a tenth (${lr / 10}), then resume.`,
  };
}

export interface StepBatch {
  split: CifarSplit;
  /** Indices into the split of this step's images. */
  indices: Uint32Array;
  /** Room for at least indices.length images (reused from step to step). */
  buffer: Float32Array;
  /** Random crops and flips from this generator; null: none. */
  augment: Rng | null;
}

export interface StepSettings {
  lr: number;
  momentum: number;
  weightDecay: number;
  firstLoss: number | null;
  /** The step's 1-based iteration (for messages). */
  iteration: number;
  /** The kernels of each layer whose gradient norms this step measures (grad-norms.ts); null: none (nothing extra is computed). */
  gradNorms?: tfType.Variable[][] | null;
}

export type StepResult = { applied: true; loss: number; hits: number; gradNorms: GradNorms | null } | { applied: false; divergence: Divergence };

/**
 * One SGD step: forward and backward pass, then — unless the loss says training diverges — the BN
 * moving statistics and the weights are updated. A diverging step changes nothing.
 */
export async function trainStep(tf: Tf, model: TrainedModel, batch: StepBatch, s: StepSettings): Promise<StepResult> {
  const { split, indices, buffer } = batch;
  const n = indices.length;
  fillBatch(split, indices, buffer, batch.augment);
  const labelsArr = new Int32Array(n);
  for (let i = 0; i < n; i++) labelsArr[i] = split.labels[indices[i]];
  const stats = new Map<string, BatchStats>();
  let hits: tfType.Tensor | null = null;
  const { value, grads } = tf.tidy(() => {
    const x = tf.tensor4d(buffer.subarray(0, n * 3072), [n, 32, 32, 3]);
    const labels = tf.tensor1d(labelsArr, 'int32');
    return tf.variableGrads(() => {
      const logits = forward(tf, model.graph, model.params, x, true, stats);
      for (const st of stats.values()) {
        tf.keep(st.mean);
        tf.keep(st.variance);
      }
      hits = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32')));
      return tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 10), logits) as tfType.Scalar;
    }, model.sgd.variables);
  });
  let sums: tfType.Tensor | null = null;
  try {
    // Only on the steps that measure them: per-layer sums of squares on the device, read together with the loss.
    if (s.gradNorms) sums = sumsOfSquares(tf, grads, s.gradNorms);
    const [lossV, hitsV, sumsV] = await Promise.all([value.data(), hits!.data(), sums?.data()]);
    const loss = lossV[0];
    const diverged = divergence(loss, s.lr, s.firstLoss, s.iteration);
    if (diverged) return { applied: false, divergence: diverged };
    updateBnStatistics(tf, model, stats);
    model.sgd.apply(grads, s.lr, s.momentum, s.weightDecay);
    return { applied: true, loss, hits: hitsV[0], gradNorms: sumsV ? normsFromSums(sumsV) : null };
  } finally {
    value.dispose();
    sums?.dispose();
    (hits as tfType.Tensor | null)?.dispose();
    tf.dispose(Object.values(grads));
    for (const st of stats.values()) tf.dispose([st.mean, st.variance]);
  }
}

/** Moving mean and (unbiased) variance of every BN, from this batch's statistics. */
function updateBnStatistics(tf: Tf, model: TrainedModel, stats: Map<string, BatchStats>): void {
  tf.tidy(() => {
    for (const [name, s] of stats) {
      const bn = model.params.bn.get(name)!;
      const m = model.bnNodes.get(name)!.momentum;
      bn.movingMean.assign(tf.add(tf.mul(bn.movingMean, 1 - m), tf.mul(s.mean, m)));
      const unbiased = tf.mul(s.variance, s.count / Math.max(1, s.count - 1));
      bn.movingVariance.assign(tf.add(tf.mul(bn.movingVariance, 1 - m), tf.mul(unbiased, m)));
    }
  });
}
