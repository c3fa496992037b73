import type * as tfType from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTf } from '../node/webgpu-node';
import type { EngineEvent } from './events';
import { singularValues } from './linalg';
import { createRun, type RunControls } from './run/run';
import { syntheticDataset } from './testing/synthetic';

let tf: typeof tfType;
beforeAll(async () => {
  tf = (await loadTf('webgpu')).tf;
}, 120_000);

const tick = () => new Promise((r) => setTimeout(r, 20));

function collect() {
  const events: EngineEvent[] = [];
  const of = <T extends EngineEvent['type']>(type: T) => events.filter((e) => e.type === type) as Extract<EngineEvent, { type: T }>[];
  const since = (i: number) => events.slice(i).map((e) => (e.type === 'state' ? `state:${e.state}` : e.type === 'step' || e.type === 'projection' ? `${e.type}:${e.iteration}` : e.type));
  return { events, of, since };
}

/** Waits for the run to announce a pause after event index `from`. */
async function pausedAfter(log: ReturnType<typeof collect>, from: number): Promise<void> {
  while (!log.events.slice(from).some((e) => e.type === 'state' && e.state === 'paused')) await tick();
}

describe('step(): one training iteration, then paused (WebGPU through Dawn, synthetic data)', () => {
  it('advances exactly one iteration from a pause, with the projection and epoch end due after it', async () => {
    const log = collect();
    const before = tf.memory().numTensors;
    // 32 images in batches of 8: 4 steps an epoch; a projection every 2 iterations.
    const run: RunControls = createRun({
      tf,
      data: syntheticDataset(32, 16),
      config: { model: 'resnet8-tiny', epochs: 3, batchSize: 8, seed: 5, stepEventEvery: 10, lrpet: { prune: 0.5, interval: 2 } },
      onEvent: (e) => log.events.push(e),
    });
    // stepEventEvery 10: a normal step sends no step event before iteration 10, a single step always does.
    run.step(); // before start(): the first step is a single one
    const done = run.start();
    await pausedAfter(log, 0);
    // The first step announces itself (it compiles the GPU kernels).
    expect(log.since(0)).toEqual(['runStart', 'state:running', 'activity', 'step:1', 'state:paused']);

    // Iteration 1 → 2: a projection is due after it.
    let mark = log.events.length;
    run.step();
    await pausedAfter(log, mark);
    // The step before a projection records its gradient norms.
    expect(log.since(mark)).toEqual(['state:running', 'step:2', 'gradNorms', 'projection:2', 'state:paused']);
    await new Promise((r) => setTimeout(r, 1000));
    expect(log.events.length).toBe(mark + 5);
    const checkpoint = await run.checkpoint();
    expect(checkpoint.iteration).toBe(2);

    // The matrix images of that projection: before and after differ, after has rank ≤ r.
    const projection = log.of('projection')[0];
    const layer = projection.layers.find((l) => l.name !== 'stem/conv' && !l.skipped)!;
    const images = run.matrixImages.get(layer.name)!;
    expect(images).toMatchObject({ layer: layer.name, projection: 1, iteration: 2, shape: layer.shape, rank: layer.rank });
    expect(images.after.values).not.toEqual(images.before.values);
    const sigma = singularValues(images.after.values, images.after.rows, images.after.cols);
    expect(sigma[layer.rank] / sigma[0]).toBeLessThan(1e-5);
    expect(singularValues(images.before.values, images.before.rows, images.before.cols)[layer.rank] / sigma[0]).toBeGreaterThan(1e-3);

    // 2 → 3: no projection due; 3 → 4 ends the epoch: projection, test evaluation and epoch event, then paused.
    mark = log.events.length;
    run.step();
    await pausedAfter(log, mark);
    // The step after a projection records its gradient norms too.
    expect(log.since(mark)).toEqual(['state:running', 'step:3', 'gradNorms', 'state:paused']);
    mark = log.events.length;
    run.step();
    await pausedAfter(log, mark);
    expect(log.since(mark)).toEqual(['state:running', 'step:4', 'gradNorms', 'activity', 'projection:4', 'epoch', 'state:paused']);
    expect(log.of('epoch')[0]).toMatchObject({ epoch: 0, iteration: 4, afterProjection: true });

    // resume() trains on (no single steps any more); stop() ends the run.
    mark = log.events.length;
    run.resume();
    while (log.of('projection').length < 3) await tick();
    run.stop();
    expect(await done).toEqual({ ended: 'stopped' });
    expect(log.since(mark).filter((e) => e.startsWith('state'))).toEqual(['state:running', 'state:stopped']);
    run.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a single step whose loss diverges is not applied: the run pauses with the error', async () => {
    const log = collect();
    const run = createRun({
      tf,
      data: syntheticDataset(16, 8),
      config: { model: 'resnet8-tiny', epochs: 2, batchSize: 8, lr: 1e30, lrpet: { enabled: false } },
      onEvent: (e) => log.events.push(e),
    });
    run.step();
    const done = run.start();
    await pausedAfter(log, 0);
    const mark = log.events.length;
    run.step();
    await pausedAfter(log, mark);
    // Step 1 was applied with lr 1e30: the loss of step 2 is NaN, nothing is applied.
    expect(log.since(mark)).toEqual(['state:running', 'error', 'state:paused']);
    expect(log.of('error')[0]).toMatchObject({ code: 'nan', iteration: 1 });
    expect((await run.checkpoint()).iteration).toBe(1);
    run.stop();
    await done;
    run.dispose();
  });
});
