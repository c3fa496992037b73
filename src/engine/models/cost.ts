import type { CostSummary } from '../events';
import type { ModelGraph } from './graph';

/** MACs and parameters of any graph, in the paper's convention (conv and dense only; BN excluded). */
export function graphCosts(graph: ModelGraph): { macs: number; params: number } {
  let macs = 0;
  let params = 0;
  for (const n of graph.nodes) {
    if (n.op === 'conv') {
      const w = n.kernel * n.kernel * n.inChannels * n.outChannels;
      macs += n.outSize * n.outSize * w;
      params += w + (n.bias ? n.outChannels : 0);
    } else if (n.op === 'dense') {
      macs += n.inFeatures * n.outFeatures;
      params += n.inFeatures * n.outFeatures + n.outFeatures;
    }
  }
  return { macs, params };
}

export function costSummary(dense: ModelGraph, compact: ModelGraph): CostSummary {
  const d = graphCosts(dense);
  const c = graphCosts(compact);
  return { macsDense: d.macs, paramsDense: d.params, macsCompact: c.macs, paramsCompact: c.params };
}
