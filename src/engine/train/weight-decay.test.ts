import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseRunConfig } from '../config';
import { buildModel } from '../models/builders';
import { initParams, trainableVariables, type ModelParams } from '../models/params';
import { Rng } from '../rng';
import { createTrainedModel, disposeTrainedModel, type WeightDecayScope } from './trained-model';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const LR = 0.1;
const WD = 1e-4;
const MOMENTUM = 0.9;

/** vgg-tiny (conv biases, BN, a dense layer with bias) with every trainable value random and non-zero. */
function params(seed: number): ModelParams {
  const p = initParams(tf, buildModel('vgg-tiny'), seed);
  const rng = new Rng(seed + 1);
  for (const v of trainableVariables(p)) {
    const t = tf.tensor(Float32Array.from({ length: v.size }, () => 0.5 + rng.next()), v.shape);
    v.assign(t);
    t.dispose();
  }
  return p;
}

/** One step from fresh optimiser state on `scope`; returns every trainable value before and after, by key, and the gradients. */
function oneStep(scope: WeightDecayScope) {
  const p = params(7);
  const model = createTrainedModel(tf, buildModel('vgg-tiny'), p, null, scope);
  const rng = new Rng(3);
  const keyed: [string, tf.Variable][] = [];
  for (const [name, w] of p.weights) keyed.push([`${name}/kernel`, w.kernel], ...(w.bias ? [[`${name}/bias`, w.bias] as [string, tf.Variable]] : []));
  for (const [name, b] of p.bn) keyed.push([`${name}/gamma`, b.gamma], [`${name}/beta`, b.beta]);
  const before = new Map(keyed.map(([k, v]) => [k, Float64Array.from(v.dataSync())]));
  const gradValues = new Map(keyed.map(([k, v]) => [k, Float32Array.from({ length: v.size }, () => rng.normal() * 0.01)]));
  const grads = Object.fromEntries(keyed.map(([k, v]) => [v.name, tf.tensor(gradValues.get(k)!, v.shape)]));
  model.sgd.apply(grads, LR, MOMENTUM, WD);
  const after = new Map(keyed.map(([k, v]) => [k, Float64Array.from(v.dataSync())]));
  tf.dispose(Object.values(grads));
  disposeTrainedModel(model);
  return { before, after, grads: gradValues };
}

describe('weight decay scope', () => {
  it("'all' is the default (the official optim.SGD(model.parameters(), …, weight_decay=1e-4))", () => {
    expect(parseRunConfig({}).weightDecayScope).toBe('all');
  });

  it("one step: 'all' moves γ, β and biases by exactly lr·wd·value more than 'kernels'; kernels the same in both (hand computation)", () => {
    const all = oneStep('all');
    const kernels = oneStep('kernels');
    const kinds = new Set<string>();
    for (const [key, w] of all.before) {
      const g = all.grads.get(key)!;
      const kind = key.slice(key.lastIndexOf('/') + 1);
      kinds.add(kind);
      const decayedInKernelsScope = kind === 'kernel';
      for (let i = 0; i < w.length; i++) {
        // First step from zero momentum: v = g + wd·w, w' = w − lr·v (PyTorch's SGD), in float64.
        const withDecay = w[i] - LR * (g[i] + WD * w[i]);
        const without = w[i] - LR * g[i];
        // float32 storage: values ~1, so half an ulp is 6e-8.
        expect(all.after.get(key)![i], key).toBeCloseTo(withDecay, 6);
        expect(kernels.after.get(key)![i], key).toBeCloseTo(decayedInKernelsScope ? withDecay : without, 6);
      }
      if (!decayedInKernelsScope) {
        // The difference itself: lr·wd·w ≈ 1e-5·w, measured in float32 to about 1e-7.
        const diff = kernels.after.get(key)!.map((v, i) => v - all.after.get(key)![i]);
        diff.forEach((d, i) => expect(Math.abs(d - LR * WD * w[i]), key).toBeLessThan(2.5e-7));
      } else {
        expect(Array.from(all.after.get(key)!)).toEqual(Array.from(kernels.after.get(key)!));
      }
    }
    expect(kinds).toEqual(new Set(['kernel', 'bias', 'gamma', 'beta']));
  });
});
