import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportGraphModel } from '../export/graph-model';
import { forward } from '../models/forward';
import { initParams, disposeParams, type ModelParams } from '../models/params';
import { graphCosts } from '../models/cost';
import { planModel } from '../plan';
import { Rng } from '../rng';
import type { ModelName } from '../config';
import { buildCompactModel } from './compact';
import { projectModel } from './project';
import { maxRelDiff } from '../testing/compare';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

/** Non-trivial BN statistics and scales, some channels nearly dead (γ ≈ 0), as after training. */
function randomizeBn(params: ModelParams, rng: Rng) {
  for (const bn of params.bn.values()) {
    const c = bn.gamma.shape[0];
    const r = (f: () => number) => tf.tensor1d(Float32Array.from({ length: c }, f));
    const set = (v: tf.Variable, t: tf.Tensor) => {
      v.assign(t);
      t.dispose();
    };
    set(bn.gamma, r(() => (rng.next() < 0.1 ? 1e-4 : 0.3 + rng.next())));
    set(bn.beta, r(() => rng.normal() * 0.2));
    set(bn.movingMean, r(() => rng.normal() * 0.3));
    set(bn.movingVariance, r(() => 0.2 + rng.next() * 2));
  }
}


describe.each([
  ['resnet8-tiny', false],
  ['vgg-tiny', false],
  ['resnet8-tiny', true],
] as [ModelName, boolean][])('compact model of %s (dense layers projected: %s)', (model, projectDense) => {
  it('computes the same function as the projected dense model and has the planned cost', async () => {
    const plan = planModel(model, { prune: 0.6, target: null, rankOverrides: {}, rankFloors: false, projectDense });
    if (projectDense) expect(plan.layers.find((l) => l.kind === 'dense')).toMatchObject({ projected: true, keptDense: false });
    const params = initParams(tf, plan.graph, 11);
    randomizeBn(params, new Rng(5));
    const before = tf.memory().numTensors;
    const proj = await projectModel(tf, params, plan.layers, () => 1e-5, { energyTransfer: true, beta: 0, bnRectification: true });
    expect(tf.memory().numTensors).toBe(before);
    expect(proj.every((l) => !l.skipped)).toBe(true);
    const compact = await buildCompactModel(tf, plan.graph, params, plan.layers);
    expect(compact.layers.filter((l) => l.split).map((l) => l.name)).toEqual(plan.layers.filter((l) => l.projected && !l.keptDense).map((l) => l.name));
    const cost = graphCosts(compact.graph);
    expect(cost.macs).toBe(plan.macsCompact);
    expect(cost.params).toBe(plan.paramsCompact);

    const x = tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
    const dense = tf.tidy(() => forward(tf, plan.graph, params, x, false));
    const small = tf.tidy(() => forward(tf, compact.graph, compact.params, x, false));
    expect(maxRelDiff(small.dataSync() as Float32Array, dense.dataSync() as Float32Array)).toBeLessThanOrEqual(1e-4);

    // Both export as graph models that tf.loadGraphModel reads and that predict the same logits.
    for (const [g, p, ref] of [
      [plan.graph, params, dense],
      [compact.graph, compact.params, dense],
    ] as const) {
      const exported = await exportGraphModel(g, p);
      const json = exported.modelJson as { modelTopology: object; weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] };
      const loaded = await tf.loadGraphModel(
        tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: exported.weights.slice().buffer, format: 'graph-model' }),
      );
      const out = loaded.predict(x) as tf.Tensor;
      expect(out.shape).toEqual([4, 10]);
      expect(maxRelDiff(out.dataSync() as Float32Array, ref.dataSync() as Float32Array)).toBeLessThanOrEqual(1e-4);
      out.dispose();
      loaded.dispose();
    }
    tf.dispose([x, dense, small]);
    disposeParams(params);
    disposeParams(compact.params);
  });
});

describe('compact model edge cases', () => {
  it('turns a dead layer (σ1 < 1e-5) into a zero split and keeps unhelpful splits dense', async () => {
    const plan = planModel('resnet8-tiny', { prune: 0.5, target: null, rankOverrides: { 'stem/conv': 8 }, rankFloors: false, projectDense: false });
    const params = initParams(tf, plan.graph, 2);
    const w = params.weights.get('stage2/block1/conv2')!;
    w.kernel.assign(tf.zerosLike(w.kernel));
    const compact = await buildCompactModel(tf, plan.graph, params, plan.layers);
    const byName = new Map(compact.layers.map((l) => [l.name, l]));
    expect(byName.get('stage2/block1/conv2')).toMatchObject({ zero: true, split: true, rank: 1 });
    expect(byName.get('stem/conv')).toMatchObject({ split: false });
    disposeParams(params);
    disposeParams(compact.params);
  });
});

/** Logits of the dense and the compact model on the same random batch. */
function logitsOf(graph: Parameters<typeof forward>[1], params: ModelParams, compact: Awaited<ReturnType<typeof buildCompactModel>>) {
  const x = tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
  const dense = tf.tidy(() => forward(tf, graph, params, x, false));
  const small = tf.tidy(() => forward(tf, compact.graph, compact.params, x, false));
  const out = { dense: dense.dataSync() as Float32Array, compact: small.dataSync() as Float32Array };
  tf.dispose([x, dense, small]);
  return out;
}

describe('β > 0: the hard cut before the compact model', () => {
  it.each(['resnet8-tiny', 'vgg-tiny'] as ModelName[])('%s: after a soft projection (β = 0.3) one hard one (β = 0, no energy transfer) makes compact = projected', async (model) => {
    const plan = planModel(model, { prune: 0.6, target: null, rankOverrides: {}, rankFloors: false, projectDense: false });
    const params = initParams(tf, plan.graph, 21);
    randomizeBn(params, new Rng(8));
    const soft = await projectModel(tf, params, plan.layers, () => 1e-5, { energyTransfer: true, beta: 0.3, bnRectification: true });
    expect(soft.every((l) => l.sigmaAfter.slice(l.rank).some((x) => x > 0))).toBe(true);
    // Without the cut the split model is not the function that was trained: the check below can fail.
    const uncut = await buildCompactModel(tf, plan.graph, params, plan.layers);
    const before = logitsOf(plan.graph, params, uncut);
    expect(maxRelDiff(before.compact, before.dense)).toBeGreaterThan(1e-3);
    disposeParams(uncut.params);

    const hard = await projectModel(tf, params, plan.layers, () => 1e-5, { energyTransfer: false, beta: 0, bnRectification: true });
    for (const l of hard) {
      expect(l.alpha).toBe(1);
      expect(l.sigmaAfter.slice(l.rank).every((x) => x === 0), l.name).toBe(true);
      // The kept singular values stay as they were (no energy transfer).
      l.sigmaAfter.slice(0, l.rank).forEach((x, i) => expect(x / l.sigmaBefore[i]).toBeCloseTo(1, 12));
    }
    const compact = await buildCompactModel(tf, plan.graph, params, plan.layers);
    const after = logitsOf(plan.graph, params, compact);
    expect(maxRelDiff(after.compact, after.dense)).toBeLessThanOrEqual(1e-4);
    disposeParams(params);
    disposeParams(compact.params);
  });
});

describe('nothing to cut (p = 0, or a rank override of n)', () => {
  it('a full-rank layer is not projected at all: its weights are bit-unchanged, it is reported skipped with its spectrum', async () => {
    const plan = planModel('resnet8-tiny', { prune: 0, target: null, rankOverrides: {}, rankFloors: false, projectDense: false });
    expect(plan.layers.filter((l) => l.projected).every((l) => l.rank === l.n)).toBe(true);
    const params = initParams(tf, plan.graph, 3);
    randomizeBn(params, new Rng(4)); // γ ≈ 1e-4 on some channels: the round trip a/(a²+1e-5)·a would shrink them
    const kernels = () => new Map([...params.weights].map(([name, w]) => [name, Array.from(w.kernel.dataSync())]));
    const before = kernels();
    const proj = await projectModel(tf, params, plan.layers, () => 1e-5, { energyTransfer: true, beta: 0, bnRectification: true });
    expect(kernels()).toEqual(before);
    for (const l of proj) {
      expect(l, l.name).toMatchObject({ skipped: true, alpha: 1, energyKeptBefore: 1, energyKeptAfter: 1 });
      expect(l.sigmaBefore).toHaveLength(Math.min(...l.shape));
      expect(l.sigmaBefore[0]).toBeGreaterThan(0);
      expect(l.sigmaAfter).toEqual(l.sigmaBefore);
    }
    disposeParams(params);
  });

  it('among cut layers, only the one whose rank is its n is left alone', async () => {
    const plan = planModel('resnet8-tiny', { prune: 0.5, target: null, rankOverrides: { 'stage1/block1/conv1': 8 }, rankFloors: false, projectDense: false });
    const params = initParams(tf, plan.graph, 3);
    randomizeBn(params, new Rng(4));
    const kernels = () => new Map([...params.weights].map(([name, w]) => [name, Array.from(w.kernel.dataSync())]));
    const before = kernels();
    const proj = await projectModel(tf, params, plan.layers, () => 1e-5, { energyTransfer: true, beta: 0, bnRectification: true });
    const after = kernels();
    for (const l of proj) {
      const full = l.name === 'stage1/block1/conv1';
      expect(l.skipped, l.name).toBe(full);
      expect(after.get(l.name)!.every((v, i) => v === before.get(l.name)![i]), l.name).toBe(full);
    }
    disposeParams(params);
  });
});
