import type * as tfType from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTf } from '../node/webgpu-node';
import type { CompactEvent, EngineEvent, EpochEvent, ProjectionEvent, StepEvent } from './events';
import { createRun } from './run/run';
import { syntheticDataset } from './testing/synthetic';

// WebGPU (lavapipe here), as the CLI and the page train; the CPU backend has its own tests (run-cpu, the parity suite).
let tf: typeof tfType;
beforeAll(async () => {
  const loaded = await loadTf('webgpu');
  tf = loaded.tf;
}, 120_000);

function collect() {
  const events: EngineEvent[] = [];
  const of = <T extends EngineEvent['type']>(type: T) => events.filter((e) => e.type === type) as Extract<EngineEvent, { type: T }>[];
  return { events, of, onEvent: (e: EngineEvent) => events.push(e) };
}

describe('a training run (WebGPU through Dawn, synthetic data)', () => {
  it('streams events, projects on schedule, builds an equivalent compact model and leaks no tensors', async () => {
    const data = syntheticDataset(40, 64);
    const log = collect();
    const before = tf.memory().numTensors;
    const run = createRun({
      tf,
      data,
      onEvent: log.onEvent,
      config: { model: 'resnet8-tiny', epochs: 3, batchSize: 8, lr: 0.05, seed: 3, lrpet: { prune: 0.5, interval: 4 } },
    });
    await run.start();
    const start = log.of('runStart')[0];
    expect(start.layers.filter((l) => l.projected)).toHaveLength(7);
    expect(start.stepsPerEpoch).toBe(5);
    const steps = log.of('step') as StepEvent[];
    expect(steps).toHaveLength(15);
    // Projections at iterations 4, 8, 12, then a final one at 15 for the compact model.
    const projections = log.of('projection') as ProjectionEvent[];
    expect(projections.map((p) => p.iteration)).toEqual([4, 8, 12, 15]);
    for (const p of projections) {
      for (const l of p.layers) {
        const E = l.sigmaBefore.reduce((s, x) => s + x * x, 0);
        const E2 = l.sigmaAfter.reduce((s, x) => s + x * x, 0);
        expect(E2 / E).toBeCloseTo(1, 6); // energy transfer conserves the norm
        expect(l.sigmaAfter.slice(l.rank).every((x) => x === 0)).toBe(true);
      }
    }
    // Tensor count is flat across steps (after the first) and across epochs.
    const counts = new Set(steps.slice(1).map((s) => s.numTensors));
    expect(counts.size).toBe(1);
    const epochs = log.of('epoch') as EpochEvent[];
    expect(new Set(epochs.map((e) => e.numTensors)).size).toBe(1);
    expect(steps.at(-1)!.loss).toBeLessThan(steps[0].loss);
    const compact = log.of('compact')[0] as CompactEvent;
    expect(Math.abs(compact.testAccuracy - compact.denseTestAccuracy)).toBeLessThanOrEqual(0.001);
    expect(compact.macsCompact).toBe(start.macsCompact);
    expect(compact.paramsCompact).toBe(start.paramsCompact);
    expect(log.of('state').at(-1)!.state).toBe('finished');
    // Every wait besides a step is announced before it: the first step's kernel compilation, each test
    // evaluation, building the compact model and testing it.
    const kinds = log.events.filter((e) => e.type !== 'log' && e.type !== 'state').map((e) => (e.type === 'activity' ? e.activity : e.type));
    expect(kinds.slice(0, 3)).toEqual(['runStart', 'compiling', 'step']);
    expect(log.of('activity').find((a) => a.activity === 'compiling')?.message).toBe('compiling GPU kernels (the first step)…');
    for (const [i, k] of kinds.entries()) if (k === 'epoch') expect(kinds.slice(0, i).filter((x) => x !== 'projection').at(-1)).toBe('evaluating');
    expect(kinds.slice(-5)).toEqual(['evaluating', 'projection', 'building-compact', 'evaluating-compact', 'compact']);
    expect(log.of('activity').find((a) => a.activity === 'building-compact')?.message).toMatch(/^building the compact model/);
    expect(kinds.filter((k) => k === 'compiling')).toHaveLength(1);
    run.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('pauses, resumes, applies live changes at the next step and stops early', async () => {
    const data = syntheticDataset(32, 16);
    const log = collect();
    const run = createRun({ tf, data, onEvent: log.onEvent, config: { model: 'resnet8-tiny', epochs: 5, batchSize: 8, seed: 1, lrpet: { interval: 2 } } });
    const done = run.start();
    while (log.of('step').length < 1) await new Promise((r) => setTimeout(r, 20));
    run.pause();
    // The step in flight finishes, then the run announces the pause and queues no more work.
    while (!log.of('state').some((s) => s.state === 'paused')) await new Promise((r) => setTimeout(r, 20));
    const pausedAt = log.of('step').length;
    await new Promise((r) => setTimeout(r, 1500));
    expect(log.of('step').length).toBe(pausedAt);
    run.update({ lr: 0.01, prune: 0.75 });
    run.resume();
    while (log.of('step').length < pausedAt + 2) await new Promise((r) => setTimeout(r, 20));
    run.stop();
    await done;
    const change = log.of('configChange')[0];
    expect(change.changes).toEqual({ lr: 0.01, prune: 0.75 });
    const after = log.of('step').filter((s) => s.iteration > change.iteration);
    expect(after[0].lr).toBe(0.01);
    const lastProjection = log.of('projection').at(-1)!;
    expect(lastProjection.layers[1].rank).toBe(Math.floor(8 - 8 * 0.75));
    expect(log.of('state').at(-1)!.state).toBe('stopped');
    expect(log.of('compact')).toHaveLength(1);
    run.dispose();
  });

  it('rejects an impossible rank change with an error event and keeps training', async () => {
    const log = collect();
    const run = createRun({ tf, data: syntheticDataset(16, 8), onEvent: log.onEvent, config: { model: 'resnet8-tiny', epochs: 1, batchSize: 8, lrpet: { interval: 1 } } });
    run.update({ rankOverrides: { 'stem/conv': 99 } });
    await run.start();
    expect(log.of('error')[0].message).toMatch(/rank 99 is impossible/);
    expect(log.of('step')).toHaveLength(2);
    run.dispose();
  });

  it('pauses on a NaN loss without applying the step', async () => {
    const log = collect();
    const run = createRun({ tf, data: syntheticDataset(16, 8), onEvent: log.onEvent, config: { model: 'resnet8-tiny', epochs: 2, batchSize: 8, lr: 1e30, lrpet: { enabled: false } } });
    const done = run.start();
    while (!log.of('error').length) await new Promise((r) => setTimeout(r, 20));
    expect(log.of('error')[0].code).toBe('nan');
    await new Promise((r) => setTimeout(r, 50));
    expect(log.of('state').at(-1)!.state).toBe('paused');
    run.stop();
    await done;
    run.dispose();
  });

  it('pauses on an exploding loss without applying the step, and says how to fix it', async () => {
    const log = collect();
    const poison: { fc?: tfType.Variable; copy?: tfType.Tensor } = {};
    const run = createRun({
      tf,
      data: syntheticDataset(16, 8),
      config: { model: 'resnet8-tiny', epochs: 2, batchSize: 8, lr: 0.01, augment: false, lrpet: { enabled: false } },
      onEvent: (e) => {
        log.onEvent(e);
        if (e.type !== 'step' || e.iteration !== 1) return;
        // Between steps 1 and 2, scale the classifier by 1000: the next loss is huge but finite.
        const kernels = Object.values(tf.engine().registeredVariables).filter((v) => v.trainable && v.shape.join() === '32,10');
        expect(kernels).toHaveLength(1);
        const fc = kernels[0];
        tf.tidy(() => fc.assign(tf.mul(fc, 1000)));
        poison.fc = fc;
        poison.copy = tf.clone(fc);
      },
    });
    const done = run.start();
    while (!log.of('error').length && log.of('step').length < 2) await new Promise((r) => setTimeout(r, 20));
    const error = log.of('error')[0];
    expect(error).toMatchObject({ code: 'exploding', iteration: 1 });
    expect(error.message).toMatch(/loss jumped to .* at iteration 2/);
    expect(error.message).toMatch(/Lower the learning rate, e\.g\. to a tenth \(0\.001\), then resume/);
    while (log.of('state').at(-1)!.state !== 'paused') await new Promise((r) => setTimeout(r, 20));
    expect(log.of('step')).toHaveLength(1);
    // The step was not applied: the poisoned weights are untouched.
    expect(Array.from(await poison.fc!.data())).toEqual(Array.from(await poison.copy!.data()));
    poison.copy!.dispose();
    run.stop();
    await done;
    expect(log.of('step')).toHaveLength(1);
    run.dispose();
  });
});
