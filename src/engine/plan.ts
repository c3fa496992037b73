import type { LrpetConfig, ModelName } from './config';
import { ConfigError } from './errors';
import type { CostSummary, LayerInfo } from './events';
import { buildModel } from './models/builders';
import { bnAfter, weightNodes, type ModelGraph, type WeightNode } from './models/graph';
import { rankForPrune, roundRankUp, vggRankFloor } from './lrpet/rank';
import { sumCosts, totalCosts, weightNodeCosts } from './models/cost';
import { splitLayer } from './models/split';

export { ConfigError } from './errors';

export interface ModelPlan extends CostSummary {
  graph: ModelGraph;
  /** The prune ratio used (solved when a target was given). */
  prune: number;
  layers: LayerInfo[];
}

export type PlanOptions = Pick<LrpetConfig, 'prune' | 'target' | 'rankOverrides' | 'rankFloors' | 'projectDense'> & {
  enabled?: boolean;
  /** Round each rank from p (and the floors) up to a multiple of this, never above n (default 1: the paper's ranks); overrides stay as given. */
  rankMultiple?: number;
};

function matrixDims(node: WeightNode): { O: number; K: number; kernel: [number, number, number, number] } {
  if (node.op === 'conv') {
    const K = node.inChannels * node.kernel * node.kernel;
    return { O: node.outChannels, K, kernel: [node.kernel, node.kernel, node.inChannels, node.outChannels] };
  }
  return { O: node.outFeatures, K: node.inFeatures, kernel: [1, 1, node.inFeatures, node.outFeatures] };
}

function layerCosts(node: WeightNode, rank: number, projected: boolean) {
  const { O, K } = matrixDims(node);
  const dense = weightNodeCosts(node);
  // Spec §6: splitting gains nothing when r·(K + O) ≥ O·K.
  const keptDense = !projected || rank * (K + O) >= O * K;
  const compact = keptDense ? dense : sumCosts(splitLayer(node, rank));
  return { macsDense: dense.macs, paramsDense: dense.params, macsCompact: compact.macs, paramsCompact: compact.params, keptDense };
}

/** Ranks, MACs and parameters of every layer for a given p (no target solving). */
function planForPrune(graph: ModelGraph, p: number, opts: Omit<PlanOptions, 'prune' | 'target'>): Omit<ModelPlan, 'graph'> {
  const enabled = opts.enabled ?? true;
  const names = new Set(weightNodes(graph).map((n) => n.name));
  for (const name of Object.keys(opts.rankOverrides ?? {})) {
    if (!names.has(name)) throw new ConfigError(`rank override for unknown layer '${name}' (layers: ${[...names].join(', ')})`);
  }
  let convIndex = 0;
  const layers: LayerInfo[] = weightNodes(graph).map((node) => {
    const { O, K, kernel } = matrixDims(node);
    const n = Math.min(O, K);
    const projected = enabled && (node.op === 'conv' || opts.projectDense);
    let rank = n;
    if (projected) {
      rank = rankForPrune(n, p);
      if (opts.rankFloors && node.op === 'conv') rank = Math.max(rank, vggRankFloor(convIndex, n));
      rank = roundRankUp(rank, n, opts.rankMultiple ?? 1);
      const override = opts.rankOverrides?.[node.name];
      if (override !== undefined) {
        if (!Number.isInteger(override) || override < 1 || override > n) {
          throw new ConfigError(`rank ${override} is impossible for layer '${node.name}': its matrix is ${O}×${K}, so 1 ≤ rank ≤ ${n}`);
        }
        rank = override;
      }
    }
    if (node.op === 'conv') convIndex++;
    const costs = layerCosts(node, rank, projected);
    return {
      name: node.name,
      kind: node.op,
      shape: [O, K] as [number, number],
      kernel,
      n,
      rank,
      projected,
      bn: node.op === 'conv' ? (bnAfter(graph, node.name)?.name ?? null) : null,
      ...costs,
    };
  });
  return { prune: p, layers, ...totalCosts(layers) };
}

function reduction(plan: CostSummary, metric: 'macs' | 'params'): number {
  return metric === 'macs' ? 1 - plan.macsCompact / plan.macsDense : 1 - plan.paramsCompact / plan.paramsDense;
}

/**
 * Smallest p whose reduction of MACs (or parameters) reaches the target. The reduction is a
 * non-decreasing step function of p (rounding ranks up to a multiple keeps it so), so bisection finds
 * the step's left edge.
 */
function solvePrune(graph: ModelGraph, target: { metric: 'macs' | 'params'; reduction: number }, opts: Omit<PlanOptions, 'prune' | 'target'>): number {
  const pMax = 1 - 1e-9;
  const best = reduction(planForPrune(graph, pMax, opts), target.metric);
  if (best < target.reduction) {
    throw new ConfigError(
      `a ${target.metric === 'macs' ? 'FLOPs' : 'parameter'} reduction of ${(target.reduction * 100).toFixed(1)}% cannot be reached: at most ${(best * 100).toFixed(1)}% with these settings`,
    );
  }
  let lo = 0;
  let hi = pMax;
  if (reduction(planForPrune(graph, 0, opts), target.metric) >= target.reduction) return 0;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (reduction(planForPrune(graph, mid, opts), target.metric) >= target.reduction) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** Plans a model: solves p when a target is given, then ranks and costs of every layer. */
export function planModel(model: ModelName | ModelGraph, opts: PlanOptions): ModelPlan {
  const graph = typeof model === 'string' ? buildModel(model) : model;
  const p = opts.target ? solvePrune(graph, opts.target, opts) : opts.prune;
  return { graph, ...planForPrune(graph, p, opts) };
}
