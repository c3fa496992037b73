import type * as tfType from '@tensorflow/tfjs';
import type { BatchNormNode, ModelGraph } from '../models/graph';
import { disposeParams, trainableVariables, type ModelParams } from '../models/params';
import type { CompactLayer } from '../models/split';
import type { Tf } from '../run/api';
import type { SettingValue } from '../settings';
import { SgdMomentum } from './sgd';

/** Which parameters weight decay applies to: every trainable one (the official code), or the conv and dense kernels only. */
export type WeightDecayScope = SettingValue<'weightDecayScope'>;

/** The model a run is training: its graph, variables and optimiser state. */
export interface TrainedModel {
  graph: ModelGraph;
  params: ModelParams;
  sgd: SgdMomentum;
  /** BN nodes by name (momentum and ε are looked up every step and every projection). */
  bnNodes: Map<string, BatchNormNode>;
  /** The split structure when this is a compact model (post-hoc after its switch, or from scratch); null for the dense model. */
  compactLayers: CompactLayer[] | null;
}

/**
 * Takes ownership of `params` and gives them a fresh optimiser. Weight decay: scope 'all' decays every
 * trainable variable — kernels, biases, BN γ and β — as the official `optim.SGD(model.parameters(), …,
 * weight_decay=1e-4)` does; 'kernels' only the conv and dense kernels.
 */
export function createTrainedModel(tf: Tf, graph: ModelGraph, params: ModelParams, compactLayers: CompactLayer[] | null, decay: WeightDecayScope): TrainedModel {
  const variables = trainableVariables(params);
  const decayed = new Set(decay === 'all' ? variables : [...params.weights.values()].map((w) => w.kernel));
  const sgd = new SgdMomentum(tf, variables, decayed);
  const bnNodes = new Map(graph.nodes.filter((n): n is BatchNormNode => n.op === 'bn').map((n) => [n.name, n]));
  return { graph, params, sgd, bnNodes, compactLayers };
}

export function disposeTrainedModel(model: TrainedModel): void {
  disposeParams(model.params);
  model.sgd.dispose();
}

/** Variables in a fixed order, each with a stable key, for checkpoints: weights, BN parameters and statistics, momentum buffers. */
export function checkpointVariables(model: TrainedModel): [string, tfType.Variable][] {
  const out: [string, tfType.Variable][] = [];
  const p = model.params;
  for (const [name, w] of p.weights) {
    out.push([`${name}/kernel`, w.kernel]);
    if (w.bias) out.push([`${name}/bias`, w.bias]);
  }
  for (const [name, b] of p.bn) {
    out.push([`${name}/gamma`, b.gamma], [`${name}/beta`, b.beta], [`${name}/moving_mean`, b.movingMean], [`${name}/moving_variance`, b.movingVariance]);
  }
  for (const [key, v] of [...out]) {
    const buf = model.sgd.velocity.get(v);
    if (buf) out.push([`${key}/momentum`, buf]);
  }
  return out;
}
