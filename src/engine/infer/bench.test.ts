import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import '../../worker/zod-setup';
import { InferenceEventSchema } from '../events';
import { exportGraphModel } from '../export/graph-model';
import { graphCosts } from '../models/cost';
import { disposeParams, initParams } from '../models/params';
import { compactGraph, plannedCompactLayers } from '../models/split';
import { planModel } from '../plan';
import type { ExportedModel } from '../run/api';
import { BenchCancelled, benchInference, denseArchitectureModel, inferenceEvent, type InferenceModels } from './bench';
import { graphModelCosts, ModelFileError, splitRanks } from './model-costs';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const lrpet = (prune: number) => ({ prune, target: null, rankOverrides: {}, rankFloors: false, projectDense: false });

async function exported(model: 'resnet8-tiny' | 'vgg-tiny' | 'resnet56', prune: number) {
  const plan = planModel(model, lrpet(prune));
  const compact = compactGraph(plan.graph, plannedCompactLayers(plan.layers));
  const dp = initParams(tf, plan.graph, 1);
  const cp = initParams(tf, compact, 2);
  try {
    return { plan, compactGraph: compact, dense: await exportGraphModel(plan.graph, dp), compact: await exportGraphModel(compact, cp) };
  } finally {
    disposeParams(dp);
    disposeParams(cp);
  }
}

describe('the cost of an exported graph model, from its model.json', () => {
  it.each([
    ['resnet8-tiny', 0.5],
    ['vgg-tiny', 0.6],
    ['resnet56', 0.57],
  ] as const)('equals the graph’s own MACs and parameters (%s, p = %s)', async (model, p) => {
    const m = await exported(model, p);
    expect(graphModelCosts(m.dense.modelJson)).toEqual(graphCosts(m.plan.graph));
    expect(graphModelCosts(m.compact.modelJson)).toEqual(graphCosts(m.compactGraph));
    expect(graphModelCosts(m.compact.modelJson)).toEqual({ macs: m.plan.macsCompact, params: m.plan.paramsCompact });
    // The ranks between the two halves of each split layer, read back from the file.
    expect(splitRanks(m.compact.modelJson)).toEqual(plannedCompactLayers(m.plan.layers).filter((l) => l.split).map((l) => l.rank));
    expect(splitRanks(m.dense.modelJson)).toEqual([]);
  });

  it('says so when the file is not a graph model of this kind', async () => {
    expect(() => graphModelCosts({ format: 'layers-model' })).toThrow(ModelFileError);
    const m = await exported('resnet8-tiny', 0.5);
    const json = structuredClone(m.dense.modelJson) as { weightsManifest: { weights: { name: string }[] }[] };
    json.weightsManifest[0].weights = json.weightsManifest[0].weights.filter((w) => !w.name.endsWith('/kernel'));
    expect(() => graphModelCosts(json)).toThrow(/Conv2D 'stem\/conv': its kernel 'stem\/conv\/kernel' is not a rank-4 weight/);
  });
});

describe('benchInference', () => {
  let models: InferenceModels;
  beforeAll(async () => {
    const m = await exported('resnet8-tiny', 0.5);
    models = { dense: m.dense, compact: m.compact, denseSource: 'projected' };
  });

  it('times both models at each batch size, with statistics that fit together, and leaves no tensor behind', async () => {
    const before = tf.memory().numTensors;
    const progress: number[] = [];
    const body = await benchInference(tf, models, { batches: [1, 4], warmup: 1, iterations: 3, device: 'test', paddedRanks: 'never', onProgress: (p) => progress.push(p.done) });
    expect(tf.memory().numTensors).toBe(before);
    expect(progress).toEqual(Array.from({ length: 2 * 2 * 4 }, (_, i) => i + 1));
    expect(body).toMatchObject({ backend: 'cpu', device: 'test', denseSource: 'projected', warmup: 1, iterations: 3 });
    const plan = planModel('resnet8-tiny', lrpet(0.5));
    expect(body).toMatchObject({ macsDense: plan.macsDense, macsCompact: plan.macsCompact, paramsDense: plan.paramsDense, paramsCompact: plan.paramsCompact });
    expect(body.macRatio).toBeCloseTo(plan.macsDense / plan.macsCompact, 12);
    expect(body.splitRanks).toEqual(plannedCompactLayers(plan.layers).filter((l) => l.split).map((l) => l.rank));
    expect(body.batches.map((b) => b.batch)).toEqual([1, 4]);
    for (const b of body.batches) {
      for (const t of [b.dense, b.compact]) {
        expect(t.samples).toBe(3);
        expect(t.minMs).toBeGreaterThan(0);
        expect(t.minMs).toBeLessThanOrEqual(t.q1Ms);
        expect(t.q1Ms).toBeLessThanOrEqual(t.medianMs);
        expect(t.medianMs).toBeLessThanOrEqual(t.q3Ms);
        expect(t.q3Ms).toBeLessThanOrEqual(t.maxMs);
        expect(t.imagesPerSec).toBeCloseTo((b.batch / t.medianMs) * 1000, 9);
      }
      expect(b.speedup).toBeCloseTo(b.dense.medianMs / b.compact.medianMs, 12);
    }
    // The event goes into a run's log: it validates against its schema after a JSON round trip.
    const event = inferenceEvent(body, 123);
    expect(InferenceEventSchema.parse(JSON.parse(JSON.stringify(event)))).toEqual(event);
  });

  it('uses the clock it is given: each timing is one call, from predict to the logits read back', async () => {
    let t = 0;
    const body = await benchInference(tf, models, { batches: [2], warmup: 0, iterations: 4, paddedRanks: 'never', now: () => (t += 5) });
    // Each call reads the clock twice (start and end): 5 ms apart.
    expect(body.batches[0].dense).toMatchObject({ medianMs: 5, minMs: 5, maxMs: 5 });
    expect(body.batches[0].speedup).toBe(1);
  });

  it('stops between calls when asked, leaving no tensor behind', async () => {
    const before = tf.memory().numTensors;
    let calls = 0;
    await expect(benchInference(tf, models, { batches: [1], warmup: 1, iterations: 5, onProgress: () => calls++, shouldStop: () => calls >= 3 })).rejects.toThrow(BenchCancelled);
    expect(calls).toBe(3);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects bad options before loading anything', async () => {
    const before = tf.memory().numTensors;
    await expect(benchInference(tf, models, { batches: [] })).rejects.toThrow(/at least one batch size/);
    await expect(benchInference(tf, models, { batches: [0] })).rejects.toThrow(/integer from 1 to 1024, got 0/);
    await expect(benchInference(tf, models, { batches: [1.5] })).rejects.toThrow(/got 1.5/);
    await expect(benchInference(tf, models, { iterations: 0 })).rejects.toThrow(/iterations must be an integer ≥ 1/);
    await expect(benchInference(tf, models, { warmup: -1 })).rejects.toThrow(/warm-up/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('times the compact model with ranks padded to multiples of 4 and 8 (same function, more MACs) and names the fastest variant', async () => {
    const before = tf.memory().numTensors;
    let total = 0;
    const body = await benchInference(tf, models, { batches: [1, 2], warmup: 0, iterations: 2, paddedRanks: 'always', onProgress: (p) => (total = p.total) });
    expect(tf.memory().numTensors).toBe(before);
    // Ranks 4/8/16 are multiples of 4 already: only ×8 (8/8/16) is timed, beside dense and compact.
    expect(total).toBe(2 * (2 + 1) * 2);
    const plan = planModel('resnet8-tiny', lrpet(0.5));
    expect(body.paddedRanks!.map((p) => p.multiple)).toEqual([8]);
    for (const p of body.paddedRanks!) {
      const want = plan.layers.filter((l) => l.projected && !l.keptDense).map((l) => Math.min(l.n, Math.ceil(l.rank / p.multiple) * p.multiple));
      expect(p.splitRanks).toEqual(want);
      expect(p.macsCompact).toBeGreaterThan(body.macsCompact);
      expect(p.macRatio).toBeCloseTo(body.macsDense / p.macsCompact, 12);
      expect(p.batches.map((b) => b.batch)).toEqual([1, 2]);
    }
    expect(body.fastest!.map((f) => f.batch)).toEqual([1, 2]);
    for (const f of body.fastest!) {
      const b = body.batches.find((x) => x.batch === f.batch)!;
      const all = [b.compact.medianMs, ...body.paddedRanks!.map((p) => p.batches.find((x) => x.batch === f.batch)!.compact.medianMs)];
      expect(f.medianMs).toBe(Math.min(...all));
    }
    const event = inferenceEvent(body, 1);
    expect(InferenceEventSchema.parse(JSON.parse(JSON.stringify(event)))).toEqual(event);
  });

  it('compares a stored compact model with its dense architecture when the dense model is gone', async () => {
    const before = tf.memory().numTensors;
    const dense: ExportedModel = await denseArchitectureModel(tf, 'resnet8-tiny');
    expect(tf.memory().numTensors).toBe(before);
    expect(graphModelCosts(dense.modelJson)).toEqual(graphCosts(planModel('resnet8-tiny', lrpet(0.5)).graph));
    const body = await benchInference(tf, { ...models, dense, denseSource: 'architecture' }, { batches: [1], warmup: 0, iterations: 1 });
    expect(body.denseSource).toBe('architecture');
    expect(body.macRatio).toBeGreaterThan(1);
    expect(tf.memory().numTensors).toBe(before);
  });
});
