import type * as tfType from '@tensorflow/tfjs';
import type { GradNormReason } from '../events';
import type { ModelParams } from '../models/params';
import { basisName } from '../models/split';
import type { Tf } from '../run/api';

/** Per layer: ‖∇W‖ and ‖∇W‖/‖W‖. */
export interface GradNorms {
  grad: number[];
  ratio: number[];
}

/**
 * Why the step with this (1-based) iteration records its gradient norms, or [] when it does not:
 * every `every` steps (0: never), and — while recording is on — the step a projection follows and the
 * first step after one.
 */
export function gradNormReasons(every: number, iteration: number, beforeProjection: boolean, afterProjection: boolean): GradNormReason[] {
  if (every <= 0) return [];
  const reasons: GradNormReason[] = [];
  if (iteration % every === 0) reasons.push('sample');
  if (beforeProjection) reasons.push('beforeProjection');
  if (afterProjection) reasons.push('afterProjection');
  return reasons;
}

/**
 * The kernels of each named layer, in order: its own, or both halves of a layer trained split (the
 * compact baselines: the basis half and the half that kept the name). A layer the model lacks has none.
 */
export function layerKernels(params: ModelParams, names: readonly string[]): tfType.Variable[][] {
  return names.map((name) => [params.weights.get(basisName(name))?.kernel, params.weights.get(name)?.kernel].filter((k) => k !== undefined));
}

/**
 * Σ‖∇W‖² and Σ‖W‖² of each layer's kernels, interleaved in one tensor [2·layers], so the norms come back
 * in one read. `grads`: variable name → gradient, as tf.variableGrads returns them.
 */
export function sumsOfSquares(tf: Tf, grads: Record<string, tfType.Tensor>, layers: tfType.Variable[][]): tfType.Tensor1D {
  return tf.tidy(() => {
    const sq = (x: tfType.Tensor) => tf.sum(tf.square(x));
    const total = (xs: tfType.Tensor[]) => (xs.length ? tf.addN(xs.map(sq)) : tf.scalar(NaN));
    return tf.stack(layers.flatMap((ks) => [total(ks.map((k) => grads[k.name])), total(ks)])) as tfType.Tensor1D;
  });
}

/** Five significant digits: float32 sums hold little more, and the events stay small. */
const round5 = (x: number) => Number(x.toPrecision(5));

/** The norms from sumsOfSquares's values. */
export function normsFromSums(sums: ArrayLike<number>): GradNorms {
  const grad: number[] = [];
  const ratio: number[] = [];
  for (let i = 0; i + 1 < sums.length; i += 2) {
    const g = Math.sqrt(sums[i]);
    grad.push(round5(g));
    ratio.push(round5(g / Math.sqrt(sums[i + 1])));
  }
  return { grad, ratio };
}
