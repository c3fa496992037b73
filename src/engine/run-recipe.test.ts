import type * as tfType from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTf } from '../node/webgpu-node';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from './checkpoint';
import type { RunConfigInput } from './config';
import { fillBatch } from './data/batcher';
import type { CompactEvent, EngineEvent, LogEvent, ProjectionEvent, RunStartEvent } from './events';
import { createRun, type ExportedModel } from './run/run';
import { syntheticDataset } from './testing/synthetic';
import { maxRelDiff } from './testing/compare';

// The authors' recipe as the engine runs it (WebGPU through Dawn, synthetic data): weight decay on every
// parameter by default, old checkpoints keeping their scope, the hard cut after soft projections, and
// the BN recalibration before the compact model.
let tf: typeof tfType;
beforeAll(async () => {
  tf = (await loadTf('webgpu')).tf;
}, 120_000);

async function run(config: RunConfigInput, data = syntheticDataset(8, 8), resume?: Checkpoint, stopAfter?: number) {
  const events: EngineEvent[] = [];
  const r = createRun({
    tf,
    data,
    config,
    resume,
    onEvent: (e) => {
      events.push(e);
      if (e.type === 'step' && e.iteration === stopAfter) r.stop();
    },
  });
  const end = await r.start();
  const checkpoint = await r.checkpoint();
  const exported = config.buildCompact === false ? null : await r.exportModels();
  r.dispose();
  const of = <T extends EngineEvent['type']>(type: T) => events.filter((e) => e.type === type) as Extract<EngineEvent, { type: T }>[];
  return { end, events, of, checkpoint, exported, tensors: new Map(checkpoint.tensors.map((t) => [t.key, t.data])) };
}

/** One step of plain SGD, no projections: the weight decay alone tells the runs apart. */
const oneStep: RunConfigInput = { model: 'resnet8-tiny', epochs: 1, batchSize: 8, lr: 0.05, augment: false, buildCompact: false, lrpet: { enabled: false } };

describe('weight decay scope in a run', () => {
  it("by default decays BN γ and the classifier's bias too: one step moves them by lr·wd·value more than scope 'kernels'; kernels alike", async () => {
    const all = await run(oneStep);
    const kernels = await run({ ...oneStep, weightDecayScope: 'kernels' });
    expect((all.of('runStart')[0] as RunStartEvent).config.weightDecayScope).toBe('all');
    const lrWd = 0.05 * 1e-4;
    let bn = 0;
    for (const [key, a] of all.tensors) {
      const k = kernels.tensors.get(key)!;
      if (key.endsWith('/kernel')) expect(Array.from(a), key).toEqual(Array.from(k));
      if (!key.endsWith('/gamma') && !key.endsWith('/beta')) continue;
      // Before the step γ = 1 and β = 0 (initialisation): 'all' ends lr·wd·1 lower on γ, the same on β.
      const before = key.endsWith('/gamma') ? 1 : 0;
      for (let i = 0; i < a.length; i++) expect(Math.abs(k[i] - a[i] - lrWd * before), `${key}[${i}]`).toBeLessThan(2e-7);
      bn++;
    }
    expect(bn).toBe(2 * 7);
    // The fc bias b (32 inputs: drawn uniform in ±1/√32): 'kernels' ends at b − lr·g, 'all' at b − lr·(g + wd·b),
    // so (kernels − all)/(lr·wd) is b itself: within ±1/√32, and within lr·|g| ≤ lr of the result (a softmax
    // cross-entropy bias gradient is at most 1). Each result carries float32 roundings of up to half an ulp
    // (2⁻²⁷ below 0.25): ±4·2⁻²⁷/(lr·wd) ≈ 0.006 on b.
    const slack = (4 * 2 ** -27) / lrWd;
    const fcAll = all.tensors.get('fc/bias')!;
    const fcKernels = kernels.tensors.get('fc/bias')!;
    const implied = Array.from(fcKernels, (v, i) => (v - fcAll[i]) / lrWd);
    implied.forEach((b, i) => {
      expect(Math.abs(b)).toBeLessThan(1 / Math.sqrt(32) + slack);
      expect(Math.abs(b - fcKernels[i])).toBeLessThan(0.05 + slack);
    });
    expect(implied.some((b) => Math.abs(b) > 0.01)).toBe(true);
  }, 120_000);

  it('a checkpoint from before the scope existed resumes with the meaning it had (kernels only), the same as one that says so', async () => {
    const config = { ...oneStep, epochs: 2, lr: 0.05 };
    const first = await run({ ...config, weightDecayScope: 'kernels' }, undefined, undefined, 1);
    expect(first.checkpoint.iteration).toBe(1);
    const stored = encodeCheckpoint(first.checkpoint);
    const old = decodeCheckpoint(stored);
    delete (old.config as Partial<typeof old.config>).weightDecayScope;
    const relabelled = (scope: 'all' | 'kernels'): Checkpoint => ({ ...decodeCheckpoint(stored), config: { ...first.checkpoint.config, weightDecayScope: scope } });
    // Asked for now, a run would decay everything: the checkpoint's own settings win on resume.
    const fromOld = await run(config, undefined, old);
    const fromKernels = await run(config, undefined, relabelled('kernels'));
    const fromAll = await run(config, undefined, relabelled('all'));
    expect(fromOld.of('runStart')[0]).toMatchObject({ resumedFrom: 1, config: { weightDecayScope: 'kernels' } });
    expect(fromOld.checkpoint.iteration).toBe(2);
    for (const [key, v] of fromKernels.tensors) expect(Array.from(fromOld.tensors.get(key)!), key).toEqual(Array.from(v));
    const gamma = 'stem/bn/gamma';
    expect(Array.from(fromAll.tensors.get(gamma)!)).not.toEqual(Array.from(fromKernels.tensors.get(gamma)!));
  }, 180_000);
});

/** Logits of an exported graph model on the first `n` test images. */
async function logits(model: ExportedModel, data: ReturnType<typeof syntheticDataset>, n: number): Promise<Float32Array> {
  const json = model.modelJson as { modelTopology: object; weightsManifest: { weights: tfType.io.WeightsManifestEntry[] }[] };
  const loaded = await tf.loadGraphModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: model.weights.slice().buffer, format: 'graph-model' }),
  );
  const buf = new Float32Array(n * 3072);
  fillBatch(data.test, Array.from({ length: n }, (_, i) => i), buf, null);
  const x = tf.tensor4d(buf, [n, 32, 32, 3]);
  const out = loaded.predict(x) as tfType.Tensor;
  const values = (await out.data()) as Float32Array;
  tf.dispose([x, out]);
  loaded.dispose();
  return values;
}


describe('the end of an LRPET run', () => {
  const data = syntheticDataset(16, 16);
  const soft: RunConfigInput = { model: 'resnet8-tiny', epochs: 2, batchSize: 8, lr: 0.05, seed: 4, lrpet: { prune: 0.5, beta: 0.3 } };

  it('β = 0.3: a hard projection before the compact model (logged, on the compact event); BN recalibration: before/after in the events; compact = projected in both', async () => {
    const plain = await run(soft, data);
    const recal = await run({ ...soft, lrpet: { ...soft.lrpet, bnRecalibrationBatches: 3 } }, data);
    for (const r of [plain, recal]) {
      expect(r.end).toEqual({ ended: 'finished' });
      const projections = r.of('projection') as ProjectionEvent[];
      // One per epoch (soft), then the hard cut.
      expect(projections).toHaveLength(3);
      for (const l of projections[1].layers) expect(l.sigmaAfter.slice(l.rank).some((x) => x > 0)).toBe(true);
      for (const l of projections[2].layers) {
        expect(l.sigmaAfter.slice(l.rank).every((x) => x === 0), l.name).toBe(true);
        expect(l.alpha).toBe(1);
      }
      expect((r.of('log') as LogEvent[]).some((e) => /β = 0\.3: .*one hard projection \(β = 0/.test(e.message))).toBe(true);
      const compact = r.of('compact')[0] as CompactEvent;
      expect(compact.hardProjection).toBe(true);
      expect(compact.testAccuracy).toBe(compact.denseTestAccuracy);
      const [projected, small] = [await logits(r.exported!.projected, data, 16), await logits(r.exported!.compact!, data, 16)];
      expect(maxRelDiff(small, projected)).toBeLessThanOrEqual(1e-4);
    }
    const p = plain.of('compact')[0] as CompactEvent;
    const c = recal.of('compact')[0] as CompactEvent;
    expect(p.bnRecalibration).toBeNull();
    expect(c.bnRecalibration).toMatchObject({ batches: 3, testAccuracyAfter: c.denseTestAccuracy });
    // Up to the recalibration both runs are the same computation: its "before" is the plain run's result.
    expect(c.bnRecalibration!.testAccuracyBefore).toBe(p.denseTestAccuracy);
    expect(c.bnRecalibration!.testLossBefore).toBeCloseTo(p.testLoss, 5);
    expect((recal.of('log') as LogEvent[]).some((e) => /^BN recalibration: running statistics recomputed over 3 training batches/.test(e.message))).toBe(true);
    // The running statistics changed, the weights did not.
    let changed = 0;
    for (const [key, v] of recal.tensors) {
      const w = plain.tensors.get(key)!;
      if (key.endsWith('/moving_mean') || key.endsWith('/moving_variance')) changed += Array.from(v).some((x, i) => x !== w[i]) ? 1 : 0;
      else if (!key.endsWith('/momentum')) expect(Array.from(v), key).toEqual(Array.from(w));
    }
    expect(changed).toBe(2 * plain.checkpoint.tensors.filter((t) => t.key.endsWith('/gamma')).length);
  }, 240_000);

  it('β = 0: no hard cut, no recalibration unless asked', async () => {
    const r = await run({ ...soft, epochs: 1, lrpet: { prune: 0.5 } }, data);
    const compact = r.of('compact')[0] as CompactEvent;
    expect(compact).toMatchObject({ hardProjection: false, bnRecalibration: null });
    expect(r.of('projection')).toHaveLength(1);
  }, 120_000);
});
