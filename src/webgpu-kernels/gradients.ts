/**
 * Leaner gradient functions for two ops that dominate the element-wise traffic of a batch-norm
 * training step. Same mathematics as tfjs-core's, fewer full-size passes over the activations:
 *
 *  - FusedBatchNorm (tf.batchNorm with per-channel mean/variance/scale/offset): tfjs computes
 *    ~11 full-size element-wise ops, one full-size tile and 4 reductions (each a transpose +
 *    reduce on webgpu). Here: x − mean, dy·(x − mean), dy·(scale·rsqrt(var + ε)) and two
 *    channel sums (Σdy, Σdy·(x − mean)); everything else is per-channel.
 *  - Mean (the mean and variance of tf.moments, global average pooling): tfjs materialises
 *    ones(x.shape), multiplies and divides (3 full-size ops); here one broadcast of dy / n.
 *
 * Registered with tf.registerGradient by useKernels (the gradient registry is global, so each
 * function hands over to tfjs's own gradient when the active backend is not webgpu or the case is
 * not the per-channel one).
 */
import * as tf from '@tensorflow/tfjs';
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs';

type GradFunc = GradConfig['gradFunc'];

/** How often our gradient ran vs handed over to tfjs's, per 'grad:<KernelName>'. */
export const gradientStats: Record<string, { fast: number; fallback: number }> = {
  'grad:FusedBatchNorm': { fast: 0, fallback: 0 },
  'grad:Mean': { fast: 0, fallback: 0 },
};

function fusedBatchNormGrad(stock: GradFunc): GradFunc {
  return (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [x, mean, variance, scale] = saved;
    const g = dy as Tensor;
    if (tf.getBackend() !== 'webgpu' || mean.rank !== 1 || variance.rank !== 1 || (scale != null && scale.rank !== 1) || x.rank < 2) {
      gradientStats['grad:FusedBatchNorm'].fallback++;
      return stock(dy, saved, attrs);
    }
    gradientStats['grad:FusedBatchNorm'].fast++;
    const eps = (attrs as unknown as { varianceEpsilon: number }).varianceEpsilon;
    const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
    const rs = tf.rsqrt(tf.add(variance, eps)); // [C]
    const rsScale = scale == null ? rs : tf.mul(rs, scale); // [C]
    const xmm = tf.sub(x, mean); // full
    const sumDy = tf.sum(g, axes); // [C]
    const sumDyXmm = tf.sum(tf.mul(g, xmm), axes); // full product, [C] sum
    return {
      x: () => tf.mul(g, rsScale),
      mean: () => tf.neg(tf.mul(rsScale, sumDy)),
      variance: () => tf.mul(tf.mul(tf.mul(tf.mul(rs, rs), rsScale), -0.5), sumDyXmm),
      scale: () => tf.mul(rs, sumDyXmm),
      offset: () => sumDy,
    };
  };
}

function meanGrad(stock: GradFunc): GradFunc {
  return (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [x] = saved;
    if (tf.getBackend() !== 'webgpu') {
      gradientStats['grad:Mean'].fallback++;
      return stock(dy, saved, attrs);
    }
    gradientStats['grad:Mean'].fast++;
    const axes = tf.util.parseAxisParam((attrs as unknown as { axis: number | number[] }).axis, x.shape);
    const reduceSize = axes.reduce((n, a) => n * x.shape[a], 1);
    const expanded = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    return {
      x: () => tf.broadcastTo(tf.mul(tf.reshape(dy as Tensor, expanded), 1 / reduceSize), x.shape),
    };
  };
}

export const FAST_GRADIENTS: Record<string, { kernelName: string; make: (stock: GradFunc) => GradFunc }> = {
  'grad:FusedBatchNorm': { kernelName: 'FusedBatchNorm', make: fusedBatchNormGrad },
  'grad:Mean': { kernelName: 'Mean', make: meanGrad },
};
