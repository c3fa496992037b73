import type * as tfType from '@tensorflow/tfjs';
import type { BatchNormNode, GraphNode, ModelGraph } from './graph';
import type { ModelParams } from './params';

type Tf = typeof tfType;

export interface BatchStats {
  mean: tfType.Tensor1D;
  variance: tfType.Tensor1D;
  /** Number of values each statistic was taken over (N·H·W), for the unbiased running variance. */
  count: number;
}

/** A layer's kernel and bias as tensors. */
export interface NodeWeights {
  kernel: tfType.Tensor;
  bias: tfType.Tensor | null;
}

/**
 * One node of a graph but BatchNorm (which depends on training or inference): a conv or dense layer with
 * its weights, ReLU, add, the ResNet A shortcut, pooling. The same for training, inference and the deploy
 * forward (deploy/forward.ts).
 */
export function plainNode(tf: Tf, node: Exclude<GraphNode, BatchNormNode>, get: (name: string) => tfType.Tensor, weights: (name: string) => NodeWeights): tfType.Tensor {
  switch (node.op) {
    case 'conv': {
      const w = weights(node.name);
      const out = tf.conv2d(get(node.input) as tfType.Tensor4D, w.kernel as tfType.Tensor4D, node.stride, node.pad === 0 ? 'valid' : node.pad);
      return w.bias ? tf.add(out, w.bias) : out;
    }
    case 'relu':
      return tf.relu(get(node.input));
    case 'add':
      return tf.add(get(node.inputs[0]), get(node.inputs[1]));
    case 'shortcutA': {
      const x = get(node.input) as tfType.Tensor4D;
      // A 1×1 pool with stride s is exactly x[:, ::s, ::s, :] and, unlike stridedSlice, has a gradient in tfjs.
      const sub = node.stride === 1 ? x : tf.avgPool(x, 1, node.stride, 'valid');
      const extra = node.outChannels - node.inChannels;
      const before = Math.floor(extra / 2);
      return extra > 0 ? tf.pad(sub, [[0, 0], [0, 0], [0, 0], [before, extra - before]]) : sub;
    }
    case 'maxpool':
      return tf.maxPool(get(node.input) as tfType.Tensor4D, node.size, node.size, 'valid');
    case 'gap':
      return tf.mean(get(node.input), [1, 2]);
    case 'dense': {
      const w = weights(node.name);
      const out = tf.matMul(get(node.input) as tfType.Tensor2D, w.kernel as tfType.Tensor2D);
      return w.bias ? tf.add(out, w.bias) : out;
    }
  }
}

/**
 * Runs the graph on an NHWC batch. In training mode BN normalises with the batch statistics and
 * returns them in `stats` (the caller keeps/disposes them and updates the moving averages);
 * in inference mode BN uses the moving averages. Call inside tf.tidy (or variableGrads).
 */
export function forward(
  tf: Tf,
  graph: ModelGraph,
  params: ModelParams,
  input: tfType.Tensor4D,
  training: boolean,
  stats?: Map<string, BatchStats>,
): tfType.Tensor2D {
  const values = new Map<string, tfType.Tensor>([['input', input]]);
  const get = (name: string) => {
    const t = values.get(name);
    if (!t) throw new Error(`graph ${graph.name}: node input '${name}' not computed yet`);
    return t;
  };
  for (const node of graph.nodes) {
    let out: tfType.Tensor;
    if (node.op === 'bn') {
      const p = params.bn.get(node.name)!;
      const x = get(node.input) as tfType.Tensor4D;
      if (training) {
        const { mean, variance } = tf.moments(x, [0, 1, 2]);
        stats?.set(node.name, { mean: mean as tfType.Tensor1D, variance: variance as tfType.Tensor1D, count: x.shape[0] * x.shape[1] * x.shape[2] });
        out = tf.batchNorm(x, mean, variance, p.beta, p.gamma, node.epsilon);
      } else {
        out = tf.batchNorm(x, p.movingMean, p.movingVariance, p.beta, p.gamma, node.epsilon);
      }
    } else {
      out = plainNode(tf, node, get, (name) => params.weights.get(name)!);
    }
    values.set(node.name, out);
  }
  return get(graph.output) as tfType.Tensor2D;
}
