import type { LayerInfo } from '../events';
import type { ConvNode, DenseNode, GraphNode, ModelGraph, WeightNode } from './graph';

/** One layer of a compact model: its rank, whether it is split into two, and whether it was found dead (zero). */
export interface CompactLayer {
  name: string;
  rank: number;
  split: boolean;
  zero: boolean;
}

/** Name of the first ("basis") half of a split layer; the second half keeps the original name so the BN pairing holds. */
export const basisName = (layer: string) => `${layer}/basis`;

/**
 * The two layers a rank-r layer becomes (spec §6). A conv: k×k conv I → r without bias, then a 1×1
 * conv r → O with the original bias. A dense layer: in → r without bias, then r → out with the bias.
 */
export function splitLayer(node: WeightNode, rank: number): [WeightNode, WeightNode] {
  if (node.op === 'conv') {
    const basis: ConvNode = { ...node, name: basisName(node.name), outChannels: rank, bias: false };
    const mix: ConvNode = { ...node, input: basis.name, inChannels: rank, kernel: 1, stride: 1, pad: 0, inSize: node.outSize };
    return [basis, mix];
  }
  const basis: DenseNode = { ...node, name: basisName(node.name), outFeatures: rank, bias: false };
  const mix: DenseNode = { ...node, input: basis.name, inFeatures: rank };
  return [basis, mix];
}

/** The compact architecture: every split layer replaced by its two halves, everything else unchanged. */
export function compactGraph(graph: ModelGraph, layers: CompactLayer[]): ModelGraph {
  const ranks = new Map(layers.filter((l) => l.split).map((l) => [l.name, l.rank]));
  const nodes = graph.nodes.flatMap((node): GraphNode[] => {
    if (node.op !== 'conv' && node.op !== 'dense') return [node];
    const rank = ranks.get(node.name);
    return rank === undefined ? [node] : splitLayer(node, rank);
  });
  return { ...graph, name: `${graph.name}-compact`, nodes };
}

/** The compact structure a plan describes: every projected layer that gains from splitting is split at its rank. */
export function plannedCompactLayers(layers: LayerInfo[]): CompactLayer[] {
  return layers.map((l) => ({ name: l.name, rank: l.rank, split: l.projected && !l.keptDense, zero: false }));
}
