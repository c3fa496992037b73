import type * as tfType from '@tensorflow/tfjs';
import type { LayerInfo } from '../events';
import { truncatedSvd } from '../linalg';
import type { ConvNode, GraphNode, ModelGraph } from '../models/graph';
import { toVariable, type ModelParams } from '../models/params';

type Tf = typeof tfType;

/** Below this σ1 a layer is treated as zero (spec §6). */
const ZERO_SIGMA = 1e-5;

export interface CompactLayer {
  name: string;
  rank: number;
  split: boolean;
  zero: boolean;
}

export interface CompactModel {
  graph: ModelGraph;
  params: ModelParams;
  layers: CompactLayer[];
}

/** Name of the k×k "basis" conv of a split layer; the 1×1 conv keeps the original name so the BN pairing holds. */
export const basisName = (conv: string) => `${conv}/basis`;

/**
 * Spec §6: each projected conv (rank r) becomes C = conv k×k, I → r, weights diag(√σ)·Vᵣᵀ, then
 * N = conv 1×1, r → O, weights Uᵣ·diag(√σ) with the original bias. Layers where splitting gains
 * nothing stay dense; a layer with σ1 < 1e-5 becomes a rank-1 split with zero weights (its output
 * is its bias, exactly what the dense layer computes).
 */
export async function buildCompactModel(tf: Tf, graph: ModelGraph, params: ModelParams, layers: LayerInfo[]): Promise<CompactModel> {
  const byName = new Map(layers.map((l) => [l.name, l]));
  const nodes: GraphNode[] = [];
  const compact: ModelParams = { weights: new Map(), bn: new Map() };
  const info: CompactLayer[] = [];
  const clone = (v: tfType.Variable, trainable = true) => toVariable(tf, v.clone(), trainable);
  try {
    for (const node of graph.nodes) {
      if (node.op === 'bn') {
        const b = params.bn.get(node.name)!;
        compact.bn.set(node.name, {
          gamma: clone(b.gamma),
          beta: clone(b.beta),
          movingMean: clone(b.movingMean, false),
          movingVariance: clone(b.movingVariance, false),
        });
      }
      const layer = node.op === 'conv' ? byName.get(node.name) : undefined;
      if (node.op !== 'conv' || !layer || !layer.projected || layer.keptDense) {
        nodes.push(node);
        if (node.op === 'conv' || node.op === 'dense') {
          const w = params.weights.get(node.name)!;
          compact.weights.set(node.name, { kernel: clone(w.kernel), bias: w.bias ? clone(w.bias) : null });
          if (layer) info.push({ name: node.name, rank: layer.rank, split: false, zero: false });
        }
        continue;
      }
      const [O, K] = layer.shape;
      const w = params.weights.get(node.name)!;
      const wt = (await w.kernel.data()) as Float32Array;
      const svd = truncatedSvd(wt, K, O, layer.rank);
      const zero = !(svd.s[0] >= ZERO_SIGMA);
      const r = zero ? 1 : layer.rank;
      const basis = new Float32Array(K * r);
      const mix = new Float32Array(r * O);
      if (!zero) {
        for (let i = 0; i < r; i++) {
          const root = Math.sqrt(svd.s[i]);
          for (let k = 0; k < K; k++) basis[k * r + i] = svd.v[k * layer.rank + i] * root;
          for (let j = 0; j < O; j++) mix[i * O + j] = svd.u[j * layer.rank + i] * root;
        }
      }
      const c: ConvNode = { ...node, name: basisName(node.name), outChannels: r, bias: false };
      const n: ConvNode = { ...node, input: c.name, inChannels: r, kernel: 1, stride: 1, pad: 0, inSize: node.outSize };
      nodes.push(c, n);
      compact.weights.set(c.name, { kernel: toVariable(tf, tf.tensor4d(basis, [node.kernel, node.kernel, node.inChannels, r])), bias: null });
      compact.weights.set(n.name, { kernel: toVariable(tf, tf.tensor4d(mix, [1, 1, r, O])), bias: w.bias ? clone(w.bias) : null });
      info.push({ name: node.name, rank: r, split: true, zero });
    }
  } catch (e) {
    for (const w of compact.weights.values()) {
      w.kernel.dispose();
      w.bias?.dispose();
    }
    for (const b of compact.bn.values()) for (const v of Object.values(b)) v.dispose();
    throw e;
  }
  return { graph: { ...graph, name: `${graph.name}-compact`, nodes }, params: compact, layers: info };
}
