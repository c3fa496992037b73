import type * as tfType from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTf } from '../../node/webgpu-node';
import { applyLiveUpdate, type RunConfigInput } from '../config';
import type { ConfigChangeEvent, EngineEvent, RunStartEvent } from '../events';
import { createRun, type RunControls } from './run';
import { syntheticDataset } from '../testing/synthetic';

let tf: typeof tfType;
beforeAll(async () => {
  tf = (await loadTf('webgpu')).tf;
}, 120_000);

/** 16 images in batches of 8: 2 steps an epoch. */
const data = syntheticDataset(16, 8);
const dense: RunConfigInput = { model: 'resnet8-tiny', epochs: 1, batchSize: 8, lr: 0.05, buildCompact: false, lrpet: { enabled: false } };

/** Starts a run whose listener sees every event with the run; returns what start() resolved with and the events. */
async function runWith(config: RunConfigInput, listener: (e: EngineEvent, run: RunControls) => void = () => undefined) {
  const events: EngineEvent[] = [];
  const run: RunControls = createRun({
    tf,
    data,
    config,
    onEvent: (e) => {
      events.push(e);
      listener(e, run);
    },
  });
  const end = await run.start();
  run.dispose();
  return { end, events };
}

describe('what start() resolves with', () => {
  it("is 'finished' when every epoch was trained", async () => {
    const { end, events } = await runWith(dense);
    expect(end).toEqual({ ended: 'finished' });
    expect(events.filter((e) => e.type === 'step')).toHaveLength(2);
  });

  it("is 'stopped' after stop()", async () => {
    const { end, events } = await runWith({ ...dense, epochs: 2 }, (e, run) => e.type === 'step' && run.stop());
    expect(end).toEqual({ ended: 'stopped' });
    expect(events.filter((e) => e.type === 'step')).toHaveLength(1);
  });

  it("is 'stopped' with the error's message when a listener stops the run on a NaN loss (as the CLI does)", async () => {
    const { end, events } = await runWith({ ...dense, lr: 1e30 }, (e, run) => e.type === 'error' && e.code === 'nan' && run.stop());
    expect(end).toEqual({ ended: 'stopped', message: expect.stringMatching(/^the loss became NaN at iteration 2/) });
    // The stop wins over the pause the NaN asks for: the run ends instead of waiting for a resume.
    expect(events.filter((e) => e.type === 'state').map((e) => e.state)).toEqual(['running', 'stopped']);
  });

  it("is 'error' with the message when an error ends the run", async () => {
    const { end, events } = await runWith(dense, (e) => {
      if (e.type === 'step') throw new Error('the listener failed');
    });
    expect(end).toEqual({ ended: 'error', message: 'the listener failed' });
    expect(events.find((e) => e.type === 'error')).toMatchObject({ code: 'internal', message: 'the listener failed' });
    expect(events.at(-1)).toMatchObject({ type: 'state', state: 'stopped' });
  });
});

describe('a configChange event', () => {
  it('carries the whole config after the change', async () => {
    const events: EngineEvent[] = [];
    const run = createRun({ tf, data, config: { ...dense, lrpet: { prune: 0.5 } }, onEvent: (e) => events.push(e) });
    run.update({ lr: 0.01, prune: 0.75 });
    await run.start();
    run.dispose();
    const start = events.find((e): e is RunStartEvent => e.type === 'runStart')!;
    const change = events.find((e): e is ConfigChangeEvent => e.type === 'configChange')!;
    expect(change.config).toEqual(applyLiveUpdate(start.config, { lr: 0.01, prune: 0.75 }));
    expect(change.config).toMatchObject({ lr: 0.01, lrpet: { prune: 0.75 } });
    expect(start.config).toMatchObject({ lr: 0.05, lrpet: { prune: 0.5 } });
  });
});
