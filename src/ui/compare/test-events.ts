/** Synthetic engine event logs for the compare view's tests (real event types, a real plan). */
import { parseRunConfig } from '../../engine/config';
import type { CompactEvent, EngineEvent, EpochEvent, GradNormsEvent, LayerProjection, ProjectionEvent, RunStartEvent, StateEvent, StepEvent } from '../../engine/events';
import { planModel } from '../../engine/plan';
import { gradNormReasons } from '../../engine/train/grad-norms';

const plan = planModel('resnet8-tiny', { prune: 0.5, target: null, rankOverrides: {}, rankFloors: false, projectDense: false });
export const projectedLayers = plan.layers.filter((l) => l.projected);

export interface SyntheticRun {
  iterations: number;
  stepsPerEpoch: number;
  /** Iterations between projections; null = no projections (a dense run). */
  interval: number | null;
  compact?: { testAccuracy: number } | null;
  /** How the log ends: a final state event, or none (cut off). */
  end?: 'finished' | 'stopped' | 'paused' | null;
  /** Training loss at an iteration. */
  loss?: (iteration: number) => number;
  /** Test accuracy at the end of an epoch (1-based epoch count). */
  testAccuracy?: (epoch: number) => number;
  /** Energy kept before projection k (1-based) for projected layer j. */
  energy?: (k: number, j: number) => number;
  epochMs?: number;
  t0?: number;
  /**
   * Gradient norms every `every` steps and around each projection: layer j's ‖∇W‖/‖W‖ is 0.01·(j + 1)
   * (‖∇W‖ ten times that), multiplied by `jump` on the step right after a projection.
   */
  grads?: { every: number; jump: number };
}

export const runStartEvent = (time: number, stepsPerEpoch: number, epochs: number, enabled = true): RunStartEvent => ({
  type: 'runStart',
  time,
  resumedFrom: null,
  config: parseRunConfig({ model: 'resnet8-tiny', epochs, lrpet: { enabled } }),
  prune: 0.5,
  backend: 'webgpu',
  trainSize: stepsPerEpoch * 16,
  testSize: 50,
  stepsPerEpoch,
  layers: plan.layers,
  macsDense: plan.macsDense,
  macsCompact: plan.macsCompact,
  paramsDense: plan.paramsDense,
  paramsCompact: plan.paramsCompact,
});

export const stateEvent = (time: number, state: StateEvent['state'], iteration: number): StateEvent => ({ type: 'state', time, state, iteration, epoch: 0 });

export const stepEvent = (time: number, iteration: number, epoch: number, loss: number): StepEvent => ({
  type: 'step',
  time,
  iteration,
  epoch,
  loss,
  accuracy: 0.5,
  lr: 0.1,
  imagesPerSec: 100,
  stepMs: 10,
  numTensors: 60,
});

function projectionEvent(time: number, index: number, iteration: number, epoch: number, energy: (k: number, j: number) => number): ProjectionEvent {
  return {
    type: 'projection',
    time,
    index,
    iteration,
    epoch,
    projectionMs: 3,
    testAccuracy: null,
    layers: projectedLayers.map(
      (l, j): LayerProjection => ({
        name: l.name,
        shape: l.shape,
        rank: l.rank,
        // Decays faster at later projections, so each projection's spectrum is recognisable.
        sigmaBefore: Array.from({ length: l.n }, (_, i) => (j + 1) / (1 + i * index)),
        sigmaAfter: Array.from({ length: l.n }, (_, i) => (i < l.rank ? (j + 1.1) / (1 + i * index) : 0)),
        energyKeptBefore: energy(index, j),
        energyKeptAfter: 1,
        alpha: 1.05,
        skipped: false,
      }),
    ),
  };
}

function gradNormsEvent(time: number, iteration: number, epoch: number, reasons: GradNormsEvent['reasons'], jump: number): GradNormsEvent {
  const f = reasons.includes('afterProjection') ? jump : 1;
  const ratio = plan.layers.map((_, j) => 0.01 * (j + 1) * f);
  return { type: 'gradNorms', time, iteration, epoch, reasons, ratio, grad: ratio.map((r) => 10 * r) };
}

const epochEvent = (time: number, epoch: number, iteration: number, testAccuracy: number, epochMs: number): EpochEvent => ({
  type: 'epoch',
  time,
  epoch,
  iteration,
  trainLoss: 1,
  trainAccuracy: 0.6,
  testLoss: 1.2,
  testAccuracy,
  afterProjection: false,
  epochMs,
  numTensors: 60,
});

const compactEvent = (time: number, testAccuracy: number): CompactEvent => ({
  type: 'compact',
  time,
  testAccuracy,
  testLoss: 1.1,
  denseTestAccuracy: testAccuracy + 0.01,
  layers: projectedLayers.map((l) => ({ name: l.name, rank: l.rank, split: true, zero: false })),
  macsDense: plan.macsDense,
  macsCompact: plan.macsCompact,
  paramsDense: plan.paramsDense,
  paramsCompact: plan.paramsCompact,
});

/** A whole run's log: start, steps, projections every `interval`, epochs, optionally the compact model, the end. */
export function syntheticRun(o: SyntheticRun): EngineEvent[] {
  const loss = o.loss ?? ((it: number) => 2.3 / (1 + it / 50));
  const acc = o.testAccuracy ?? ((e: number) => 0.3 + 0.05 * e);
  const energy = o.energy ?? ((k: number, j: number) => 0.8 + 0.001 * k + 0.01 * j);
  const epochMs = o.epochMs ?? 1000;
  let t = o.t0 ?? 1000;
  const epochs = Math.ceil(o.iterations / o.stepsPerEpoch);
  const out: EngineEvent[] = [runStartEvent(t, o.stepsPerEpoch, epochs, o.interval !== null), stateEvent(t, 'running', 0)];
  let projections = 0;
  for (let it = 1; it <= o.iterations; it++) {
    const epoch = Math.floor((it - 1) / o.stepsPerEpoch);
    out.push(stepEvent(++t, it, epoch, loss(it)));
    const projects = (i: number) => o.interval !== null && i > 0 && i % o.interval === 0;
    const reasons = o.grads ? gradNormReasons(o.grads.every, it, projects(it), projects(it - 1)) : [];
    if (reasons.length) out.push(gradNormsEvent(++t, it, epoch, reasons, o.grads!.jump));
    if (projects(it)) out.push(projectionEvent(++t, ++projections, it, epoch, energy));
    if (it % o.stepsPerEpoch === 0) out.push(epochEvent(++t, epoch, it, acc(epoch + 1), epochMs));
  }
  if (o.compact) out.push(compactEvent(++t, o.compact.testAccuracy));
  if (o.end) out.push(stateEvent(t + 1, o.end, o.iterations));
  return out;
}
