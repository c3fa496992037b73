import type * as tfType from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTf } from '../node/webgpu-node';
import type { Checkpoint } from './checkpoint';
import type { RunConfigInput } from './config';
import type { EngineEvent, GradNormsEvent } from './events';
import { createRun } from './run/run';
import { syntheticDataset } from './testing/synthetic';
import { gradNormReasons, normsFromSums } from './train/grad-norms';

// WebGPU through Dawn (the engine's path on the page): about a second a step of ResNet-8-tiny here.
let tf: typeof tfType;
beforeAll(async () => {
  tf = (await loadTf('webgpu')).tf;
}, 120_000);

async function runToEnd(config: RunConfigInput, opts: { train?: number; resume?: Checkpoint; stopAfter?: number } = {}) {
  const events: EngineEvent[] = [];
  const run = createRun({
    tf,
    data: syntheticDataset(opts.train ?? 8, 8),
    config,
    resume: opts.resume,
    onEvent: (e) => {
      events.push(e);
      if (e.type === 'step' && e.iteration === opts.stopAfter) run.stop();
    },
  });
  const before = await run.checkpoint();
  await run.start();
  const after = await run.checkpoint();
  run.dispose();
  const of = <T extends EngineEvent['type']>(type: T) => events.filter((e) => e.type === type) as Extract<EngineEvent, { type: T }>[];
  return { events, of, before, after };
}

/** Float64 sum of squares of the checkpoint tensors named `keys` (those present). */
function sumSq(c: Checkpoint, keys: string[], f: (v: number, i: number, key: string) => number = (v) => v): number {
  let s = 0;
  for (const key of keys) {
    const t = c.tensors.find((x) => x.key === key);
    if (!t) continue;
    t.data.forEach((v, i) => {
      const x = f(v, i, key);
      s += x * x;
    });
  }
  return s;
}

/**
 * The oracle: with momentum 0 and no weight decay, SGD's update is W' = W − lr·∇W, so the gradient the
 * step applied is (W − W')/lr, read from the weights before and after (float64 here, not the engine's sums).
 */
function appliedNorms(before: Checkpoint, after: Checkpoint, lr: number, keys: string[]): { grad: number; ratio: number } {
  const w = new Map(before.tensors.map((t) => [t.key, t.data]));
  const grad = Math.sqrt(sumSq(after, keys, (v, i, key) => (w.get(key)![i] - v) / lr));
  return { grad, ratio: grad / Math.sqrt(sumSq(before, keys)) };
}

const ONE_STEP = { epochs: 1, batchSize: 8, lr: 0.1, momentum: 0, weightDecay: 0, augment: false, buildCompact: false, gradNormEvery: 1, seed: 4 } as const;

describe('gradient-norm events', () => {
  it("equal the norms of the gradient the step applied, per layer in runStart's order", async () => {
    const { of, before, after } = await runToEnd({ ...ONE_STEP, model: 'resnet8-tiny', lrpet: { enabled: false } });
    const names = of('runStart')[0].layers.map((l) => l.name);
    const [g] = of('gradNorms');
    expect(of('gradNorms')).toHaveLength(1);
    expect(g).toMatchObject({ iteration: 1, epoch: 0, reasons: ['sample'] });
    expect(g.grad).toHaveLength(names.length);
    expect(names.at(-1)).toBe('fc');
    names.forEach((name, j) => {
      const ref = appliedNorms(before, after, ONE_STEP.lr, [`${name}/kernel`]);
      expect(ref.grad).toBeGreaterThan(1e-3);
      expect([name, g.grad[j] / ref.grad]).toEqual([name, expect.closeTo(1, 3)]);
      expect([name, g.ratio[j] / ref.ratio]).toEqual([name, expect.closeTo(1, 3)]);
    });
  }, 120_000);

  it('count both halves of a layer trained split (compact from scratch)', async () => {
    const { of, before, after } = await runToEnd({ ...ONE_STEP, model: 'resnet8-tiny', compactFromScratch: true, lrpet: { prune: 0.5 } });
    const layers = of('runStart')[0].layers;
    const split = layers.filter((l) => l.projected && !l.keptDense);
    expect(split.length).toBeGreaterThan(3);
    const [g] = of('gradNorms');
    layers.forEach((l, j) => {
      const keys = [`${l.name}/basis/kernel`, `${l.name}/kernel`];
      expect(before.tensors.some((t) => t.key === keys[0])).toBe(split.includes(l));
      const ref = appliedNorms(before, after, ONE_STEP.lr, keys);
      expect([l.name, g.grad[j] / ref.grad]).toEqual([l.name, expect.closeTo(1, 3)]);
      expect([l.name, g.ratio[j] / ref.ratio]).toEqual([l.name, expect.closeTo(1, 3)]);
    });
  }, 120_000);

  it('are recorded every k steps and right before and after each projection, change nothing, and keep the tensor count flat', async () => {
    // 24 images in batches of 4: 6 steps an epoch, 2 epochs; projections after steps 4, 8 and 12.
    const config = { model: 'resnet8-tiny', epochs: 2, batchSize: 4, lr: 0.05, seed: 2, buildCompact: false, gradNormEvery: 5, lrpet: { prune: 0.5, interval: 4 } } as const;
    const on = await runToEnd(config, { train: 24 });
    expect(on.of('projection').map((p) => p.iteration)).toEqual([4, 8, 12]);
    const got = on.of('gradNorms').map((g) => [g.iteration, g.epoch, g.reasons]);
    expect(got).toEqual([
      [4, 0, ['beforeProjection']],
      [5, 0, ['sample', 'afterProjection']],
      [8, 1, ['beforeProjection']],
      [9, 1, ['afterProjection']],
      [10, 1, ['sample']],
      [12, 1, ['beforeProjection']],
    ]);
    for (const g of on.of('gradNorms')) {
      expect(g.grad.every((x) => x > 0 && Number.isFinite(x))).toBe(true);
      expect(g.ratio.every((x) => x > 0 && Number.isFinite(x))).toBe(true);
    }
    // Sampled and plain steps leave the same number of tensors behind.
    expect(new Set(on.of('step').slice(1).map((s) => s.numTensors)).size).toBe(1);

    // Off: no events, and the same training, loss for loss.
    const off = await runToEnd({ ...config, gradNormEvery: 0 }, { train: 24 });
    expect(off.of('gradNorms')).toEqual([]);
    expect(off.of('step').map((s) => s.loss)).toEqual(on.of('step').map((s) => s.loss));

    // Stopped right after the projection at step 4 and resumed from its checkpoint: step 5 is still the one after it.
    const first = await runToEnd(config, { train: 24, stopAfter: 4 });
    expect(first.of('projection').map((p) => p.iteration)).toEqual([4]);
    expect(first.after.lastProjectionIteration).toBe(4);
    const resumed = await runToEnd(config, { train: 24, resume: first.after });
    const norms = (gs: GradNormsEvent[]) => gs.map((g) => ({ iteration: g.iteration, reasons: g.reasons, grad: g.grad.map((x) => x.toPrecision(3)) }));
    expect(norms(resumed.of('gradNorms'))).toEqual(norms(on.of('gradNorms').slice(1)));
  }, 300_000);
});

describe('gradNormReasons and normsFromSums', () => {
  it('say why a step is recorded; nothing at all when recording is off', () => {
    expect(gradNormReasons(10, 20, false, false)).toEqual(['sample']);
    expect(gradNormReasons(10, 21, false, false)).toEqual([]);
    expect(gradNormReasons(10, 21, true, false)).toEqual(['beforeProjection']);
    expect(gradNormReasons(1, 7, true, true)).toEqual(['sample', 'beforeProjection', 'afterProjection']);
    expect(gradNormReasons(0, 20, true, true)).toEqual([]);
  });

  it('turn interleaved sums of squares into norms and ratios, to five digits', () => {
    expect(normsFromSums(new Float32Array([9, 4, 2, 0]))).toEqual({ grad: [3, 1.4142], ratio: [1.5, Infinity] });
    expect(normsFromSums([NaN, NaN])).toEqual({ grad: [NaN], ratio: [NaN] });
  });
});
