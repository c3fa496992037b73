import type * as tfType from '@tensorflow/tfjs';
import type { LayerInfo } from '../events';
import { truncatedSvd } from '../linalg';
import { hasBias, weightNodes, type ModelGraph } from '../models/graph';
import { disposeParams, kernelShape, toVariable, type ModelParams } from '../models/params';
import { basisName, compactGraph, type CompactLayer } from '../models/split';

export type { CompactLayer } from '../models/split';

type Tf = typeof tfType;

/** Below this σ1 a layer is treated as zero (spec §6). */
const ZERO_SIGMA = 1e-5;

export interface CompactModel {
  graph: ModelGraph;
  params: ModelParams;
  layers: CompactLayer[];
}

/**
 * Spec §6: each projected layer of rank r (conv or, with projectDense, dense) becomes C = the k×k
 * conv I → r with weights diag(√σ)·Vᵣᵀ, then N = a 1×1 conv r → O with weights Uᵣ·diag(√σ) and the
 * original bias (see splitLayer). Layers where splitting gains nothing stay dense; a layer with
 * σ1 < 1e-5 becomes a rank-1 split with zero weights (its output is its bias, exactly what the dense
 * layer computes).
 */
export async function buildCompactModel(tf: Tf, graph: ModelGraph, params: ModelParams, layers: LayerInfo[]): Promise<CompactModel> {
  const byName = new Map(layers.map((l) => [l.name, l]));
  const info: CompactLayer[] = [];
  /** Kernel values of the new layers, by compact layer name. */
  const factors = new Map<string, Float32Array>();
  for (const node of weightNodes(graph)) {
    const layer = byName.get(node.name);
    if (!layer) continue;
    if (!layer.projected || layer.keptDense) {
      info.push({ name: node.name, rank: layer.rank, split: false, zero: false });
      continue;
    }
    const [O, K] = layer.shape;
    const wt = (await params.weights.get(node.name)!.kernel.data()) as Float32Array;
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
    factors.set(basisName(node.name), basis);
    factors.set(node.name, mix);
    info.push({ name: node.name, rank: r, split: true, zero });
  }

  const compact = compactGraph(graph, info);
  const out: ModelParams = { weights: new Map(), bn: new Map() };
  const clone = (v: tfType.Variable, trainable = true) => toVariable(tf, v.clone(), trainable);
  try {
    for (const node of compact.nodes) {
      if (node.op === 'bn') {
        const b = params.bn.get(node.name)!;
        out.bn.set(node.name, { gamma: clone(b.gamma), beta: clone(b.beta), movingMean: clone(b.movingMean, false), movingVariance: clone(b.movingVariance, false) });
      } else if (node.op === 'conv' || node.op === 'dense') {
        // The second half of a split layer has the original's name: it takes the original's bias.
        const original = params.weights.get(node.name);
        const values = factors.get(node.name);
        out.weights.set(node.name, {
          kernel: values ? toVariable(tf, tf.tensor(values, kernelShape(node))) : clone(original!.kernel),
          bias: hasBias(node) ? clone(original!.bias!) : null,
        });
      }
    }
  } catch (e) {
    disposeParams(out);
    throw e;
  }
  return { graph: compact, params: out, layers: info };
}
