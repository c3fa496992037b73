import type { GraphNode, ModelGraph } from '../models/graph';
import { ModelFileError } from '../infer/model-costs';
import type { ExportedModel } from '../run/api';
import type { DeployModel, DeployWeights } from './model';
import type { TfNode } from '../export/graph-model';

/**
 * Reads a TensorFlow.js graph model as this project exports it (export/graph-model.ts) back into the
 * engine's graph vocabulary, folding each BatchNorm (exported as x·scale + shift) into the conv before
 * it: kernel[…, o]·scale[o], bias[o]·scale[o] + shift[o], in float64, rounded once to float32. So a
 * saved or stored model (which is all a stored run keeps) can be run by the engine's own forward,
 * padded, or written as ONNX. Anything else gets a ModelFileError naming the node.
 */

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
}

/** What a TF node's output is, in engine terms. */
interface Value {
  /** The engine node computing it ('input' for the image batch). */
  node: string;
  channels: number;
  /** Spatial size; 0 once pooled to a vector. */
  size: number;
  /** A BN's x·scale waiting for its shift. */
  scale?: Float32Array;
}

const decode = (s: string | undefined): string => (s === undefined ? '' : atob(s));
const ints = (n: TfNode, key: string): number[] => (n.attr?.[key]?.list?.i ?? []).map(Number);

function readWeights(m: ExportedModel): Map<string, { shape: number[]; data: Float32Array | Int32Array }> {
  const manifest = m.modelJson.weightsManifest as { weights?: WeightSpec[] }[] | undefined;
  if (!Array.isArray(manifest)) throw new ModelFileError('model.json has no weightsManifest');
  const out = new Map<string, { shape: number[]; data: Float32Array | Int32Array }>();
  const bytes = m.weights;
  let at = 0;
  for (const w of manifest.flatMap((g) => g.weights ?? [])) {
    const count = w.shape.reduce((a, b) => a * b, 1);
    if (w.dtype !== 'float32' && w.dtype !== 'int32') throw new ModelFileError(`weight '${w.name}' has dtype ${w.dtype}: only float32 and int32 are read`);
    if (at + count * 4 > bytes.byteLength) throw new ModelFileError(`weights.bin is too short for '${w.name}' (${bytes.byteLength} bytes)`);
    const copy = bytes.slice(at, at + count * 4).buffer;
    out.set(w.name, { shape: w.shape, data: w.dtype === 'int32' ? new Int32Array(copy) : new Float32Array(copy) });
    at += count * 4;
  }
  return out;
}

export function readGraphModel(m: ExportedModel): DeployModel {
  const topology = m.modelJson.modelTopology as { node?: TfNode[] } | undefined;
  if (!topology?.node) throw new ModelFileError('model.json is not a TensorFlow.js graph model (no modelTopology.node)');
  const consts = readWeights(m);
  const nodes: GraphNode[] = [];
  const weights = new Map<string, DeployWeights>();
  const values = new Map<string, Value>();
  const uses = new Map<string, number>();
  for (const n of topology.node) for (const i of n.input ?? []) uses.set(i, (uses.get(i) ?? 0) + 1);
  let inputSize = 0;
  let inputChannels = 0;
  let output: string | null = null;

  const fail = (n: TfNode, why: string): never => {
    throw new ModelFileError(`${n.op} '${n.name}': ${why}`);
  };
  const valueOf = (n: TfNode, i: number): Value => {
    const v = values.get(n.input?.[i] ?? '');
    return v ?? fail(n, `input ${i} ('${n.input?.[i]}') is not computed before it`);
  };
  const constOf = (n: TfNode, i: number) => consts.get(n.input?.[i] ?? '') ?? null;
  const nodeOf = (name: string) => nodes.find((x) => x.name === name);
  const strip = (name: string, suffix: string) => (name.endsWith(suffix) ? name.slice(0, -suffix.length) : name);

  for (const n of topology.node) {
    switch (n.op) {
      case 'Const':
        break;
      case 'Placeholder': {
        const dims = n.attr?.shape?.shape?.dim?.map((d: { size: string | number }) => Number(d.size)) ?? [];
        if (dims.length !== 4 || dims[1] !== dims[2]) fail(n, 'the input is not a square NHWC image batch');
        [inputSize, inputChannels] = [dims[1], dims[3]];
        values.set(n.name, { node: 'input', channels: dims[3], size: dims[1] });
        break;
      }
      case 'Conv2D': {
        const x = valueOf(n, 0);
        const k = constOf(n, 1);
        if (!k || k.shape.length !== 4 || k.shape[0] !== k.shape[1] || k.shape[2] !== x.channels) fail(n, 'its kernel is not a square HWIO weight matching the input');
        const stride = ints(n, 'strides')[1] ?? 1;
        const padding = decode(n.attr?.padding?.s);
        const pad = padding === 'EXPLICIT' ? ints(n, 'explicit_paddings')[2] : padding === 'VALID' ? 0 : fail(n, `padding ${padding} is not exported by this project`);
        const kernel = k!.shape[0];
        const outSize = Math.floor((x.size + 2 * pad - kernel) / stride) + 1;
        const name = strip(n.name, '/conv2d');
        nodes.push({ op: 'conv', name, input: x.node, inChannels: x.channels, outChannels: k!.shape[3], kernel, stride, pad, bias: false, inSize: x.size, outSize });
        weights.set(name, { kernel: Float32Array.from(k!.data), bias: null });
        values.set(n.name, { node: name, channels: k!.shape[3], size: outSize });
        break;
      }
      case 'MatMul': {
        const x = valueOf(n, 0);
        const k = constOf(n, 1);
        if (!k || k.shape.length !== 2 || k.shape[0] !== x.channels) fail(n, 'its kernel is not an [in, out] weight matching the input');
        const name = strip(n.name, '/matmul');
        nodes.push({ op: 'dense', name, input: x.node, inFeatures: k!.shape[0], outFeatures: k!.shape[1], bias: false });
        weights.set(name, { kernel: Float32Array.from(k!.data), bias: null });
        values.set(n.name, { node: name, channels: k!.shape[1], size: 0 });
        break;
      }
      case 'Mul': {
        const x = valueOf(n, 0);
        const scale = constOf(n, 1);
        if (!scale || scale.shape.length !== 1 || scale.shape[0] !== x.channels) fail(n, 'not a per-channel BatchNorm scale');
        if ((uses.get(n.input![0]) ?? 0) !== 1) fail(n, `the layer '${x.node}' it folds into has other consumers`);
        values.set(n.name, { ...x, scale: scale!.data as Float32Array });
        break;
      }
      case 'AddV2': {
        const x = valueOf(n, 0);
        const c = constOf(n, 1);
        if (!c) {
          const y = valueOf(n, 1);
          if (x.scale || y.scale) fail(n, 'adds a BatchNorm scale that has no shift');
          nodes.push({ op: 'add', name: n.name, inputs: [x.node, y.node] });
          values.set(n.name, { node: n.name, channels: x.channels, size: x.size });
          break;
        }
        if (c.shape.length !== 1 || c.shape[0] !== x.channels) fail(n, 'adds a constant that is not per-channel');
        const layer = nodeOf(x.node);
        const w = weights.get(x.node);
        if (!layer || (layer.op !== 'conv' && layer.op !== 'dense') || !w) fail(n, 'a BatchNorm or bias that does not follow a conv or dense layer cannot be folded');
        if ((uses.get(n.input![0]) ?? 0) !== 1) fail(n, `the layer '${x.node}' it folds into has other consumers`);
        const out = c.shape[0];
        const bias = new Float64Array(out);
        for (let o = 0; o < out; o++) bias[o] = (w!.bias?.[o] ?? 0) * (x.scale?.[o] ?? 1) + c.data[o];
        if (x.scale) {
          // Fold BN: every kernel value of output channel o (the last axis) times scale[o].
          for (let i = 0; i < w!.kernel.length; i++) w!.kernel[i] = Math.fround(w!.kernel[i] * x.scale[i % out]);
        }
        w!.bias = Float32Array.from(bias);
        (layer as { bias: boolean }).bias = true;
        values.set(n.name, { node: x.node, channels: x.channels, size: x.size });
        break;
      }
      case 'Relu': {
        const x = valueOf(n, 0);
        nodes.push({ op: 'relu', name: n.name, input: x.node });
        values.set(n.name, { node: n.name, channels: x.channels, size: x.size });
        break;
      }
      case 'AvgPool':
      case 'MaxPool': {
        const x = valueOf(n, 0);
        const [k, s] = [ints(n, 'ksize')[1], ints(n, 'strides')[1]];
        if (n.op === 'AvgPool') {
          if (k !== 1) fail(n, 'only the 1×1 subsampling of a shortcut is exported as AvgPool');
          const name = strip(n.name, '/subsample');
          nodes.push({ op: 'shortcutA', name, input: x.node, inChannels: x.channels, outChannels: x.channels, stride: s });
          values.set(n.name, { node: name, channels: x.channels, size: Math.floor((x.size - 1) / s) + 1 });
        } else {
          if (k !== s) fail(n, 'only non-overlapping max pooling is exported');
          nodes.push({ op: 'maxpool', name: n.name, input: x.node, size: k });
          values.set(n.name, { node: n.name, channels: x.channels, size: Math.floor(x.size / k) });
        }
        break;
      }
      case 'Pad': {
        const x = valueOf(n, 0);
        const p = constOf(n, 1)?.data;
        if (!p || p.length !== 8 || [0, 1, 2, 3, 4, 5].some((i) => p[i] !== 0)) fail(n, 'only the channel padding of a shortcut is exported as Pad');
        const [before, after] = [p![6], p![7]];
        const prev = nodeOf(x.node);
        let sc: GraphNode & { op: 'shortcutA' };
        if (prev?.op === 'shortcutA' && prev.name === n.name && (uses.get(n.input![0]) ?? 0) === 1) sc = prev;
        else {
          sc = { op: 'shortcutA', name: n.name, input: x.node, inChannels: x.channels, outChannels: x.channels, stride: 1 };
          nodes.push(sc);
        }
        if (before !== Math.floor((before + after) / 2)) fail(n, 'the shortcut pads its channels unevenly (option A pads half on each side)');
        sc.outChannels = x.channels + before + after;
        values.set(n.name, { node: sc.name, channels: sc.outChannels, size: x.size });
        break;
      }
      case 'Mean': {
        const x = valueOf(n, 0);
        const axes = constOf(n, 1)?.data;
        if (!axes || String([...axes]) !== '1,2') fail(n, 'only the global average over height and width is exported as Mean');
        nodes.push({ op: 'gap', name: n.name, input: x.node });
        values.set(n.name, { node: n.name, channels: x.channels, size: 0 });
        break;
      }
      case 'Identity':
        output = valueOf(n, 0).node;
        break;
      default:
        fail(n, 'this op is not part of the models this project exports');
    }
  }
  if (!output) throw new ModelFileError("the model has no 'logits' output (Identity)");
  const last = nodeOf(output);
  const meta = m.modelJson.userDefinedMetadata as { model?: string } | undefined;
  const graph: ModelGraph = {
    name: meta?.model ?? 'model',
    inputSize,
    inputChannels,
    numClasses: last?.op === 'dense' ? last.outFeatures : 0,
    init: 'resnet',
    nodes,
    output,
  };
  return { graph, weights };
}
