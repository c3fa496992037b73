import { z } from 'zod';
import { ConfigError } from './errors';

export const MODEL_NAMES = [
  'resnet20',
  'resnet32',
  'resnet44',
  'resnet56',
  'resnet110',
  'vgg16',
  // Small variants for tests and quick looks: same structure, fewer blocks / narrower.
  'resnet8-tiny',
  'resnet14-narrow',
  'vgg-tiny',
] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export const LrScheduleSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('constant') }),
  /** lr × gamma at each milestone epoch (official CIFAR recipe: [200, 300], gamma 0.1). */
  z.object({ kind: z.literal('step'), milestones: z.array(z.number().int().min(0)), gamma: z.number().positive().max(1) }),
  z.object({ kind: z.literal('cosine'), minLr: z.number().min(0).default(0) }),
]);
export type LrSchedule = z.infer<typeof LrScheduleSchema>;

export const LrpetConfigSchema = z.object({
  enabled: z.boolean().default(true),
  /** Fraction of each layer's singular values removed, p ∈ [0, 1). Ignored when `target` is set. */
  prune: z.number().min(0).lt(1).default(0.57),
  /** Solve p so that this fraction of MACs (or parameters) is removed. */
  target: z
    .object({ metric: z.enum(['macs', 'params']), reduction: z.number().gt(0).lt(1) })
    .nullable()
    .default(null),
  /** Per-layer rank overrides, by conv layer name. */
  rankOverrides: z.record(z.string(), z.number().int().min(1)).default({}),
  /** The official VGG-16 floors: ≥18 for the first conv and ≥43 for the others. */
  rankFloors: z.boolean().default(false),
  /** Projection interval in iterations; null = one epoch. */
  interval: z.number().int().min(1).nullable().default(null),
  /** First epoch (0-based, inclusive) in which projections happen. */
  startEpoch: z.number().int().min(0).default(0),
  /** Last epoch (0-based, inclusive) in which projections happen; null = the last epoch. */
  endEpoch: z.number().int().min(0).nullable().default(null),
  energyTransfer: z.boolean().default(true),
  beta: z.number().min(0).lt(1).default(0),
  bnRectification: z.boolean().default(true),
  /** Also project dense layers (off in the paper). */
  projectDense: z.boolean().default(false),
});
export type LrpetConfig = z.infer<typeof LrpetConfigSchema>;

export const RunConfigSchema = z.object({
  model: z.enum(MODEL_NAMES).default('resnet20'),
  epochs: z.number().int().min(1).default(10),
  batchSize: z.number().int().min(1).max(4096).default(128),
  lr: z.number().positive().default(0.1),
  momentum: z.number().min(0).lt(1).default(0.9),
  weightDecay: z.number().min(0).default(1e-4),
  schedule: LrScheduleSchema.default({ kind: 'step', milestones: [], gamma: 0.1 }),
  seed: z.number().int().min(0).default(1),
  /** Use only the first N training / test images (null = all). */
  trainLimit: z.number().int().min(1).nullable().default(null),
  testLimit: z.number().int().min(1).nullable().default(null),
  augment: z.boolean().default(true),
  /** Build and evaluate the compact model at the end of an LRPET run (the two baselines below always report theirs). */
  buildCompact: z.boolean().default(true),
  /** Emit a step event every N iterations (1 = every step). */
  stepEventEvery: z.number().int().min(1).default(1),
  lrpet: LrpetConfigSchema.default(LrpetConfigSchema.parse({})),
  /**
   * Post-hoc baseline: train dense without projections for epochs − fineTuneEpochs epochs, project
   * once (with the lrpet settings), then fine-tune the compact model for the last fineTuneEpochs.
   */
  posthoc: z
    .object({ fineTuneEpochs: z.number().int().min(1) })
    .nullable()
    .default(null),
  /** Baseline: train the compact architecture (the plan's ranks) from random initialisation, no projections. */
  compactFromScratch: z.boolean().default(false),
});
export type RunConfig = z.infer<typeof RunConfigSchema>;
export type RunConfigInput = z.input<typeof RunConfigSchema>;

/** Parses and fills defaults; throws a ZodError with readable paths on bad input. */
export function parseRunConfig(input: unknown): RunConfig {
  return RunConfigSchema.parse(input ?? {});
}

/** Rules across fields of the two baselines; throws a ConfigError saying what to change. */
export function checkRunModes(c: RunConfig): void {
  if (c.posthoc && c.compactFromScratch) throw new ConfigError('posthoc and compactFromScratch are two different baselines: set only one');
  const mode = c.posthoc ? 'posthoc' : c.compactFromScratch ? 'compactFromScratch' : null;
  if (mode && !c.lrpet.enabled) throw new ConfigError(`${mode} needs lrpet.enabled: its ranks come from the LRPET settings`);
  if (c.posthoc && c.posthoc.fineTuneEpochs >= c.epochs) {
    throw new ConfigError(
      `posthoc.fineTuneEpochs (${c.posthoc.fineTuneEpochs}) must be less than epochs (${c.epochs}): the dense model needs at least one epoch before the projection`,
    );
  }
}

/** The settings that may change while a run is going (they apply at the next step or projection). */
export const LiveUpdateSchema = z.object({
  lr: z.number().positive().optional(),
  interval: z.number().int().min(1).nullable().optional(),
  startEpoch: z.number().int().min(0).optional(),
  endEpoch: z.number().int().min(0).nullable().optional(),
  prune: z.number().min(0).lt(1).optional(),
  rankOverrides: z.record(z.string(), z.number().int().min(1)).optional(),
  energyTransfer: z.boolean().optional(),
  beta: z.number().min(0).lt(1).optional(),
  bnRectification: z.boolean().optional(),
});
export type LiveUpdate = z.infer<typeof LiveUpdateSchema>;

/** The run config after a live update (a new object; `config` is left as it is). Setting `prune` drops a FLOPs/params target. */
export function applyLiveUpdate(config: RunConfig, changes: LiveUpdate): RunConfig {
  const next = structuredClone(config);
  if (changes.lr !== undefined) next.lr = changes.lr;
  const l = next.lrpet;
  if (changes.interval !== undefined) l.interval = changes.interval;
  if (changes.startEpoch !== undefined) l.startEpoch = changes.startEpoch;
  if (changes.endEpoch !== undefined) l.endEpoch = changes.endEpoch;
  if (changes.prune !== undefined) {
    l.prune = changes.prune;
    l.target = null;
  }
  if (changes.rankOverrides !== undefined) l.rankOverrides = changes.rankOverrides;
  if (changes.energyTransfer !== undefined) l.energyTransfer = changes.energyTransfer;
  if (changes.beta !== undefined) l.beta = changes.beta;
  if (changes.bnRectification !== undefined) l.bnRectification = changes.bnRectification;
  return next;
}
