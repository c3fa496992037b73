import type { ModelGraph } from '../models/graph';
import type { ModelParams } from '../models/params';
import type { ExportedModel } from '../run/api';

/**
 * Writes a graph as a TensorFlow.js graph model (a TF GraphDef in JSON plus one weights file),
 * loadable with tf.loadGraphModel. BN is exported in its inference form (x·scale + shift).
 * Input: 'input' [-1, 32, 32, 3] float32, normalised like the training data; output: 'logits' [-1, 10].
 */

/** One attribute value of a node in a TensorFlow.js graph model's topology (the GraphDef JSON). */
export interface TfAttr {
  s?: string;
  b?: boolean;
  type?: string;
  list?: { i?: (string | number)[] };
  shape?: { dim?: { size: string | number }[] };
  tensor?: { dtype: string; tensorShape: { dim: { size: string }[] } };
}

/** A node of a TensorFlow.js graph model's topology (written here, read by infer/model-costs.ts). */
export interface TfNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, TfAttr>;
}
interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
}

const str = (s: string) => ({ s: btoa(s) });
const ints = (v: number[]) => ({ list: { i: v.map(String) } });
const FLOAT = { type: 'DT_FLOAT' };
const INT = { type: 'DT_INT32' };

export async function exportGraphModel(graph: ModelGraph, params: ModelParams): Promise<ExportedModel> {
  const nodes: TfNode[] = [];
  const specs: WeightSpec[] = [];
  const chunks: ArrayBufferView[] = [];
  const constant = (name: string, shape: number[], data: Float32Array | Int32Array): string => {
    const dtype = data instanceof Int32Array ? 'int32' : 'float32';
    const dt = dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT';
    nodes.push({ name, op: 'Const', attr: { value: { tensor: { dtype: dt, tensorShape: { dim: shape.map((size) => ({ size: String(size) })) } } }, dtype: { type: dt } } });
    specs.push({ name, shape, dtype });
    chunks.push(data);
    return name;
  };
  const op = (name: string, type: string, input: string[], attr: Record<string, TfAttr> = {}): string => {
    nodes.push({ name, op: type, input, attr: { T: FLOAT, ...attr } });
    return name;
  };

  nodes.push({ name: 'input', op: 'Placeholder', attr: { dtype: FLOAT, shape: { shape: { dim: [-1, graph.inputSize, graph.inputSize, graph.inputChannels].map((size) => ({ size: String(size) })) } } } });
  const out = new Map<string, string>([['input', 'input']]);
  const src = (name: string) => out.get(name)!;

  for (const node of graph.nodes) {
    switch (node.op) {
      case 'conv': {
        const w = params.weights.get(node.name)!;
        const kernel = constant(`${node.name}/kernel`, w.kernel.shape, (await w.kernel.data()) as Float32Array);
        const padAttr: Record<string, TfAttr> =
          node.pad === 0 ? { padding: str('VALID') } : { padding: str('EXPLICIT'), explicit_paddings: ints([0, 0, node.pad, node.pad, node.pad, node.pad, 0, 0]) };
        const convName = w.bias ? `${node.name}/conv2d` : node.name;
        op(convName, 'Conv2D', [src(node.input), kernel], { strides: ints([1, node.stride, node.stride, 1]), dilations: ints([1, 1, 1, 1]), data_format: str('NHWC'), ...padAttr });
        out.set(node.name, w.bias ? op(node.name, 'AddV2', [convName, constant(`${node.name}/bias`, w.bias.shape, (await w.bias.data()) as Float32Array)]) : convName);
        break;
      }
      case 'bn': {
        const p = params.bn.get(node.name)!;
        const [g, b, m, v] = await Promise.all([p.gamma.data(), p.beta.data(), p.movingMean.data(), p.movingVariance.data()]);
        const scale = new Float32Array(node.channels);
        const shift = new Float32Array(node.channels);
        for (let j = 0; j < node.channels; j++) {
          scale[j] = g[j] / Math.sqrt(v[j] + node.epsilon);
          shift[j] = b[j] - m[j] * scale[j];
        }
        const mul = op(`${node.name}/mul`, 'Mul', [src(node.input), constant(`${node.name}/scale`, [node.channels], scale)]);
        out.set(node.name, op(node.name, 'AddV2', [mul, constant(`${node.name}/shift`, [node.channels], shift)]));
        break;
      }
      case 'relu':
        out.set(node.name, op(node.name, 'Relu', [src(node.input)]));
        break;
      case 'add':
        out.set(node.name, op(node.name, 'AddV2', [src(node.inputs[0]), src(node.inputs[1])]));
        break;
      case 'shortcutA': {
        let x = src(node.input);
        if (node.stride !== 1) {
          const k = ints([1, 1, 1, 1]);
          x = op(`${node.name}/subsample`, 'AvgPool', [x], { ksize: k, strides: ints([1, node.stride, node.stride, 1]), padding: str('VALID'), data_format: str('NHWC') });
        }
        const extra = node.outChannels - node.inChannels;
        if (extra > 0) {
          const before = Math.floor(extra / 2);
          x = op(node.name, 'Pad', [x, constant(`${node.name}/paddings`, [4, 2], Int32Array.from([0, 0, 0, 0, 0, 0, before, extra - before]))], { Tpaddings: INT });
        }
        out.set(node.name, x);
        break;
      }
      case 'maxpool':
        out.set(node.name, op(node.name, 'MaxPool', [src(node.input)], { ksize: ints([1, node.size, node.size, 1]), strides: ints([1, node.size, node.size, 1]), padding: str('VALID'), data_format: str('NHWC') }));
        break;
      case 'gap':
        out.set(node.name, op(node.name, 'Mean', [src(node.input), constant(`${node.name}/axes`, [2], Int32Array.from([1, 2]))], { Tidx: INT, keep_dims: { b: false } }));
        break;
      case 'dense': {
        const w = params.weights.get(node.name)!;
        const mm = op(`${node.name}/matmul`, 'MatMul', [src(node.input), constant(`${node.name}/kernel`, w.kernel.shape, (await w.kernel.data()) as Float32Array)], { transpose_a: { b: false }, transpose_b: { b: false } });
        out.set(node.name, w.bias ? op(node.name, 'AddV2', [mm, constant(`${node.name}/bias`, w.bias.shape, (await w.bias.data()) as Float32Array)]) : mm);
        break;
      }
    }
  }
  op('logits', 'Identity', [src(graph.output)]);

  const total = chunks.reduce((s, c) => s + c.byteLength, 0);
  const weights = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    weights.set(new Uint8Array(c.buffer, c.byteOffset, c.byteLength), at);
    at += c.byteLength;
  }
  return {
    modelJson: {
      format: 'graph-model',
      generatedBy: 'lrpet-playground',
      convertedBy: null,
      modelTopology: { node: nodes, library: {}, versions: { producer: 1 } },
      weightsManifest: [{ paths: ['weights.bin'], weights: specs }],
      userDefinedMetadata: { model: graph.name, input: 'NHWC 32×32×3, per-channel normalised (CIFAR-10 mean/std)', output: 'logits over 10 classes' },
    },
    weights,
  };
}
