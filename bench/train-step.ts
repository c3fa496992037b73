/**
 * Times training steps of a model on the backend in use, through the engine's own run loop
 * (forward, backward, SGD update, BN statistics), on synthetic CIFAR-shaped data.
 */
import type { StepEvent } from '../src/engine/events';
import { createRun } from '../src/engine/run/run';
import { syntheticDataset } from '../src/engine/testing/synthetic';
import type { ModelName, RunConfigInput } from '../src/engine/config';
import { loadTf } from '../src/node/webgpu-node';

export interface StepTiming {
  model: ModelName;
  batch: number;
  backend: string;
  note: string;
  /** Median of the timed steps (the first step, which compiles shaders, is not counted). */
  stepMs: number;
  imagesPerSec: number;
  /** Each timed step's time, in order. */
  times: number[];
}

export const median = (xs: readonly number[]): number => {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

/** `config`: settings on top of the timed run's (a dense run on synthetic data, no augmentation, no compact model). */
export async function timeTrainingStep(
  model: ModelName = 'resnet20',
  batch = 128,
  steps = 3,
  backend: 'auto' | 'webgpu' | 'cpu' = 'auto',
  config: RunConfigInput = {},
): Promise<StepTiming> {
  const { tf, backend: used, note } = await loadTf(backend);
  const events: StepEvent[] = [];
  const run = createRun({
    tf,
    data: syntheticDataset(batch * (steps + 1), 8),
    config: { model, epochs: 1, batchSize: batch, augment: false, buildCompact: false, lrpet: { enabled: false }, ...config },
    onEvent: (e) => e.type === 'step' && events.push(e),
  });
  await run.start();
  run.dispose();
  const times = events.slice(1).map((e) => e.stepMs);
  const stepMs = median(times);
  return { model, batch, backend: used, note, stepMs, imagesPerSec: (batch / stepMs) * 1000, times };
}
