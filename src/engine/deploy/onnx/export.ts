import { create, toBinary } from '@bufbuild/protobuf';
import type { DeployModel } from '../model';
import {
  AttributeProto_AttributeType as AttrType,
  AttributeProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  TensorProto_DataType as DataType,
  TensorProtoSchema,
  ValueInfoProtoSchema,
  type AttributeProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from './onnx-subset_pb';

/**
 * A deploy model (BN folded, deploy/model.ts) as an ONNX model: IR version 8, opset 13 (what Debian's
 * onnx 1.12 checks and every current runtime reads), inference only. Input 'input' float32
 * [batch, 3, 32, 32] (NCHW, ONNX's and PyTorch's layout; normalised with the CIFAR-10 mean/std like the
 * training data), output 'logits' [batch, classes]; the batch is dynamic. A split layer is two Conv nodes
 * named as in the engine (`<layer>/basis`, then `<layer>`).
 */

export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 13;
/** The dynamic batch dimension's name. */
export const ONNX_BATCH = 'batch';

const attr = (name: string, value: { ints: number[] } | { i: number }): AttributeProto =>
  create(AttributeProtoSchema, 'ints' in value ? { name, type: AttrType.INTS, ints: value.ints.map(BigInt) } : { name, type: AttrType.INT, i: BigInt(value.i) });

function tensor(name: string, dims: number[], values: Float32Array | BigInt64Array): TensorProto {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  // raw_data is little-endian; so is every platform this runs on (checked once below).
  return create(TensorProtoSchema, { name, dims: dims.map(BigInt), dataType: values instanceof Float32Array ? DataType.FLOAT : DataType.INT64, rawData: bytes.slice() });
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function valueInfo(name: string, dims: (number | string)[]): ValueInfoProto {
  return create(ValueInfoProtoSchema, {
    name,
    type: {
      value: {
        case: 'tensorType',
        value: {
          elemType: DataType.FLOAT,
          shape: { dim: dims.map((d) => ({ value: typeof d === 'string' ? { case: 'dimParam' as const, value: d } : { case: 'dimValue' as const, value: BigInt(d) } })) },
        },
      },
    },
  });
}

/** HWIO [k, k, I, O] → ONNX's OIHW. */
function toOihw(hwio: Float32Array, k: number, inC: number, outC: number): Float32Array {
  const out = new Float32Array(hwio.length);
  for (let ky = 0; ky < k; ky++)
    for (let kx = 0; kx < k; kx++)
      for (let i = 0; i < inC; i++)
        for (let o = 0; o < outC; o++) out[((o * inC + i) * k + ky) * k + kx] = hwio[((ky * k + kx) * inC + i) * outC + o];
  return out;
}

/** The ONNX file's bytes; `meta` goes into metadata_props (e.g. the model name and variant). */
export function exportOnnx(model: DeployModel, meta: Record<string, string> = {}): Uint8Array {
  if (!LITTLE_ENDIAN) throw new Error('ONNX export needs a little-endian platform (raw_data is little-endian)');
  const { graph, weights } = model;
  const nodes: NodeProto[] = [];
  const initializer: TensorProto[] = [];
  const node = (opType: string, name: string, input: string[], attribute: AttributeProto[] = [], output = name) => {
    nodes.push(create(NodeProtoSchema, { opType, name, input, output: [output], attribute }));
    return output;
  };
  const int64s = (name: string, values: number[]) => {
    initializer.push(tensor(name, [values.length], BigInt64Array.from(values.map(BigInt))));
    return name;
  };
  const out = new Map<string, string>([['input', 'input']]);
  const src = (name: string) => out.get(name)!;

  for (const n of graph.nodes) {
    const name = n.name === graph.output ? 'logits' : n.name;
    switch (n.op) {
      case 'conv': {
        const w = weights.get(n.name)!;
        initializer.push(tensor(`${n.name}/kernel`, [n.outChannels, n.inChannels, n.kernel, n.kernel], toOihw(w.kernel, n.kernel, n.inChannels, n.outChannels)));
        const inputs = [src(n.input), `${n.name}/kernel`];
        if (w.bias) {
          initializer.push(tensor(`${n.name}/bias`, [n.outChannels], w.bias));
          inputs.push(`${n.name}/bias`);
        }
        const attrs = [attr('kernel_shape', { ints: [n.kernel, n.kernel] }), attr('strides', { ints: [n.stride, n.stride] }), attr('pads', { ints: [n.pad, n.pad, n.pad, n.pad] }), attr('dilations', { ints: [1, 1] }), attr('group', { i: 1 })];
        out.set(n.name, node('Conv', name, inputs, attrs));
        break;
      }
      case 'relu':
        out.set(n.name, node('Relu', name, [src(n.input)]));
        break;
      case 'add':
        out.set(n.name, node('Add', name, [src(n.inputs[0]), src(n.inputs[1])]));
        break;
      case 'shortcutA': {
        let x = src(n.input);
        const extra = n.outChannels - n.inChannels;
        if (n.stride !== 1) {
          // x[:, :, ::s, ::s]
          const big = Number.MAX_SAFE_INTEGER;
          const p = `${n.name}/subsample`;
          x = node('Slice', extra > 0 ? p : name, [x, int64s(`${p}/starts`, [0, 0]), int64s(`${p}/ends`, [big, big]), int64s(`${p}/axes`, [2, 3]), int64s(`${p}/steps`, [n.stride, n.stride])]);
        }
        if (extra > 0) {
          const before = Math.floor(extra / 2);
          // Channels zero-padded, half on each side: pads = [begin of N, C, H, W, end of N, C, H, W].
          x = node('Pad', name, [x, int64s(`${n.name}/pads`, [0, before, 0, 0, 0, extra - before, 0, 0])]);
        }
        out.set(n.name, x);
        break;
      }
      case 'maxpool':
        out.set(n.name, node('MaxPool', name, [src(n.input)], [attr('kernel_shape', { ints: [n.size, n.size] }), attr('strides', { ints: [n.size, n.size] })]));
        break;
      case 'gap': {
        const pooled = node('GlobalAveragePool', `${n.name}/pool`, [src(n.input)]);
        out.set(n.name, node('Flatten', name, [pooled], [attr('axis', { i: 1 })]));
        break;
      }
      case 'dense': {
        const w = weights.get(n.name)!;
        initializer.push(tensor(`${n.name}/kernel`, [n.inFeatures, n.outFeatures], w.kernel));
        const inputs = [src(n.input), `${n.name}/kernel`];
        if (w.bias) {
          initializer.push(tensor(`${n.name}/bias`, [n.outFeatures], w.bias));
          inputs.push(`${n.name}/bias`);
        }
        out.set(n.name, node('Gemm', name, inputs));
        break;
      }
      case 'bn':
        throw new Error(`ONNX export: BatchNorm '${n.name}' is not folded (export a deploy model)`);
    }
  }
  if (src(graph.output) !== 'logits') throw new Error(`ONNX export: the output '${graph.output}' is not a node of the graph`);
  const last = graph.nodes.find((n) => n.name === graph.output);
  const classes = last?.op === 'dense' ? last.outFeatures : graph.numClasses;
  const proto = create(ModelProtoSchema, {
    irVersion: BigInt(ONNX_IR_VERSION),
    opsetImport: [{ domain: '', version: BigInt(ONNX_OPSET) }],
    producerName: 'lrpet-playground',
    producerVersion: '0.1.0',
    modelVersion: 1n,
    docString: 'LRPET Playground model, inference only (BatchNorm folded into the convolutions). Input: NCHW 3×32×32, per-channel normalised (CIFAR-10 mean/std); output: logits.',
    graph: {
      name: graph.name,
      node: nodes,
      initializer,
      input: [valueInfo('input', [ONNX_BATCH, graph.inputChannels, graph.inputSize, graph.inputSize])],
      output: [valueInfo('logits', [ONNX_BATCH, classes])],
    },
    metadataProps: Object.entries({ model: graph.name, ...meta }).map(([key, value]) => ({ key, value })),
  });
  return toBinary(ModelProtoSchema, proto);
}
