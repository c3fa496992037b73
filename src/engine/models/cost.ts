import type { CostSummary } from '../events';
import { hasBias, weightNodes, type ModelGraph, type WeightNode } from './graph';

export interface Costs {
  macs: number;
  params: number;
}

/**
 * MACs and parameters of one conv or dense layer in the paper's convention: a conv costs
 * H_out·W_out·O·I·kh·kw MACs, a dense layer in·out; parameters are weights plus bias.
 */
export function weightNodeCosts(node: WeightNode): Costs {
  const weights = node.op === 'conv' ? node.kernel * node.kernel * node.inChannels * node.outChannels : node.inFeatures * node.outFeatures;
  const pixels = node.op === 'conv' ? node.outSize * node.outSize : 1;
  const bias = hasBias(node) ? (node.op === 'conv' ? node.outChannels : node.outFeatures) : 0;
  return { macs: pixels * weights, params: weights + bias };
}

/** Sum of the costs of some layers. */
export function sumCosts(nodes: WeightNode[]): Costs {
  let macs = 0;
  let params = 0;
  for (const n of nodes) {
    const c = weightNodeCosts(n);
    macs += c.macs;
    params += c.params;
  }
  return { macs, params };
}

/** MACs and parameters of any graph (conv and dense layers only; BN excluded). */
export function graphCosts(graph: ModelGraph): Costs {
  return sumCosts(weightNodes(graph));
}

export function costSummary(dense: ModelGraph, compact: ModelGraph): CostSummary {
  const d = graphCosts(dense);
  const c = graphCosts(compact);
  return { macsDense: d.macs, paramsDense: d.params, macsCompact: c.macs, paramsCompact: c.params };
}

/** The model's MACs and parameters, dense and compact: the sum over its layers. */
export function totalCosts(layers: readonly CostSummary[]): CostSummary {
  const t: CostSummary = { macsDense: 0, macsCompact: 0, paramsDense: 0, paramsCompact: 0 };
  for (const l of layers) {
    t.macsDense += l.macsDense;
    t.macsCompact += l.macsCompact;
    t.paramsDense += l.paramsDense;
    t.paramsCompact += l.paramsCompact;
  }
  return t;
}
