import { describe, expect, it } from 'vitest';
import { buildModel } from '../models/builders';
import { compactGraph, plannedCompactLayers } from '../models/split';
import { planModel } from '../plan';
import { modelFromSafetensors } from './model-files';
import { decodeModelWeights } from './model-weights';
import { stateDictTensors, torchLayout, WeightsError } from './pytorch-layout';
import { encodeSafetensors, type TensorInput } from './safetensors';

/** Values for every tensor of a graph's state_dict (engine keys), distinct enough to catch a mix-up. */
function values(graph: ReturnType<typeof buildModel>): Map<string, Float32Array> {
  return new Map(torchLayout(graph).filter((t) => t.key).map((t, j) => [t.key!, Float32Array.from({ length: t.shape.reduce((a, b) => a * b, 1) }, (_, i) => ((i + j) % 11) / 11 + 0.05)]));
}

const plan = planModel('resnet8-tiny', { prune: 0.5, target: null, rankOverrides: {}, rankFloors: false, projectDense: false });
const compact = compactGraph(plan.graph, plannedCompactLayers(plan.layers));
const compactValues = values(compact);
const meta = { format: 'pt', 'lrpet.model': 'resnet8-tiny', 'lrpet.variant': 'compact' };
const compactFile = (rename: (name: string) => string = (n) => n, change: (t: TensorInput[]) => TensorInput[] = (t) => t, m: Record<string, string> = meta) =>
  encodeSafetensors(change(stateDictTensors(compact, compactValues, 3).map((t) => ({ ...t, name: rename(t.name) }))), m);

describe('a run’s state_dict files', () => {
  it('a dense state_dict without the BatchNorm counters (num_batches_tracked) is accepted', () => {
    const graph = buildModel('resnet8-tiny');
    const v = values(graph);
    const bytes = encodeSafetensors(stateDictTensors(graph, v, 0).filter((t) => !t.name.endsWith('num_batches_tracked')));
    const back = decodeModelWeights(bytes, graph, 'resnet8-tiny');
    for (const [k, x] of v) expect(back.get(k), k).toEqual(x);
  });

  it('a compact file with the official names reads back as the compact graph and its values, ranks from the shapes', () => {
    const m = modelFromSafetensors(compactFile(), 'compact', 'compact.safetensors');
    expect(m.model).toBe('resnet8-tiny');
    expect(m.split.map((l) => [l.name, l.rank])).toEqual(plan.layers.filter((l) => l.projected && !l.keptDense).map((l) => [l.name, l.rank]));
    expect(m.graph.nodes.map((n) => n.name)).toEqual(compact.nodes.map((n) => n.name));
    for (const [k, x] of compactValues) expect(m.values.get(k), k).toEqual(x);
  });

  it('a compact file with the names before the official ones (.0/.1) reads the same', () => {
    const legacy = compactFile((n) => n.replace('.C.', '.0.').replace('.N.', '.1.'));
    const m = modelFromSafetensors(legacy, 'compact', 'old.safetensors');
    for (const [k, x] of compactValues) expect(m.values.get(k), k).toEqual(x);
  });

  it('a layer whose factors are all zero is a zero layer', () => {
    const zeroed = compactFile(undefined, (ts) => ts.map((t) => (t.name.startsWith('layer2.0.conv1.') ? { ...t, data: new Float32Array(t.data.length) } : t)));
    const m = modelFromSafetensors(zeroed, 'compact', 'zero.safetensors');
    expect(m.split.find((l) => l.name === 'stage2/block1/conv1')?.zero).toBe(true);
    expect(m.split.filter((l) => l.zero)).toHaveLength(1);
  });

  it.each([
    ['a file that names no model', () => compactFile(undefined, undefined, { format: 'pt' }), 'compact', /does not say which model it holds/],
    ['a dense file asked for as compact', () => compactFile(undefined, undefined, { ...meta, 'lrpet.variant': 'dense' }), 'compact', /is a dense model's file, not a compact one/],
    ['a compact file asked for as dense', () => compactFile(), 'dense', /is a compact model's file, not a dense one/],
    ['a misshapen half', () => compactFile(undefined, (ts) => ts.map((t) => (t.name === 'conv1.N.weight' ? { ...t, shape: [8, 5, 1, 1], data: new Float32Array(40) } : t))), 'compact', /conv1\.N\.weight is \[8, 5, 1, 1\]/],
    ['an unknown model', () => compactFile(undefined, undefined, { ...meta, 'lrpet.model': 'resnet1000' }), 'compact', /holds 'resnet1000', not one of the models here/],
  ] as const)('refuses %s with a message', (_what, make, variant, message) => {
    expect(() => modelFromSafetensors(make(), variant, 'f.safetensors')).toThrow(WeightsError);
    expect(() => modelFromSafetensors(make(), variant, 'f.safetensors')).toThrow(message);
  });
});
