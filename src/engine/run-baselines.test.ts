import type * as tfType from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTf } from '../node/webgpu-node';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from './checkpoint';
import type { RunConfigInput } from './config';
import type { EngineEvent } from './events';
import { plannedCompactLayers } from './models/split';
import { ConfigError } from './plan';
import { createRun, type RunControls } from './run/run';
import { syntheticDataset } from './testing/synthetic';

let tf: typeof tfType;
beforeAll(async () => {
  tf = (await loadTf('webgpu')).tf;
}, 120_000);

function collect() {
  const events: EngineEvent[] = [];
  const of = <T extends EngineEvent['type']>(type: T) => events.filter((e) => e.type === type) as Extract<EngineEvent, { type: T }>[];
  return { events, of, onEvent: (e: EngineEvent) => events.push(e) };
}

/** 24 training images in batches of 8: 3 steps an epoch. */
const data = syntheticDataset(24, 16);
const lrpet = { prune: 0.5, energyTransfer: false, bnRectification: false };
const posthoc: RunConfigInput = { model: 'resnet8-tiny', epochs: 3, batchSize: 8, lr: 0.05, seed: 4, lrpet, posthoc: { fineTuneEpochs: 1 } };
const scratch: RunConfigInput = { model: 'resnet8-tiny', epochs: 2, batchSize: 8, lr: 0.05, seed: 5, lrpet, compactFromScratch: true };

/** Runs to the end and returns the events; `hook` sees every event with the run, synchronously, between steps. */
async function runAll(config: RunConfigInput, opts: { resume?: Checkpoint; hook?: (e: EngineEvent, run: RunControls) => void } = {}) {
  const log = collect();
  const run: RunControls = createRun({
    tf,
    data,
    config,
    resume: opts.resume,
    onEvent: (e) => {
      log.onEvent(e);
      opts.hook?.(e, run);
    },
  });
  await run.start();
  return { log, run };
}

const stepLosses = (events: EngineEvent[]) => events.flatMap((e) => (e.type === 'step' ? [[e.iteration, e.loss]] : []));

describe('post-hoc baseline', () => {
  it('trains dense, projects once, fine-tunes the compact model and reports it', async () => {
    const before = tf.memory().numTensors;
    const { log, run } = await runAll(posthoc);
    const start = log.of('runStart')[0];
    expect(log.of('step').map((s) => s.iteration)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const projections = log.of('projection');
    expect(projections).toHaveLength(1);
    expect(projections[0]).toMatchObject({ iteration: 6, epoch: 1 });
    const afterProjection = projections[0].testAccuracy!;
    expect(afterProjection).toEqual(expect.any(Number));
    const epochs = log.of('epoch');
    expect(epochs.map((e) => e.afterProjection)).toEqual([false, true, false]);
    expect(epochs[1].testAccuracy).toBe(afterProjection);
    // The switch is announced between the last dense epoch and the first fine-tuning step.
    const switchAt = log.events.findIndex((e) => e.type === 'log' && /post-hoc: projected once after epoch 2/.test(e.message));
    expect(switchAt).toBeGreaterThan(log.events.indexOf(epochs[1]));
    expect(switchAt).toBeLessThan(log.events.indexOf(log.of('step')[6]));
    // Fine-tuning trains the compact graph: its tensor count is flat from step to step.
    const steps = log.of('step');
    expect(new Set(steps.slice(6).map((s) => s.numTensors)).size).toBe(1);
    const compact = log.of('compact');
    expect(compact).toHaveLength(1);
    expect(compact[0]).toMatchObject({ macsCompact: start.macsCompact, paramsCompact: start.paramsCompact, macsDense: start.macsDense, paramsDense: start.paramsDense });
    expect(compact[0].denseTestAccuracy).toBe(afterProjection);
    expect(compact[0].testAccuracy).toBe(epochs[2].testAccuracy);
    expect(compact[0].layers).toEqual(plannedCompactLayers(start.layers));
    expect(log.of('state').at(-1)!.state).toBe('finished');
    const exported = await run.exportModels();
    expect(exported.compact).not.toBeNull();
    for (const m of [exported.projected, exported.compact!]) expect(JSON.stringify(m.modelJson)).toContain('stage3/block1/conv2/basis');
    run.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('resumes from checkpoints taken after the switch exactly as the uninterrupted run', async () => {
    const full = await runAll(posthoc);
    full.run.dispose();
    const saved: Promise<Checkpoint>[] = [];
    const cut = await runAll(posthoc, {
      hook: (e, run) => {
        // Right after the switch (served before the first fine-tuning step), then after one fine-tuning step.
        if (e.type === 'log' && e.message.startsWith('post-hoc')) saved.push(run.checkpoint());
        if (e.type === 'step' && e.iteration === 7) {
          saved.push(run.checkpoint());
          run.stop();
        }
      },
    });
    cut.run.dispose();
    const [atSwitch, inFineTune] = (await Promise.all(saved)).map((c) => decodeCheckpoint(encodeCheckpoint(c)));
    expect(atSwitch).toMatchObject({ iteration: 6, epoch: 2, step: 0, projections: 1 });
    expect(inFineTune).toMatchObject({ iteration: 7, epoch: 2, step: 1 });
    const fullCompact = full.log.of('compact')[0];
    for (const c of [atSwitch, inFineTune]) {
      expect(c.compact!.layers).toEqual(fullCompact.layers);
      expect(c.compact!.denseTestAccuracy).toBe(fullCompact.denseTestAccuracy);
      expect(c.firstLoss).toBe(full.log.of('step')[0].loss);
    }
    for (const c of [atSwitch, inFineTune]) {
      const rest = await runAll(posthoc, { resume: c });
      rest.run.dispose();
      expect(rest.log.of('runStart')[0].resumedFrom).toBe(c.iteration);
      expect(rest.log.of('projection')).toHaveLength(0);
      expect(stepLosses(rest.log.events)).toEqual(stepLosses(full.log.events).filter(([it]) => it > c.iteration));
      expect(rest.log.of('compact')[0]).toEqual({ ...fullCompact, time: expect.any(Number) });
    }
  }, 300_000);
});

describe('compact from scratch', () => {
  it('trains the planned compact architecture without projections and reports it', async () => {
    const before = tf.memory().numTensors;
    const { log, run } = await runAll(scratch);
    const start = log.of('runStart')[0];
    expect(start.layers.filter((l) => l.projected)).toHaveLength(7);
    expect(log.of('step')).toHaveLength(6);
    expect(log.of('projection')).toHaveLength(0);
    expect(log.of('log').some((e) => /compact architecture from scratch/.test(e.message))).toBe(true);
    const steps = log.of('step');
    expect(new Set(steps.slice(1).map((s) => s.numTensors)).size).toBe(1);
    const compact = log.of('compact');
    expect(compact).toHaveLength(1);
    expect(compact[0]).toMatchObject({ macsCompact: start.macsCompact, paramsCompact: start.paramsCompact, macsDense: start.macsDense, paramsDense: start.paramsDense });
    expect(compact[0].denseTestAccuracy).toBe(compact[0].testAccuracy);
    expect(compact[0].testAccuracy).toBe(log.of('epoch')[1].testAccuracy);
    expect(compact[0].layers).toEqual(plannedCompactLayers(start.layers));
    const exported = await run.exportModels();
    expect(exported.compact).not.toBeNull();
    expect(JSON.stringify(exported.projected.modelJson)).toContain('stem/conv/basis');
    run.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('resumes from a mid-run checkpoint exactly and refuses rank changes', async () => {
    const full = await runAll(scratch);
    full.run.dispose();
    let saved: Promise<Checkpoint> | null = null;
    const cut = await runAll(scratch, {
      hook: (e, run) => {
        if (e.type === 'step' && e.iteration === 4) {
          saved = run.checkpoint();
          run.update({ prune: 0.7 });
          run.stop();
        }
      },
    });
    cut.run.dispose();
    const c = decodeCheckpoint(encodeCheckpoint(await saved!));
    expect(c).toMatchObject({ iteration: 4, epoch: 1, step: 1 });
    expect(c.compact).toMatchObject({ denseTestAccuracy: null });
    const rest = await runAll(scratch, { resume: c });
    rest.run.dispose();
    expect(stepLosses(rest.log.events)).toEqual(stepLosses(full.log.events).filter(([it]) => it > 4));
    expect(rest.log.of('compact')[0]).toEqual({ ...full.log.of('compact')[0], time: expect.any(Number) });

    const refused = collect();
    const run = createRun({ tf, data, config: { ...scratch, epochs: 1 }, onEvent: refused.onEvent });
    run.update({ prune: 0.7 });
    await run.start();
    run.dispose();
    expect(refused.of('error')[0]).toMatchObject({ code: 'config', message: expect.stringMatching(/ranks cannot change/) });
    expect(refused.of('configChange')).toHaveLength(0);
  }, 300_000);
});

describe('baseline settings', () => {
  it('are checked with clear messages', () => {
    const make = (config: RunConfigInput) => () => createRun({ tf, data, config, onEvent: () => undefined });
    expect(make({ ...posthoc, lrpet: { enabled: false } })).toThrow(ConfigError);
    expect(make({ ...posthoc, lrpet: { enabled: false } })).toThrow(/posthoc needs lrpet\.enabled/);
    expect(make({ ...scratch, lrpet: { enabled: false } })).toThrow(/compactFromScratch needs lrpet\.enabled/);
    expect(make({ ...posthoc, posthoc: { fineTuneEpochs: 3 } })).toThrow(/fineTuneEpochs \(3\) must be less than epochs \(3\)/);
    expect(make({ ...posthoc, compactFromScratch: true })).toThrow(/set only one/);
  });
});
