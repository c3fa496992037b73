import type * as tfType from '@tensorflow/tfjs';
import { Rng } from '../rng';
import { hasBias, type ModelGraph, type WeightNode } from './graph';

type Tf = typeof tfType;

export interface WeightParams {
  /** Conv: HWIO [k, k, I, O]; dense: [in, out]. */
  kernel: tfType.Variable;
  bias: tfType.Variable | null;
}
export interface BatchNormParams {
  gamma: tfType.Variable;
  beta: tfType.Variable;
  movingMean: tfType.Variable;
  movingVariance: tfType.Variable;
}
export interface ModelParams {
  weights: Map<string, WeightParams>;
  bn: Map<string, BatchNormParams>;
}

/** Makes a variable from a fresh tensor and drops the tensor, so no handle is left behind. */
export function toVariable(tf: Tf, value: tfType.Tensor, trainable = true): tfType.Variable {
  const v = tf.variable(value, trainable);
  value.dispose();
  return v;
}

/** Conv: HWIO [k, k, I, O]; dense: [in, out]. */
export function kernelShape(node: WeightNode): number[] {
  return node.op === 'conv' ? [node.kernel, node.kernel, node.inChannels, node.outChannels] : [node.inFeatures, node.outFeatures];
}

/** Standard deviation of the normal a weight is drawn from, and the bound of a uniform bias (0: zero biases). */
function initScale(graph: ModelGraph, node: WeightNode): { std: number; biasBound: number } {
  const fanIn = node.op === 'conv' ? node.inChannels * node.kernel * node.kernel : node.inFeatures;
  if (graph.init === 'vgg') {
    // The official VGG: conv weights N(0, √(2/n)) with n = k·k·out_channels (fan-out), the classifier N(0, 0.01), all biases 0.
    const std = node.op === 'conv' ? Math.sqrt(2 / (node.kernel * node.kernel * node.outChannels)) : 0.01;
    return { std, biasBound: 0 };
  }
  // The official ResNet: kaiming_normal_ (fan-in, gain √2) on conv and linear weights; the linear bias keeps
  // PyTorch's default, uniform(±1/√fan_in). Its convs have no bias (a split layer's halves, if any, start at 0).
  return { std: Math.sqrt(2 / fanIn), biasBound: node.op === 'dense' ? 1 / Math.sqrt(fanIn) : 0 };
}

/**
 * The official code's initialisation for the graph's family (initScale), BN γ=1 β=0, running mean 0 and
 * variance 1; drawn from a seeded RNG in node order, so the same on every backend.
 */
export function initParams(tf: Tf, graph: ModelGraph, seed: number): ModelParams {
  const rng = new Rng(seed);
  const weights = new Map<string, WeightParams>();
  const bn = new Map<string, BatchNormParams>();
  for (const node of graph.nodes) {
    if (node.op === 'conv' || node.op === 'dense') {
      const shape = kernelShape(node);
      const size = shape.reduce((a, b) => a * b, 1);
      const { std, biasBound } = initScale(graph, node);
      const values = new Float32Array(size);
      for (let i = 0; i < size; i++) values[i] = rng.normal() * std;
      const out = node.op === 'conv' ? node.outChannels : node.outFeatures;
      const bias = hasBias(node) ? Float32Array.from({ length: out }, () => (biasBound > 0 ? (2 * rng.next() - 1) * biasBound : 0)) : null;
      weights.set(node.name, {
        kernel: toVariable(tf, tf.tensor(values, shape), true),
        bias: bias ? toVariable(tf, tf.tensor1d(bias), true) : null,
      });
    } else if (node.op === 'bn') {
      const c = node.channels;
      bn.set(node.name, {
        gamma: toVariable(tf, tf.ones([c]), true),
        beta: toVariable(tf, tf.zeros([c]), true),
        movingMean: toVariable(tf, tf.zeros([c]), false),
        movingVariance: toVariable(tf, tf.ones([c]), false),
      });
    }
  }
  return { weights, bn };
}

export function trainableVariables(params: ModelParams): tfType.Variable[] {
  const vars: tfType.Variable[] = [];
  for (const w of params.weights.values()) {
    vars.push(w.kernel);
    if (w.bias) vars.push(w.bias);
  }
  for (const b of params.bn.values()) vars.push(b.gamma, b.beta);
  return vars;
}

function allVariables(params: ModelParams): tfType.Variable[] {
  const vars = trainableVariables(params);
  for (const b of params.bn.values()) vars.push(b.movingMean, b.movingVariance);
  return vars;
}

export function disposeParams(params: ModelParams): void {
  for (const v of allVariables(params)) v.dispose();
  params.weights.clear();
  params.bn.clear();
}
