/**
 * The engine's models as PyTorch state_dicts with the official code's names and layouts, so that
 * `model.load_state_dict(tensors, strict=True)` works on the authors' module definitions:
 *
 * - CIFAR ResNet: `conv1`, `bn1`, `layer{1..3}.{i}.conv{1,2}`, `layer{1..3}.{i}.bn{1,2}`, `linear`.
 * - VGG-16-BN: `features.{k}` (nn.Sequential of [Conv2d, BatchNorm2d, ReLU] per conv and a MaxPool2d
 *   per 'M', so convs at 0, 3, 7, 10, …, BN at k + 1) and `classifier`.
 * - Conv weights OIHW (the engine keeps HWIO), linear weights [out, in] (engine [in, out]); BatchNorm
 *   as `weight` (γ), `bias` (β), `running_mean`, `running_var` and `num_batches_tracked` (int64 scalar,
 *   part of every BatchNorm2d state_dict; the engine does not use it).
 * - The compact model: a split layer `P` becomes `P.C` (the k×k conv to r channels, no bias) and `P.N`
 *   (the 1×1 conv r → O, with the original bias), i.e. an nn.Sequential with children C and N in place of
 *   the original conv, as the authors' compact model builds it (lrpet-torch/lrpet_torch/compact.py loads
 *   it). A split dense layer likewise (`linear.C`, `linear.N`). Files written before these names (`P.0`,
 *   `P.1`) are still read (readCompactStateDict).
 *
 * The small test variants (resnet8-tiny, resnet14-narrow, vgg-tiny) follow the same scheme.
 */
import { MODEL_NAMES, type ModelName } from '../config';
import { buildModel } from '../models/builders';
import { weightNodes, type ModelGraph, type WeightNode } from '../models/graph';
import { basisName, compactGraph, type CompactLayer } from '../models/split';
import { elementCount, isFloatDtype, isIntegerDtype, toFloat32, type SafetensorsFile, type TensorInput } from './safetensors';

export class WeightsError extends Error {
  override name = 'WeightsError';
}

/** One tensor of the PyTorch state_dict and where its values live in the engine. */
export interface TorchTensor {
  /** state_dict name, e.g. `layer1.0.conv1.weight`. */
  name: string;
  /** The engine's key (as in checkpoints: `stage1/block1/conv1/kernel`); null for `num_batches_tracked`. */
  key: string | null;
  /** PyTorch shape (OIHW, [out, in], [C] or [] for the counter). */
  shape: number[];
  /** The engine's shape of the same values (HWIO, [in, out], [C]). */
  engineShape: number[];
  layout: 'conv' | 'linear' | 'vector' | 'counter';
}

/** Metadata written into every exported file (safetensors metadata values are strings). */
export interface WeightsMetadata {
  model: string;
  /** 'dense': the dense/projected model (official module layout); 'compact': split layers. */
  variant: 'dense' | 'compact';
}

const RESNET_LAYER = /^stage(\d+)\/block(\d+)\/(conv|bn)(\d+)$/;

/** The children of a split layer's nn.Sequential: the official names, and those of files written before them. */
export const SPLIT_HALVES = ['C', 'N'] as const;
const LEGACY_HALVES = ['0', '1'] as const;

/** The PyTorch module path of every conv, dense and BN node of a (dense or compact) engine graph. */
export function modulePaths(graph: ModelGraph): Map<string, string> {
  const paths = new Map<string, string>();
  const isResNet = graph.nodes.some((n) => n.name === 'stem/conv');
  const isMix = (n: WeightNode) => n.input === basisName(n.name);
  const baseName = (name: string) => (name.endsWith('/basis') ? name.slice(0, -'/basis'.length) : name);
  const splitSuffix = (n: WeightNode) => (n.name.endsWith('/basis') ? `.${SPLIT_HALVES[0]}` : isMix(n) ? `.${SPLIT_HALVES[1]}` : '');
  if (isResNet) {
    const resnetPath = (name: string): string => {
      if (name === 'stem/conv') return 'conv1';
      if (name === 'stem/bn') return 'bn1';
      if (name === 'fc') return 'linear';
      const m = RESNET_LAYER.exec(name);
      if (!m) throw new WeightsError(`no PyTorch name for layer '${name}' of ${graph.name}`);
      return `layer${m[1]}.${Number(m[2]) - 1}.${m[3]}${m[4]}`;
    };
    for (const node of graph.nodes) {
      if (node.op === 'conv' || node.op === 'dense') paths.set(node.name, resnetPath(baseName(node.name)) + splitSuffix(node));
      else if (node.op === 'bn') paths.set(node.name, resnetPath(node.name));
    }
    return paths;
  }
  // VGG: every conv, BN, ReLU and max pool takes one index of `features`; the two halves of a split conv share their conv's.
  let index = 0;
  for (const node of graph.nodes) {
    switch (node.op) {
      case 'conv':
        paths.set(node.name, `features.${index}${splitSuffix(node)}`);
        if (!node.name.endsWith('/basis')) index++;
        break;
      case 'bn':
      case 'relu':
      case 'maxpool':
        if (node.op === 'bn') paths.set(node.name, `features.${index}`);
        index++;
        break;
      case 'dense':
        paths.set(node.name, `classifier${splitSuffix(node)}`);
        break;
      case 'gap':
        break;
      default:
        throw new WeightsError(`no PyTorch layout for a '${node.op}' node in ${graph.name}`);
    }
  }
  return paths;
}

/** Every tensor of the graph's PyTorch state_dict, in state_dict order. */
export function torchLayout(graph: ModelGraph): TorchTensor[] {
  const paths = modulePaths(graph);
  const out: TorchTensor[] = [];
  for (const node of graph.nodes) {
    const p = paths.get(node.name);
    if (node.op === 'conv') {
      const { kernel: k, inChannels: i, outChannels: o } = node;
      out.push({ name: `${p}.weight`, key: `${node.name}/kernel`, shape: [o, i, k, k], engineShape: [k, k, i, o], layout: 'conv' });
      if (node.bias) out.push({ name: `${p}.bias`, key: `${node.name}/bias`, shape: [o], engineShape: [o], layout: 'vector' });
    } else if (node.op === 'dense') {
      out.push({ name: `${p}.weight`, key: `${node.name}/kernel`, shape: [node.outFeatures, node.inFeatures], engineShape: [node.inFeatures, node.outFeatures], layout: 'linear' });
      if (node.bias !== false) out.push({ name: `${p}.bias`, key: `${node.name}/bias`, shape: [node.outFeatures], engineShape: [node.outFeatures], layout: 'vector' });
    } else if (node.op === 'bn') {
      const c = [node.channels];
      out.push(
        { name: `${p}.weight`, key: `${node.name}/gamma`, shape: c, engineShape: c, layout: 'vector' },
        { name: `${p}.bias`, key: `${node.name}/beta`, shape: c, engineShape: c, layout: 'vector' },
        { name: `${p}.running_mean`, key: `${node.name}/moving_mean`, shape: c, engineShape: c, layout: 'vector' },
        { name: `${p}.running_var`, key: `${node.name}/moving_variance`, shape: c, engineShape: c, layout: 'vector' },
        { name: `${p}.num_batches_tracked`, key: null, shape: [], engineShape: [], layout: 'counter' },
      );
    }
  }
  return out;
}

/** Engine layout → PyTorch layout (HWIO → OIHW, [in, out] → [out, in]). */
export function toTorchOrder(t: TorchTensor, values: Float32Array): Float32Array {
  if (t.layout === 'conv') {
    const [o, i, k] = t.shape;
    const out = new Float32Array(values.length);
    for (let h = 0; h < k; h++)
      for (let w = 0; w < k; w++)
        for (let c = 0; c < i; c++)
          for (let f = 0; f < o; f++) out[((f * i + c) * k + h) * k + w] = values[((h * k + w) * i + c) * o + f];
    return out;
  }
  if (t.layout === 'linear') return transpose(values, t.engineShape[0], t.engineShape[1]);
  return values;
}

/** PyTorch layout → engine layout. */
export function fromTorchOrder(t: TorchTensor, values: Float32Array): Float32Array {
  if (t.layout === 'conv') {
    const [o, i, k] = t.shape;
    const out = new Float32Array(values.length);
    for (let f = 0; f < o; f++)
      for (let c = 0; c < i; c++)
        for (let h = 0; h < k; h++)
          for (let w = 0; w < k; w++) out[((h * k + w) * i + c) * o + f] = values[((f * i + c) * k + h) * k + w];
    return out;
  }
  if (t.layout === 'linear') return transpose(values, t.shape[0], t.shape[1]);
  return values;
}

/** rows × cols → cols × rows. */
function transpose(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c];
  return out;
}

/**
 * The tensors of a state_dict file for the graph, from the engine's values by key (engine layout).
 * `numBatchesTracked` fills every BN's counter (the number of training steps taken).
 */
export function stateDictTensors(graph: ModelGraph, values: Map<string, Float32Array>, numBatchesTracked: number): TensorInput[] {
  return torchLayout(graph).map((t): TensorInput => {
    if (t.key === null) return { name: t.name, dtype: 'I64', shape: [], data: new BigInt64Array([BigInt(Math.max(0, Math.floor(numBatchesTracked)))]) };
    const v = values.get(t.key);
    if (!v) throw new WeightsError(`no values for ${t.key}`);
    if (v.length !== elementCount(t.engineShape)) throw new WeightsError(`${t.key} has ${v.length} values, [${t.engineShape.join(', ')}] expected`);
    return { name: t.name, dtype: 'F32', shape: t.shape, data: toTorchOrder(t, v) };
  });
}

export function metadataFor(meta: WeightsMetadata): Record<string, string> {
  return { format: 'pt', 'lrpet.model': meta.model, 'lrpet.variant': meta.variant };
}

/** A half of a split layer: `conv1.C.weight`, `layer2.1.conv2.N.weight`, `features.3.C.weight`, `linear.N.weight` (or `.0`/`.1`, the names before). */
const SPLIT_NAME = /(^|\.)(conv\d+|linear|classifier|features\.\d+)\.[CN01]\.weight$/;

const listOf = (names: string[], max = 4) => names.slice(0, max).join(', ') + (names.length > max ? ` and ${names.length - max} more` : '');
const shapeText = (s: number[]) => `[${s.join(', ')}]`;

/** Which known dense model, if any, has exactly these tensor names and shapes (for error messages). */
function guessModel(file: SafetensorsFile): ModelName | null {
  const have = new Map(file.tensors.map((t) => [t.name, shapeText(t.shape)]));
  for (const name of MODEL_NAMES) {
    const layout = torchLayout(buildModel(name));
    if (layout.length === have.size && layout.every((t) => have.get(t.name) === shapeText(t.shape))) return name;
  }
  return null;
}

/**
 * Reads a state_dict file for `graph` (the dense model of `model`): every tensor must be there with
 * its PyTorch shape, a floating-point dtype (F32, or F64/F16/BF16, converted to float32) and finite
 * values; `num_batches_tracked` an integer scalar, or absent (training does not use it); no other tensors. Returns the engine's values by
 * key, in engine layout. Throws one WeightsError listing what is wrong.
 */
export function readStateDict(graph: ModelGraph, model: string, file: SafetensorsFile, variant: 'dense' | 'compact' = 'dense'): Map<string, Float32Array> {
  const layout = torchLayout(graph);
  const byName = new Map(file.tensors.map((t) => [t.name, t]));
  const expected = new Set(layout.map((t) => t.name));
  const problems: string[] = [];
  // The BN counters are not used by training, and many saved checkpoints drop them.
  const missing = layout.filter((t) => !byName.has(t.name) && t.layout !== 'counter').map((t) => t.name);
  const unexpected = file.tensors.filter((t) => !expected.has(t.name)).map((t) => t.name);
  if (missing.length || unexpected.length) {
    const declared = file.metadata['lrpet.model'];
    const guess = guessModel(file);
    if (variant === 'dense' && (file.metadata['lrpet.variant'] === 'compact' || unexpected.some((n) => SPLIT_NAME.test(n)))) {
      problems.push(`this is a compact (split) model's file${declared ? ` of ${declared}` : ''}; start from a dense model's weights (e.g. projected.safetensors) of ${model}`);
    } else if (guess && guess !== model) {
      problems.push(`these are ${guess}'s weights, not ${model}'s: pick ${guess} as the model, or a file of ${model}`);
    } else if (declared && declared !== model) {
      problems.push(`the file says it holds ${declared}'s weights, not ${model}'s`);
    }
    if (missing.length) problems.push(`missing ${missing.length} of ${layout.length} tensors ${model} needs: ${listOf(missing)}`);
    if (unexpected.length) problems.push(`${unexpected.length} tensor${unexpected.length > 1 ? 's' : ''} ${model} does not have: ${listOf(unexpected)}`);
  }
  const values = new Map<string, Float32Array>();
  const badShape: string[] = [];
  const badDtype: string[] = [];
  const notFinite: string[] = [];
  for (const t of layout) {
    const entry = byName.get(t.name);
    if (!entry) continue;
    if (shapeText(entry.shape) !== shapeText(t.shape)) {
      badShape.push(`${t.name} is ${shapeText(entry.shape)}, ${model} needs ${shapeText(t.shape)}`);
      continue;
    }
    if (t.key === null) {
      if (!isIntegerDtype(entry.dtype)) badDtype.push(`${t.name} is ${entry.dtype} (an integer counter, I64, expected)`);
      continue;
    }
    if (!isFloatDtype(entry.dtype)) {
      badDtype.push(`${t.name} is ${entry.dtype} (F32 expected; F64, F16 and BF16 are converted)`);
      continue;
    }
    const v = toFloat32(entry);
    let bad = -1;
    for (let i = 0; i < v.length; i++) {
      if (!Number.isFinite(v[i]) || (t.name.endsWith('.running_var') && v[i] < 0)) {
        bad = i;
        break;
      }
    }
    if (bad >= 0) {
      notFinite.push(`${t.name}[${bad}] = ${v[bad]}${t.name.endsWith('.running_var') ? ' (a variance must be finite and ≥ 0)' : ''}`);
      continue;
    }
    values.set(t.key, fromTorchOrder(t, v));
  }
  if (badShape.length) problems.push(`${badShape.length} tensor${badShape.length > 1 ? 's have' : ' has'} the wrong shape: ${listOf(badShape, 3)}`);
  if (badDtype.length) problems.push(`${badDtype.length} tensor${badDtype.length > 1 ? 's have' : ' has'} the wrong dtype: ${listOf(badDtype, 3)}`);
  if (notFinite.length) problems.push(`${notFinite.length} tensor${notFinite.length > 1 ? 's hold' : ' holds'} invalid values: ${listOf(notFinite, 3)}`);
  if (problems.length) throw new WeightsError(`these weights do not fit ${model}: ${problems.join('; ')}`);
  return values;
}

/**
 * A compact model's state_dict file (compact.safetensors of the engine or of the PyTorch trainer) for `model`:
 * its split layers and ranks read from the shapes of `<layer>.C.weight` (or `<layer>.0.weight` in files
 * written before the official names), the compact graph, and its values by engine key. A layer whose
 * factors are all zero is reported as zero (its output is its bias). Throws a WeightsError saying what is wrong.
 */
export function readCompactStateDict(model: ModelName, file: SafetensorsFile): { graph: ModelGraph; layers: CompactLayer[]; values: Map<string, Float32Array> } {
  const dense = buildModel(model);
  const paths = modulePaths(dense);
  const byName = new Map(file.tensors.map((t) => [t.name, t]));
  const legacy = file.tensors.some((t) => [...paths.values()].some((p) => t.name === `${p}.${LEGACY_HALVES[0]}.weight`));
  const halves = legacy ? LEGACY_HALVES : SPLIT_HALVES;
  const renamed = new Map<string, string>();
  const layers: CompactLayer[] = [];
  for (const node of weightNodes(dense)) {
    const p = paths.get(node.name)!;
    const first = byName.get(`${p}.${halves[0]}.weight`);
    if (!first) {
      layers.push({ name: node.name, rank: 0, split: false, zero: false });
      continue;
    }
    const rank = first.shape[0];
    if (!Number.isInteger(rank) || rank < 1) throw new WeightsError(`these weights do not fit ${model}'s compact model: ${first.name} has shape [${first.shape.join(', ')}]`);
    const zero = [first, byName.get(`${p}.${halves[1]}.weight`)].every((t) => t && (isFloatDtype(t.dtype) ? toFloat32(t).every((x) => x === 0) : false));
    layers.push({ name: node.name, rank, split: true, zero });
    halves.forEach((h, i) => {
      for (const kind of ['weight', 'bias']) renamed.set(`${p}.${h}.${kind}`, `${p}.${SPLIT_HALVES[i]}.${kind}`);
    });
  }
  const graph = compactGraph(dense, layers);
  const official: SafetensorsFile = { ...file, tensors: file.tensors.map((t) => ({ ...t, name: renamed.get(t.name) ?? t.name })) };
  const values = readStateDict(graph, `${model}'s compact model`, official, 'compact');
  return { graph, layers: layers.filter((l) => l.split), values };
}
