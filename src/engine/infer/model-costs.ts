import type { TfNode } from '../export/graph-model';
import type { Costs } from '../models/cost';

/**
 * MACs and parameters of a TensorFlow.js graph model as this project exports it (export/graph-model.ts),
 * read from its model.json alone, in the paper's convention (models/cost.ts): a conv costs
 * H_out·W_out·kh·kw·I·O MACs, a MatMul in·out; parameters are conv/MatMul kernels plus the biases added
 * straight after them (BN's scale and shift are not counted). Lets a saved model's cost be known without
 * its run's events.
 */

export class ModelFileError extends Error {
  override name = 'ModelFileError';
}

const decode = (s: string | undefined): string => (s === undefined ? '' : atob(s));
const ints = (node: TfNode, key: string): number[] => (node.attr?.[key]?.list?.i ?? []).map(Number);

export function graphModelCosts(modelJson: Record<string, unknown>): Costs {
  const topology = modelJson.modelTopology as { node?: TfNode[] } | undefined;
  const manifest = modelJson.weightsManifest as { weights?: { name: string; shape: number[] }[] }[] | undefined;
  if (!topology?.node || !manifest) throw new ModelFileError('model.json is not a TensorFlow.js graph model (no modelTopology.node or weightsManifest)');
  const shapes = new Map(manifest.flatMap((g) => g.weights ?? []).map((w) => [w.name, w.shape]));
  const byName = new Map(topology.node.map((n) => [n.name, n]));
  /** Spatial size (height = width) of each node's output; absent for nodes without one (after the pooling to a vector). */
  const size = new Map<string, number>();
  const kernelOf = (node: TfNode, rank: number): number[] => {
    const name = node.input?.[1];
    const shape = name === undefined ? undefined : shapes.get(name);
    if (!shape || shape.length !== rank) throw new ModelFileError(`${node.op} '${node.name}': its kernel '${name}' is not a rank-${rank} weight of the model`);
    return shape;
  };
  let macs = 0;
  let params = 0;
  for (const node of topology.node) {
    const src = node.input?.[0];
    const inSize = src === undefined ? undefined : size.get(src);
    switch (node.op) {
      case 'Placeholder': {
        const dims = node.attr?.shape?.shape?.dim?.map((d) => Number(d.size)) ?? [];
        if (dims.length !== 4 || dims[1] !== dims[2]) throw new ModelFileError(`input '${node.name}' is not a square NHWC image batch`);
        size.set(node.name, dims[1]);
        break;
      }
      case 'Conv2D': {
        const [kh, kw, inC, outC] = kernelOf(node, 4);
        if (inSize === undefined) throw new ModelFileError(`Conv2D '${node.name}': unknown input size`);
        const stride = ints(node, 'strides')[1] ?? 1;
        const padding = decode(node.attr?.padding?.s);
        const explicit = ints(node, 'explicit_paddings');
        const out =
          padding === 'SAME'
            ? Math.ceil(inSize / stride)
            : Math.floor((inSize + (padding === 'EXPLICIT' ? explicit[2] + explicit[3] : 0) - kh) / stride) + 1;
        size.set(node.name, out);
        macs += out * out * kh * kw * inC * outC;
        params += kh * kw * inC * outC;
        break;
      }
      case 'MatMul': {
        const [inF, outF] = kernelOf(node, 2);
        macs += inF * outF;
        params += inF * outF;
        break;
      }
      case 'AvgPool':
      case 'MaxPool': {
        if (inSize === undefined) throw new ModelFileError(`${node.op} '${node.name}': unknown input size`);
        const k = ints(node, 'ksize')[1] ?? 1;
        const s = ints(node, 'strides')[1] ?? 1;
        size.set(node.name, Math.floor((inSize - k) / s) + 1);
        break;
      }
      case 'Mean':
        break;
      default: {
        // A bias: a weight added straight after a conv or a MatMul.
        const prev = src === undefined ? undefined : byName.get(src);
        const bias = node.input?.[1];
        if (node.op === 'AddV2' && (prev?.op === 'Conv2D' || prev?.op === 'MatMul') && bias !== undefined && shapes.has(bias)) {
          params += shapes.get(bias)!.reduce((a, b) => a * b, 1);
        }
        if (inSize !== undefined) size.set(node.name, inSize);
      }
    }
  }
  return { macs, params };
}

/**
 * The rank of each split layer of a compact model: the output channels of its first half (named
 * '…/basis' by the exporter, models/split.ts), in graph order. Empty for a model without splits.
 */
export function splitRanks(modelJson: Record<string, unknown>): number[] {
  const topology = modelJson.modelTopology as { node?: TfNode[] } | undefined;
  const manifest = modelJson.weightsManifest as { weights?: { name: string; shape: number[] }[] }[] | undefined;
  const shapes = new Map((manifest ?? []).flatMap((g) => g.weights ?? []).map((w) => [w.name, w.shape]));
  return (topology?.node ?? [])
    .filter((n) => (n.op === 'Conv2D' || n.op === 'MatMul') && n.name.endsWith('/basis'))
    .map((n) => shapes.get(n.input?.[1] ?? '')?.at(-1) ?? NaN)
    .filter((r) => Number.isInteger(r));
}

/** The MACs and parameters of a dense model and its compact one, their ratios and the compact model's split ranks, read from their files. */
export function pairCosts(models: { dense: { modelJson: Record<string, unknown> }; compact: { modelJson: Record<string, unknown> } }) {
  const d = graphModelCosts(models.dense.modelJson);
  const c = graphModelCosts(models.compact.modelJson);
  return {
    macsDense: d.macs,
    macsCompact: c.macs,
    paramsDense: d.params,
    paramsCompact: c.params,
    macRatio: d.macs / c.macs,
    paramRatio: d.params / c.params,
    splitRanks: splitRanks(models.compact.modelJson),
  };
}
