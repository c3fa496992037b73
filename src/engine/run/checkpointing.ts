import type { Checkpoint } from '../checkpoint';
import type { RunConfig } from '../config';
import type { EpochOrder } from '../data/batcher';
import { ConfigError } from '../plan';
import type { Rng } from '../rng';
import type { Tf } from './api';
import { checkpointVariables, type TrainedModel } from '../train/trained-model';
import type { RunProgress } from './progress';

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** What a checkpoint captures of a run: its settings, position, data order, RNG and the model being trained. */
export interface CheckpointedState {
  config: RunConfig;
  progress: RunProgress;
  order: EpochOrder;
  augRng: Rng;
  model: TrainedModel;
}

/**
 * A consistent snapshot of the run as it is now: the variables are cloned and everything else copied
 * before this returns, so the steps after the call cannot change what it holds.
 */
export function snapshot(tf: Tf, s: CheckpointedState): Promise<Checkpoint> {
  const t0 = now();
  const vars = checkpointVariables(s.model);
  const clones = vars.map(([, v]) => tf.clone(v));
  const p = s.progress;
  const meta = {
    version: 2 as const,
    time: Date.now(),
    config: structuredClone(s.config),
    iteration: p.iteration,
    epoch: p.epoch,
    step: p.step,
    projections: p.projections,
    lastProjectionIteration: p.lastProjectionIteration,
    epochSums: { ...p.epochSums },
    order: s.order.order.slice(),
    orderRngState: s.order.rng.state,
    augmentRngState: s.augRng.state,
    firstLoss: p.firstLoss,
    compact: s.model.compactLayers ? { layers: structuredClone(s.model.compactLayers), denseTestAccuracy: p.denseTestAccuracy } : null,
  };
  return Promise.all(clones.map((c) => c.data())).then((datas) => {
    tf.dispose(clones);
    return { ...meta, tensors: vars.map(([key, v], i) => ({ key, shape: v.shape, data: datas[i] as Float32Array })), snapshotMs: now() - t0 };
  });
}

/** Whether a checkpoint fits the run built from its settings and this data; throws a ConfigError saying why not. */
export function checkResumable(c: Checkpoint, config: RunConfig, trainCount: number): void {
  if (c.order.length !== trainCount) throw new ConfigError(`the checkpoint was made with ${c.order.length} training images, this run has ${trainCount}`);
  if (config.compactFromScratch && !c.compact) throw new ConfigError('the checkpoint of a compact-from-scratch run has no compact structure');
}

/** Puts a checkpoint's variables, position, data order and RNG states into a run built from its settings (and its compact structure, if any). */
export function restore(tf: Tf, c: Checkpoint, s: CheckpointedState): void {
  const byKey = new Map(c.tensors.map((t) => [t.key, t]));
  for (const [key, v] of checkpointVariables(s.model)) {
    const t = byKey.get(key);
    if (!t || t.data.length !== v.size) throw new ConfigError(`the checkpoint has no matching tensor for ${key}`);
    tf.tidy(() => v.assign(tf.tensor(t.data, v.shape)));
  }
  const p = s.progress;
  p.iteration = c.iteration;
  p.epoch = c.epoch;
  p.step = c.step;
  p.projections = c.projections;
  p.lastProjectionIteration = c.lastProjectionIteration;
  p.epochSums = { ...c.epochSums };
  p.firstLoss = c.firstLoss;
  p.denseTestAccuracy = c.compact?.denseTestAccuracy ?? null;
  s.order.order.set(c.order);
  s.order.rng.state = c.orderRngState;
  s.augRng.state = c.augmentRngState;
}

/** Checkpoints asked for while a step is in flight, all served with one snapshot between two steps. */
export class CheckpointRequests {
  private readonly waiting: ((c: Checkpoint) => void)[] = [];

  add(): Promise<Checkpoint> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async serve(take: () => Promise<Checkpoint>): Promise<void> {
    if (!this.waiting.length) return;
    const c = await take();
    for (const resolve of this.waiting.splice(0)) resolve(c);
  }
}
