import { z } from 'zod';
import { LiveUpdateSchema, StoredRunConfigSchema } from './config';

// The engine's events, declared once: each as a zod schema, its type inferred from it. The engine emits
// these types; run files are validated against the schemas when imported (src/runs/event-schema.ts).

/**
 * An object schema that keeps unknown keys (a log written by a newer engine with extra fields still
 * imports and round-trips unchanged), typed by its known keys only — the type a value with more keys is
 * assignable to anyway.
 */
const extensible = <T extends z.core.$ZodLooseShape>(shape: T): z.ZodObject<z.core.util.Writeable<T>, z.core.$strip> => z.looseObject(shape);

/** A float the engine may emit as NaN or ±Infinity: JSON writes those as null, read back as NaN. */
const real = z
  .number()
  .nullable()
  .transform((v) => v ?? NaN);
const reals = z.array(z.number().nullable()).transform((a) => (a.includes(null) ? a.map((v) => v ?? NaN) : (a as number[])));
const count = z.number().int().min(0);
const time = z.number();

const costShape = { macsDense: real, macsCompact: real, paramsDense: real, paramsCompact: real };
export const CostSummarySchema = extensible(costShape);
export type CostSummary = z.output<typeof CostSummarySchema>;

/** One conv (or dense) layer as LRPET sees it: its matrix view O × (I·kh·kw) and the rank it is cut to. */
export const LayerInfoSchema = extensible({
  name: z.string(),
  kind: z.enum(['conv', 'dense']),
  /** [O, I·kh·kw]: rows are output filters. */
  shape: z.tuple([count, count]),
  /** Kernel shape [kh, kw, I, O] (dense: [1, 1, in, out]). */
  kernel: z.tuple([count, count, count, count]),
  /** min(O, I·kh·kw). */
  n: count,
  rank: count,
  /** Whether this layer is projected at all. */
  projected: z.boolean(),
  /** Name of the BN that consumes this conv's output, if any. */
  bn: z.string().nullable(),
  /** Splitting would not reduce cost (r·(K+O) ≥ O·K): kept dense in the compact model. */
  keptDense: z.boolean(),
  ...costShape,
});
export type LayerInfo = z.output<typeof LayerInfoSchema>;

export const RunStartEventSchema = extensible({
  type: z.literal('runStart'),
  time,
  /** The iteration a resumed run continues from (null for a fresh run). */
  resumedFrom: count.nullable(),
  /** A log written before a setting existed reads it as what it meant then (StoredRunConfigSchema). */
  config: StoredRunConfigSchema,
  /** The prune ratio actually used (solved when a target was given). */
  prune: real,
  backend: z.string(),
  trainSize: count,
  testSize: count,
  stepsPerEpoch: count,
  layers: z.array(LayerInfoSchema),
  ...costShape,
});
export type RunStartEvent = z.output<typeof RunStartEventSchema>;

/**
 * tfjs's memory counters when the event was sent: bytes of the live tensors, and on a GPU backend the bytes
 * of its buffers in use and allocated (tfjs keeps freed buffers in a pool: allocated ≥ in use); null
 * where the backend does not say. Absent in logs from before it was recorded.
 */
export const MemorySchema = extensible({
  numBytes: count,
  gpuBytesInUse: count.nullable(),
  gpuBytesAllocated: count.nullable(),
});
export type MemorySnapshot = z.output<typeof MemorySchema>;

export const StepEventSchema = extensible({
  type: z.literal('step'),
  time,
  /** Global iteration, 1-based: the number of optimiser steps done. */
  iteration: count,
  epoch: count,
  loss: real,
  accuracy: real,
  lr: real,
  imagesPerSec: real,
  stepMs: real,
  numTensors: count,
  memory: MemorySchema.optional(),
});
export type StepEvent = z.output<typeof StepEventSchema>;

export const EpochEventSchema = extensible({
  type: z.literal('epoch'),
  time,
  epoch: count,
  iteration: count,
  trainLoss: real,
  trainAccuracy: real,
  testLoss: real,
  testAccuracy: real,
  /** True when the weights tested were just projected (test accuracy is after projection). */
  afterProjection: z.boolean(),
  epochMs: real,
  numTensors: count,
  memory: MemorySchema.optional(),
});
export type EpochEvent = z.output<typeof EpochEventSchema>;

export const LayerProjectionSchema = extensible({
  name: z.string(),
  shape: z.tuple([count, count]),
  rank: count,
  /** All n singular values of the (BN-merged) matrix before the projection, descending. */
  sigmaBefore: reals,
  /** After energy transfer: √α·σ for i ≤ r, β·σ for i > r. */
  sigmaAfter: reals,
  /** E_K / E: fraction of energy in the kept singular values before the projection. */
  energyKeptBefore: real,
  /** Same fraction after the projection (1 when β = 0). */
  energyKeptAfter: real,
  alpha: real,
  /** True when the layer was left exactly as it is: σ1 < 1e-4, or its rank is its full n (nothing to cut). */
  skipped: z.boolean(),
});
export type LayerProjection = z.output<typeof LayerProjectionSchema>;

export const ProjectionEventSchema = extensible({
  type: z.literal('projection'),
  time,
  /** 1-based count of projections in this run. */
  index: count,
  iteration: count,
  epoch: count,
  layers: z.array(LayerProjectionSchema),
  projectionMs: real,
  /** Test accuracy after the projection, when it was evaluated right away (end of epoch); null otherwise. */
  testAccuracy: z.number().nullable(),
});
export type ProjectionEvent = z.output<typeof ProjectionEventSchema>;

/** Why a step's gradient norms were recorded: every `gradNormEvery` steps, or the step right before / after a projection. */
export const GradNormReasonSchema = z.enum(['sample', 'beforeProjection', 'afterProjection']);
export type GradNormReason = z.output<typeof GradNormReasonSchema>;

export const GradNormsEventSchema = extensible({
  type: z.literal('gradNorms'),
  time,
  /** The step's iteration (1-based): its loss gradient, taken at the weights before that step's update. */
  iteration: count,
  epoch: count,
  /** All that apply ('beforeProjection': a projection follows this step; 'afterProjection': the first step after one). */
  reasons: z.array(GradNormReasonSchema).min(1),
  /**
   * Per layer, in runStart's `layers` order: ‖∇W‖ (Frobenius norm of the loss gradient of the kernel) and
   * ‖∇W‖/‖W‖. A layer trained as two split halves (the compact baselines) counts both halves together.
   */
  grad: reals,
  ratio: reals,
});
export type GradNormsEvent = z.output<typeof GradNormsEventSchema>;

export const CompactEventSchema = extensible({
  type: z.literal('compact'),
  time,
  testAccuracy: real,
  testLoss: real,
  /**
   * Accuracy of the projected dense model on the same test data, for comparison. Post-hoc runs: the
   * accuracy right after their one projection (before fine-tuning); compact-from-scratch runs: the
   * compact model's own accuracy.
   */
  denseTestAccuracy: real,
  layers: z.array(extensible({ name: z.string(), rank: count, split: z.boolean(), zero: z.boolean() })),
  /**
   * β > 0: the soft projections left the weights full rank, so a last hard (β = 0) projection cut them to
   * rank r before the compact model was built. Absent in logs from before it existed (they did not).
   */
  hardProjection: z.boolean().optional(),
  /**
   * The BN running statistics of the projected model were recomputed over `batches` training batches
   * before the compact model was built: test results before and after (denseTestAccuracy is the after).
   * null: not asked for; absent in logs from before it existed.
   */
  bnRecalibration: extensible({ batches: count, testAccuracyBefore: real, testAccuracyAfter: real, testLossBefore: real, testLossAfter: real }).nullish(),
  ...costShape,
});
export type CompactEvent = z.output<typeof CompactEventSchema>;

export const ConfigChangeEventSchema = extensible({
  type: z.literal('configChange'),
  time,
  iteration: count,
  epoch: count,
  changes: LiveUpdateSchema,
  /** The whole run config after the change. */
  config: StoredRunConfigSchema,
  layers: z.array(LayerInfoSchema),
});
export type ConfigChangeEvent = z.output<typeof ConfigChangeEventSchema>;

export const StateEventSchema = extensible({
  type: z.literal('state'),
  time,
  state: z.enum(['running', 'paused', 'stopped', 'finished']),
  iteration: count,
  epoch: count,
});
export type StateEvent = z.output<typeof StateEventSchema>;

export const ErrorEventSchema = extensible({
  type: z.literal('error'),
  time,
  /**
   * 'nan' — the loss went NaN/inf; 'exploding' — the loss rose above max(20, 10 × the run's first
   * step loss). Both pause the run before that step is applied. 'device' — GPU device lost; 'data',
   * 'config', 'internal'.
   */
  code: z.enum(['nan', 'exploding', 'device', 'data', 'config', 'internal']),
  message: z.string(),
  iteration: count,
  epoch: count,
});
export type ErrorEvent = z.output<typeof ErrorEventSchema>;

export const LogEventSchema = extensible({
  type: z.literal('log'),
  time,
  level: z.enum(['info', 'warn']),
  message: z.string(),
});
export type LogEvent = z.output<typeof LogEventSchema>;

/**
 * A wait of the run other than a training step, announced before it starts, so the page can say what is
 * going on: the first step (which compiles the GPU kernels), a test evaluation, building the compact
 * model, evaluating it. It lasts until the next event of another kind.
 */
export const ActivityEventSchema = extensible({
  type: z.literal('activity'),
  time,
  activity: z.enum(['compiling', 'evaluating', 'building-compact', 'evaluating-compact']),
  message: z.string(),
});
export type ActivityEvent = z.output<typeof ActivityEventSchema>;

const TimingSchema = extensible({
  samples: count,
  medianMs: real,
  minMs: real,
  maxMs: real,
  q1Ms: real,
  q3Ms: real,
  /** batch / median time. */
  imagesPerSec: real,
});

/**
 * Inference speed of the dense and the compact model, measured on the backend in use (after a run, or
 * later for a stored or imported run): the exported TensorFlow.js graph models, timed from the call to
 * the logits read back, after warm-up runs.
 */
export const InferenceEventSchema = extensible({
  type: z.literal('inference'),
  time,
  /** tfjs backend name ('webgpu', 'webgl', 'cpu'). */
  backend: z.string(),
  /** The adapter or renderer, when known (e.g. a software renderer's name). */
  device: z.string().nullable(),
  /** 'projected': the run's own projected dense model; 'architecture': the dense architecture with random weights (its speed does not depend on them). */
  denseSource: z.enum(['projected', 'architecture']),
  warmup: count,
  iterations: count,
  ...costShape,
  /** macsDense / macsCompact. */
  macRatio: real,
  /** paramsDense / paramsCompact. */
  paramRatio: real,
  /** The rank of each split layer of the compact model (the channels between its two halves), in graph order. */
  splitRanks: z.array(count),
  batches: z.array(
    extensible({
      batch: count,
      dense: TimingSchema,
      compact: TimingSchema,
      /** Dense median / compact median. */
      speedup: real,
      /** The engine's own forward of the compact model with the fused split convolution (WebGPU only; absent in older logs). */
      fused: TimingSchema.optional(),
      /** Dense median / fused median. */
      fusedSpeedup: real.optional(),
    }),
  ),
  /**
   * Measured when the speed-up fell below 0.8 of the MAC reduction: the compact graph model with every split
   * layer's rank padded (zero filters) to a multiple, the same function with more MACs.
   */
  paddedRanks: z
    .array(
      extensible({
        multiple: count,
        splitRanks: z.array(count),
        macsCompact: real,
        macRatio: real,
        batches: z.array(extensible({ batch: count, compact: TimingSchema, speedup: real })),
      }),
    )
    .optional(),
  /** Per batch, the quickest compact variant measured: the graph model as trained, padded to ×4 or ×8, or the fused forward. */
  fastest: z.array(extensible({ batch: count, variant: z.enum(['graph', 'padded4', 'padded8', 'fused']), medianMs: real, speedup: real })).optional(),
});
export type InferenceEvent = z.output<typeof InferenceEventSchema>;
export type InferenceTiming = z.output<typeof TimingSchema>;

/** One schema per event type. */
export const EVENT_SCHEMAS = {
  runStart: RunStartEventSchema,
  step: StepEventSchema,
  epoch: EpochEventSchema,
  projection: ProjectionEventSchema,
  gradNorms: GradNormsEventSchema,
  compact: CompactEventSchema,
  configChange: ConfigChangeEventSchema,
  state: StateEventSchema,
  error: ErrorEventSchema,
  log: LogEventSchema,
  activity: ActivityEventSchema,
  inference: InferenceEventSchema,
} as const;

export type EngineEventType = keyof typeof EVENT_SCHEMAS;
export type EngineEvent = z.output<(typeof EVENT_SCHEMAS)[EngineEventType]>;
export type EventListener = (event: EngineEvent) => void;
