import { exportGraphModel } from '../export/graph-model';
import type { ConvNode } from '../models/graph';
import { disposeParams, toVariable, type ModelParams } from '../models/params';
import type { ExportedModel, Tf } from '../run/api';
import { splitPairs, type DeployModel, type DeployWeights } from './model';

/**
 * The same function with every split layer's rank padded up to a multiple (never above what splitting
 * allows: at most the layer's n = min(O, I·k·k)): the k×k conv gets zero filters, the 1×1 conv zero input
 * rows. GPU kernels vectorise channel counts that are multiples of 4, so a padded model can be faster
 * despite its extra MACs.
 */
export function padRanks(model: DeployModel, multiple: number): DeployModel {
  if (!(Number.isInteger(multiple) && multiple >= 1)) throw new RangeError(`a rank multiple must be an integer ≥ 1, got ${multiple}`);
  const weights = new Map(model.weights);
  const padded = new Map<string, number>();
  for (const { basis, mix, rank } of splitPairs(model.graph)) {
    const b = model.graph.nodes.find((n) => n.name === basis) as ConvNode;
    const m = model.graph.nodes.find((n) => n.name === mix) as ConvNode;
    const n = Math.min(m.outChannels, b.inChannels * b.kernel * b.kernel);
    const r = Math.max(rank, Math.min(n, Math.ceil(rank / multiple) * multiple));
    if (r === rank) continue;
    const bw = model.weights.get(basis)!;
    const mw = model.weights.get(mix)!;
    // basis HWIO [k, k, I, rank] → [k, k, I, r]: each (ky, kx, i) row gets r − rank zeros.
    const rows = bw.kernel.length / rank;
    const bk = new Float32Array(rows * r);
    for (let row = 0; row < rows; row++) bk.set(bw.kernel.subarray(row * rank, (row + 1) * rank), row * r);
    // mix [1, 1, rank, O] → [1, 1, r, O]: zero rows after the first rank.
    const mk = new Float32Array(r * m.outChannels);
    mk.set(mw.kernel);
    weights.set(basis, { kernel: bk, bias: bw.bias } satisfies DeployWeights);
    weights.set(mix, { kernel: mk, bias: mw.bias } satisfies DeployWeights);
    padded.set(basis, r);
  }
  const nodes = model.graph.nodes.map((node) => {
    if (node.op !== 'conv') return node;
    const r = padded.get(node.name) ?? padded.get(`${node.name}/basis`);
    if (r === undefined) return node;
    return node.name.endsWith('/basis') ? { ...node, outChannels: r } : { ...node, inChannels: r };
  });
  return { graph: { ...model.graph, nodes }, weights };
}

/** A deploy model as a TensorFlow.js graph model (BN already folded: the convs carry the biases). */
export async function deployToGraphModel(tf: Tf, model: DeployModel): Promise<ExportedModel> {
  const params: ModelParams = { weights: new Map(), bn: new Map() };
  try {
    for (const node of model.graph.nodes) {
      if (node.op !== 'conv' && node.op !== 'dense') continue;
      const w = model.weights.get(node.name)!;
      const shape = node.op === 'conv' ? [node.kernel, node.kernel, node.inChannels, node.outChannels] : [node.inFeatures, node.outFeatures];
      params.weights.set(node.name, { kernel: toVariable(tf, tf.tensor(w.kernel, shape), false), bias: w.bias ? toVariable(tf, tf.tensor1d(w.bias), false) : null });
    }
    return await exportGraphModel(model.graph, params);
  } finally {
    disposeParams(params);
  }
}
