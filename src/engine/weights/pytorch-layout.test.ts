import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../models/builders';
import { initParams, disposeParams } from '../models/params';
import { compactGraph, plannedCompactLayers } from '../models/split';
import { planModel } from '../plan';
import { decodeModelWeights, exportSafetensors, readWeightValues } from './model-weights';
import { fromTorchOrder, modulePaths, stateDictTensors, toTorchOrder, torchLayout, type TorchTensor } from './pytorch-layout';
import { decodeSafetensors, encodeSafetensors, type TensorInput } from './safetensors';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const names = (g: ReturnType<typeof buildModel>) => torchLayout(g).map((t) => `${t.name} [${t.shape.join(',')}]`);

describe('PyTorch names and layouts', () => {
  it('ResNet-20: the official CIFAR ResNet state_dict', () => {
    const layout = names(buildModel('resnet20'));
    expect(layout).toHaveLength(19 + 19 * 5 + 2);
    expect(layout.slice(0, 6)).toEqual(['conv1.weight [16,3,3,3]', 'bn1.weight [16]', 'bn1.bias [16]', 'bn1.running_mean [16]', 'bn1.running_var [16]', 'bn1.num_batches_tracked []']);
    expect(layout).toContain('layer1.0.conv1.weight [16,16,3,3]');
    expect(layout).toContain('layer2.0.conv1.weight [32,16,3,3]');
    expect(layout).toContain('layer3.2.bn2.running_var [64]');
    expect(layout.slice(-2)).toEqual(['linear.weight [10,64]', 'linear.bias [10]']);
  });

  it('VGG-16-BN: features.{k} with convs at 0, 3, 7, 10, 14, 17, 20, 24, 27, 30, 34, 37, 40 and BN at k + 1, then classifier', () => {
    const layout = torchLayout(buildModel('vgg16'));
    const convs = layout.filter((t) => t.layout === 'conv').map((t) => t.name);
    expect(convs).toEqual([0, 3, 7, 10, 14, 17, 20, 24, 27, 30, 34, 37, 40].map((k) => `features.${k}.weight`));
    expect(layout.filter((t) => t.name.endsWith('.running_var')).map((t) => t.name)).toEqual([1, 4, 8, 11, 15, 18, 21, 25, 28, 31, 35, 38, 41].map((k) => `features.${k}.running_var`));
    expect(names(buildModel('vgg16'))).toContain('features.0.bias [64]');
    expect(names(buildModel('vgg16')).slice(-2)).toEqual(['classifier.weight [10,512]', 'classifier.bias [10]']);
  });

  it('compact models: a split layer P becomes P.C (k×k to r) and P.N (1×1 back, with the bias), the authors’ names', () => {
    const plan = planModel('resnet8-tiny', { prune: 0.5, target: null, rankOverrides: {}, rankFloors: false, projectDense: true });
    const layout = names(compactGraph(plan.graph, plannedCompactLayers(plan.layers)));
    expect(layout).toContain('conv1.C.weight [4,3,3,3]');
    expect(layout).toContain('conv1.N.weight [8,4,1,1]');
    expect(layout).toContain('layer3.0.conv2.C.weight [16,32,3,3]');
    expect(layout).toContain('layer3.0.conv2.N.weight [32,16,1,1]');
    expect(layout).toContain('layer3.0.bn2.weight [32]');
    expect(layout.slice(-3)).toEqual(['linear.C.weight [5,32]', 'linear.N.weight [10,5]', 'linear.N.bias [10]']);
    const vgg = planModel('vgg-tiny', { prune: 0.5, target: null, rankOverrides: {}, rankFloors: false, projectDense: false });
    const v = names(compactGraph(vgg.graph, plannedCompactLayers(vgg.layers)));
    expect(v.slice(0, 4)).toEqual(['features.0.C.weight [8,3,3,3]', 'features.0.N.weight [16,8,1,1]', 'features.0.N.bias [16]', 'features.1.weight [16]']);
    expect(v).toContain('features.4.C.weight [16,16,3,3]');
    expect(v).toContain('features.8.N.bias [64]');
  });

  it('every layer of every model has a name, and no two share one', () => {
    for (const model of ['resnet20', 'resnet110', 'vgg16', 'resnet8-tiny', 'resnet14-narrow', 'vgg-tiny'] as const) {
      const layout = torchLayout(buildModel(model));
      expect(new Set(layout.map((t) => t.name)).size).toBe(layout.length);
      expect(modulePaths(buildModel(model)).size).toBe(buildModel(model).nodes.filter((n) => n.op === 'conv' || n.op === 'dense' || n.op === 'bn').length);
    }
  });

  it('HWIO ↔ OIHW and [in, out] ↔ [out, in]', () => {
    const conv: TorchTensor = { name: 'c', key: 'c', shape: [4, 2, 3, 3], engineShape: [3, 3, 2, 4], layout: 'conv' };
    const hwio = Float32Array.from({ length: 72 }, (_, i) => i);
    const oihw = toTorchOrder(conv, hwio);
    // element [o=3, i=1, h=2, w=0] sits at ((h·3 + w)·2 + i)·4 + o in HWIO
    expect(oihw[((3 * 2 + 1) * 3 + 2) * 3 + 0]).toBe(hwio[((2 * 3 + 0) * 2 + 1) * 4 + 3]);
    expect(Array.from(fromTorchOrder(conv, oihw))).toEqual(Array.from(hwio));
    const lin: TorchTensor = { name: 'l', key: 'l', shape: [3, 2], engineShape: [2, 3], layout: 'linear' };
    expect(Array.from(toTorchOrder(lin, Float32Array.from([1, 2, 3, 4, 5, 6])))).toEqual([1, 4, 2, 5, 3, 6]);
    expect(Array.from(fromTorchOrder(lin, Float32Array.from([1, 4, 2, 5, 3, 6])))).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe('weights files', () => {
  it('export → import gives back every value, and the file names the model', async () => {
    const graph = buildModel('vgg-tiny');
    const params = initParams(tf, graph, 3);
    const bytes = await exportSafetensors(graph, params, { model: 'vgg-tiny', variant: 'dense' }, 42);
    const file = decodeSafetensors(bytes);
    expect(file.metadata).toEqual({ format: 'pt', 'lrpet.model': 'vgg-tiny', 'lrpet.variant': 'dense' });
    expect(file.tensors.find((t) => t.name === 'features.1.num_batches_tracked')).toMatchObject({ dtype: 'I64', shape: [] });
    const back = decodeModelWeights(bytes, graph, 'vgg-tiny');
    const orig = await readWeightValues(params);
    expect([...back.keys()].sort()).toEqual([...orig.keys()].sort());
    for (const [k, v] of orig) expect(back.get(k), k).toEqual(v);
    disposeParams(params);
  });

  /** A valid resnet8-tiny file, optionally changed tensor by tensor. */
  function resnetFile(change: (t: TensorInput[]) => TensorInput[] = (t) => t, meta: Record<string, string> = {}): Uint8Array {
    const graph = buildModel('resnet8-tiny');
    const values = new Map(torchLayout(graph).filter((t) => t.key).map((t) => [t.key!, Float32Array.from({ length: t.shape.reduce((a, b) => a * b, 1) }, (_, i) => (i % 7) / 7 + 0.1)]));
    return encodeSafetensors(change(stateDictTensors(graph, values, 0)), meta);
  }
  const graph = buildModel('resnet8-tiny');
  const read = (bytes: Uint8Array) => decodeModelWeights(bytes, graph, 'resnet8-tiny');

  it('accepts F64, F16 and BF16 weights (converted) and any integer counter', () => {
    const bytes = resnetFile((ts) =>
      ts.map((t) => (t.name === 'conv1.weight' ? { ...t, dtype: 'F64', data: Float64Array.from(t.data as Float32Array) } : t.name.endsWith('num_batches_tracked') ? { ...t, dtype: 'I32', data: Int32Array.from([5]) } : t)),
    );
    expect(read(bytes).get('stem/conv/kernel')).toHaveLength(8 * 27);
  });

  it.each([
    ['a missing tensor', () => resnetFile((ts) => ts.filter((t) => t.name !== 'layer2.0.bn1.running_var')), /missing 1 of 44 tensors resnet8-tiny needs: layer2.0.bn1.running_var/],
    ['an extra tensor', () => resnetFile((ts) => [...ts, { name: 'fc.weight', dtype: 'F32', shape: [1], data: new Float32Array(1) }]), /1 tensor resnet8-tiny does not have: fc.weight/],
    ['a wrong shape', () => resnetFile((ts) => ts.map((t) => (t.name === 'linear.weight' ? { ...t, shape: [32, 10], data: t.data } : t))), /linear.weight is \[32, 10\], resnet8-tiny needs \[10, 32\]/],
    ['a wrong dtype', () => resnetFile((ts) => ts.map((t) => (t.name === 'bn1.weight' ? { ...t, dtype: 'I32', data: new Int32Array(8) } : t))), /bn1.weight is I32 \(F32 expected/],
    ['a float counter', () => resnetFile((ts) => ts.map((t) => (t.name === 'bn1.num_batches_tracked' ? { ...t, dtype: 'F32', data: new Float32Array(1) } : t))), /bn1.num_batches_tracked is F32 \(an integer counter/],
    ['NaN', () => resnetFile((ts) => ts.map((t) => (t.name === 'layer1.0.conv2.weight' ? { ...t, data: (t.data as Float32Array).map((x, i) => (i === 5 ? NaN : x)) } : t))), /layer1.0.conv2.weight\[5\] = NaN/],
    ['a negative variance', () => resnetFile((ts) => ts.map((t) => (t.name === 'bn1.running_var' ? { ...t, data: Float32Array.from([1, 1, -1, 1, 1, 1, 1, 1]) } : t))), /bn1.running_var\[2\] = -1 \(a variance must be finite and ≥ 0\)/],
    ['another model', () => {
      const g = buildModel('resnet14-narrow');
      const values = new Map(torchLayout(g).filter((t) => t.key).map((t) => [t.key!, new Float32Array(t.shape.reduce((a, b) => a * b, 1))]));
      return encodeSafetensors(stateDictTensors(g, values, 0));
    }, /these are resnet14-narrow's weights, not resnet8-tiny's/],
    ['a compact model', () => {
      const plan = planModel('resnet8-tiny', { prune: 0.5, target: null, rankOverrides: {}, rankFloors: false, projectDense: false });
      const g = compactGraph(plan.graph, plannedCompactLayers(plan.layers));
      const values = new Map(torchLayout(g).filter((t) => t.key).map((t) => [t.key!, new Float32Array(t.shape.reduce((a, b) => a * b, 1))]));
      return encodeSafetensors(stateDictTensors(g, values, 0));
    }, /compact \(split\) model's file; start from a dense model's weights/],
    ['a file that is not safetensors', () => new TextEncoder().encode('{"format": "graph-model"}'), /not a valid safetensors file/],
  ])('rejects %s with a clear message', (_what, make, message) => {
    expect(() => read(make())).toThrow(message);
    expect(() => read(make())).toThrow(/^these weights do not fit resnet8-tiny|not a valid safetensors file/);
  });
});
