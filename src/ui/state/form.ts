import type { LiveUpdate, ModelName, RunConfig, RunConfigInput } from '../../engine/config';
import { planModel, type ModelPlan } from '../../engine/plan';

export type Compression = 'prune' | 'flops';
export type LrScheduleKind = 'step' | 'cosine' | 'constant';

/** Everything the controls edit. Plain data: presets and the URL are just values of this. */
export interface FormState {
  model: ModelName;
  lrpet: boolean;
  compression: Compression;
  /** Prune ratio p ∈ [0, 1). */
  prune: number;
  /** FLOPs (MACs) reduction target ∈ (0, 1). */
  flopsTarget: number;
  rankFloors: boolean;
  rankOverrides: Record<string, number>;
  /** Iterations between projections; null = once per epoch (the paper's CIFAR recipe). */
  interval: number | null;
  startEpoch: number;
  /** null = the last epoch. */
  endEpoch: number | null;
  energyTransfer: boolean;
  beta: number;
  bnRectification: boolean;
  lr: number;
  schedule: LrScheduleKind;
  batchSize: number;
  epochs: number;
  seed: number;
  /** Number of training / test images used (null = all 50 000 / 10 000). */
  trainLimit: number | null;
  testLimit: number | null;
  augment: boolean;
  /** Save a checkpoint in this browser every N minutes (page-side: not part of the engine's RunConfig). */
  checkpointMinutes: number;
}

export interface Preset {
  id: 'quick' | 'paper';
  name: string;
  description: string;
  form: FormState;
}

const base: FormState = {
  model: 'resnet20',
  lrpet: true,
  compression: 'prune',
  prune: 0.57,
  flopsTarget: 0.55,
  rankFloors: false,
  rankOverrides: {},
  interval: null,
  startEpoch: 0,
  endEpoch: null,
  energyTransfer: true,
  beta: 0,
  bnRectification: true,
  lr: 0.1,
  schedule: 'step',
  batchSize: 128,
  epochs: 400,
  seed: 1,
  trainLimit: null,
  testLimit: null,
  augment: true,
  checkpointMinutes: 2,
};

export const PRESETS: Preset[] = [
  {
    id: 'quick',
    name: 'Quick look',
    description: 'A tiny ResNet on 512 images, a projection every 4 steps: the spectra start moving within seconds on a GPU (a few minutes on a software renderer).',
    form: { ...base, model: 'resnet8-tiny', prune: 0.5, interval: 4, lr: 0.05, schedule: 'constant', batchSize: 32, epochs: 6, trainLimit: 512, testLimit: 500 },
  },
  {
    id: 'paper',
    name: 'Paper recipe',
    description: 'ResNet-56, p = 0.57 (ranks 6/13/27), 400 epochs, lr 0.1 ×0.1 at epochs 200 and 300, batch 128, one projection per epoch — the authors\' CIFAR-10 setup (days in a browser).',
    form: { ...base, model: 'resnet56' },
  },
];

export const presetById = (id: Preset['id']): Preset => PRESETS.find((p) => p.id === id)!;

/** The paper's step schedule, scaled: ×0.1 at ½ and ¾ of the run (200 and 300 of 400 epochs). */
export function milestones(epochs: number): number[] {
  return [Math.round(epochs / 2), Math.round((epochs * 3) / 4)];
}

export function toRunConfig(f: FormState): RunConfigInput {
  return {
    model: f.model,
    epochs: f.epochs,
    batchSize: f.batchSize,
    lr: f.lr,
    schedule:
      f.schedule === 'step' ? { kind: 'step', milestones: milestones(f.epochs), gamma: 0.1 } : f.schedule === 'cosine' ? { kind: 'cosine', minLr: 0 } : { kind: 'constant' },
    seed: f.seed,
    trainLimit: f.trainLimit,
    testLimit: f.testLimit,
    augment: f.augment,
    buildCompact: true,
    stepEventEvery: 1,
    lrpet: {
      enabled: f.lrpet,
      prune: f.prune,
      target: f.compression === 'flops' ? { metric: 'macs', reduction: f.flopsTarget } : null,
      rankOverrides: f.rankOverrides,
      rankFloors: f.rankFloors,
      interval: f.interval,
      startEpoch: f.startEpoch,
      endEpoch: f.endEpoch,
      energyTransfer: f.energyTransfer,
      beta: f.beta,
      bnRectification: f.bnRectification,
    },
  };
}

export interface PlanResult {
  plan: Omit<ModelPlan, 'graph'> | null;
  error: string | null;
}

/** Ranks, MACs and parameters for the form, computed on the spot (pure, fast). */
export function planFor(f: Pick<FormState, 'model' | 'lrpet' | 'compression' | 'prune' | 'flopsTarget' | 'rankFloors' | 'rankOverrides'>): PlanResult {
  try {
    const plan = planModel(f.model, {
      enabled: f.lrpet,
      prune: f.prune,
      target: f.compression === 'flops' ? { metric: 'macs', reduction: f.flopsTarget } : null,
      rankOverrides: f.rankOverrides,
      rankFloors: f.rankFloors,
      projectDense: false,
    });
    const { graph: _graph, ...rest } = plan;
    return { plan: rest, error: null };
  } catch (e) {
    return { plan: null, error: e instanceof Error ? e.message : String(e) };
  }
}

/** Which settings may change during a run (the engine's LiveUpdate). */
export const LIVE_FIELDS = ['lr', 'interval', 'startEpoch', 'endEpoch', 'prune', 'flopsTarget', 'compression', 'rankOverrides', 'energyTransfer', 'beta', 'bnRectification'] as const;
export type LiveField = (typeof LIVE_FIELDS)[number];
export const isLiveField = (k: keyof FormState): boolean => (LIVE_FIELDS as readonly string[]).includes(k);

const sameRecord = (a: Record<string, number>, b: Record<string, number>) => {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
};

/** The p a run config prunes with (a target is solved into p, as the engine does at the start). */
function pruneOf(c: RunConfig): { p: number | null; error: string | null } {
  if (!c.lrpet.target) return { p: c.lrpet.prune, error: null };
  try {
    return { p: planModel(c.model, c.lrpet).prune, error: null };
  } catch (e) {
    return { p: null, error: e instanceof Error ? e.message : String(e) };
  }
}

/**
 * The LiveUpdate that turns the settings the engine reported for the run (`reported`: runStart, then
 * each configChange) into the form's, or null when no live setting differs. A FLOPs target is solved
 * here into p (the engine takes p mid-run).
 */
export function liveDiff(reported: RunConfig, next: FormState): { update: LiveUpdate | null; error: string | null } {
  const u: LiveUpdate = {};
  const l = reported.lrpet;
  if (next.lr !== reported.lr) u.lr = next.lr;
  if (next.interval !== l.interval) u.interval = next.interval;
  if (next.startEpoch !== l.startEpoch) u.startEpoch = next.startEpoch;
  if (next.endEpoch !== l.endEpoch) u.endEpoch = next.endEpoch;
  if (next.energyTransfer !== l.energyTransfer) u.energyTransfer = next.energyTransfer;
  if (next.beta !== l.beta) u.beta = next.beta;
  if (next.bnRectification !== l.bnRectification) u.bnRectification = next.bnRectification;
  if (!sameRecord(next.rankOverrides, l.rankOverrides)) u.rankOverrides = next.rankOverrides;
  const b = next.compression === 'prune' ? { p: next.prune, error: null } : ((r) => (r.plan ? { p: r.plan.prune, error: null } : { p: null, error: r.error }))(planFor(next));
  if (b.error) return { update: Object.keys(u).length ? u : null, error: b.error };
  if (b.p !== null && b.p !== pruneOf(reported).p) u.prune = b.p;
  return { update: Object.keys(u).length ? u : null, error: null };
}

/** The form for a run's settings (e.g. a resumed run's); what a RunConfig does not hold comes from `base`. */
export function formFromConfig(config: RunConfig, base: FormState): FormState {
  const l = config.lrpet;
  const flops = l.target?.metric === 'macs';
  const s = config.schedule;
  return {
    ...base,
    model: config.model,
    lrpet: l.enabled,
    compression: flops ? 'flops' : 'prune',
    prune: l.target && !flops ? (pruneOf(config).p ?? l.prune) : flops ? base.prune : l.prune,
    flopsTarget: flops ? l.target!.reduction : base.flopsTarget,
    rankFloors: l.rankFloors,
    rankOverrides: { ...l.rankOverrides },
    interval: l.interval,
    startEpoch: l.startEpoch,
    endEpoch: l.endEpoch,
    energyTransfer: l.energyTransfer,
    beta: l.beta,
    bnRectification: l.bnRectification,
    lr: config.lr,
    schedule: s.kind === 'step' && !s.milestones.length ? 'constant' : s.kind,
    batchSize: config.batchSize,
    epochs: config.epochs,
    seed: config.seed,
    trainLimit: config.trainLimit,
    testLimit: config.testLimit,
    augment: config.augment,
  };
}
