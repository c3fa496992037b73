import type * as tfType from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTf } from '../node/webgpu-node';
import type { EngineEvent } from './events';
import { createRun } from './run/run';
import { syntheticDataset } from './testing/synthetic';

// The tfjs CPU backend resolves its reads as microtasks: without a macrotask between steps, timers and
// worker messages would only run once the whole run is over. ~1 s a step at batch 1 here.
let tf: typeof tfType;
beforeAll(async () => {
  tf = (await loadTf('cpu')).tf;
}, 120_000);

describe('a run on the tfjs CPU backend', () => {
  it('lets a pause() from a timer in within two steps', async () => {
    const events: EngineEvent[] = [];
    const run = createRun({
      tf,
      data: syntheticDataset(6, 2),
      onEvent: (e) => events.push(e),
      config: { model: 'vgg-tiny', epochs: 1, batchSize: 1, buildCompact: false, lrpet: { enabled: false } },
    });
    const steps = () => events.filter((e) => e.type === 'step').length;
    const done = run.start();
    let stepsAtPause = -1;
    setTimeout(() => {
      stepsAtPause = steps();
      run.pause();
    }, 0);
    while (!events.some((e) => e.type === 'state' && e.state !== 'running')) await new Promise((r) => setTimeout(r, 10));
    const paused = events.find((e) => e.type === 'state' && e.state !== 'running');
    expect(paused).toMatchObject({ state: 'paused' });
    expect(stepsAtPause).toBeLessThanOrEqual(2);
    expect(steps()).toBeLessThanOrEqual(2);
    run.stop();
    await done;
    expect(steps()).toBeLessThan(6);
    run.dispose();
  }, 120_000);
});
