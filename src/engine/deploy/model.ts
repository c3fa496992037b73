import type { ModelGraph } from '../models/graph';

/**
 * A model ready to deploy: inference only, every BatchNorm folded into the conv before it (kernel
 * scaled per output channel, the shift in the conv's bias), so its graph has conv, relu, add,
 * shortcutA, maxpool, gap and dense nodes only; weights as plain arrays in the engine's layouts (conv
 * HWIO [k, k, I, O], dense [in, out]). A split layer keeps the engine's names: `<layer>/basis` (the k×k
 * conv to r channels) then `<layer>` (the 1×1 conv back, with the bias). What the fused forward, the
 * rank padding and the ONNX exporter work on.
 */
export interface DeployModel {
  graph: ModelGraph;
  weights: Map<string, DeployWeights>;
}

export interface DeployWeights {
  kernel: Float32Array;
  bias: Float32Array | null;
}

/** The split layers of a deploy model: a `<layer>/basis` conv whose only consumer is the 1×1 conv `<layer>`. */
export interface SplitPair {
  basis: string;
  mix: string;
  rank: number;
}

export function splitPairs(graph: ModelGraph): SplitPair[] {
  const pairs: SplitPair[] = [];
  const users = (name: string) => graph.nodes.filter((n) => ('inputs' in n ? n.inputs.includes(name) : n.input === name));
  for (const node of graph.nodes) {
    if (node.op !== 'conv' || !node.name.endsWith('/basis')) continue;
    const next = users(node.name);
    const mix = next[0];
    if (next.length === 1 && mix.op === 'conv' && mix.name === node.name.slice(0, -'/basis'.length) && mix.kernel === 1 && mix.stride === 1 && mix.pad === 0) {
      pairs.push({ basis: node.name, mix: mix.name, rank: node.outChannels });
    }
  }
  return pairs;
}
