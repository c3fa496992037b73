import type { RunConfig } from '../config';
import type { CompactEvent, LayerProjection } from '../events';
import type { ProjectionSettings } from '../lrpet/project';
import { costSummary, graphCosts, type Costs } from '../models/cost';
import type { ModelGraph } from '../models/graph';
import { plannedCompactLayers, type CompactLayer } from '../models/split';
import type { ModelPlan } from '../plan';
import type { Emit } from './emit';
import type { RunModels } from './models';
import type { RunProgress } from './progress';
import type { EvalResult } from '../train/evaluate';

/** One projection of every projected layer, and how long it took. */
export interface Projection {
  layers: LayerProjection[];
  ms: number;
}

/** Where a step leaves the run: its epoch, its 1-based step in that epoch and the run's iteration count. */
export interface StepPosition {
  epoch: number;
  step: number;
  iteration: number;
}

/** What a mode sees of its run and may ask of it. */
export interface ModeHost {
  readonly config: RunConfig;
  readonly plan: ModelPlan;
  /** The dense architecture, what compact costs are compared with. */
  readonly denseGraph: ModelGraph;
  readonly progress: RunProgress;
  readonly stepsPerEpoch: number;
  readonly models: RunModels;
  readonly emit: Emit;
  /** Projects the trained model once and counts it; the projection event is the caller's to send. `override`: settings other than the run's for this one (a hard cut). */
  project(override?: Partial<ProjectionSettings>): Promise<Projection>;
  /** Refreshes the trained model's BN running statistics over this many training batches. */
  recalibrateBn(batches: number): Promise<void>;
  projectionEvent(p: Projection, testAccuracy: number | null): void;
}

/**
 * What sets the kinds of run apart: LRPET (projections on a schedule, then the compact model built from
 * the projected one), the dense baseline, post-hoc (dense training, one projection, then the compact
 * model fine-tuned) and the compact architecture trained from scratch.
 */
export interface RunMode {
  /** The split structure trained from the first step; null: the dense graph. */
  initialStructure(plan: ModelPlan): CompactLayer[] | null;
  /** A line to log when a fresh run starts. */
  startMessage(run: ModeHost): string | null;
  /** Whether a projection follows the step that ends at `at` (asked before the step, so the step knows it comes right before one). */
  projectsAfterStep(run: ModeHost, at: StepPosition): boolean;
  /** After an epoch's test evaluation; `projected`: the epoch ended with a projection, tested at `testAccuracy`. */
  afterEpoch(run: ModeHost, projected: boolean, testAccuracy: number): Promise<void>;
  /** The end of the run, finished or stopped: the compact event, if this kind of run has one. */
  finish(run: ModeHost): Promise<void>;
  /** Why the ranks cannot change any more; null when they can. */
  rankChangeRefusal(run: ModeHost): string | null;
}

export function runMode(c: RunConfig): RunMode {
  if (c.posthoc) return posthoc;
  if (c.compactFromScratch) return compactFromScratch;
  return c.lrpet.enabled ? lrpet : dense;
}

const nothing = async (): Promise<void> => undefined;

const dense: RunMode = {
  initialStructure: () => null,
  startMessage: () => null,
  projectsAfterStep: () => false,
  afterEpoch: nothing,
  finish: nothing,
  rankChangeRefusal: () => null,
};

const lrpet: RunMode = {
  ...dense,
  projectsAfterStep: scheduledProjectionDue,
  finish: (run) => (run.config.buildCompact ? buildCompact(run) : nothing()),
};

const posthoc: RunMode = {
  ...dense,
  // The one projection comes after the last step of the last dense epoch.
  projectsAfterStep: ({ config, stepsPerEpoch, models }, at) =>
    !models.trained.compactLayers && at.step === stepsPerEpoch && at.epoch === config.epochs - config.posthoc!.fineTuneEpochs - 1,
  afterEpoch: (run, projected, testAccuracy) => (projected ? switchToCompact(run, testAccuracy) : nothing()),
  // Stopped before its switch, a post-hoc run ends as an LRPET run would.
  finish: (run) => (run.models.trained.compactLayers ? reportTrainedCompact(run) : lrpet.finish(run)),
  rankChangeRefusal: (run) => (run.models.trained.compactLayers ? 'the compact model is already being fine-tuned' : null),
};

const compactFromScratch: RunMode = {
  ...dense,
  initialStructure: (plan) => plannedCompactLayers(plan.layers),
  startMessage: (run) => `training the compact architecture from scratch (${costText(graphCosts(run.models.trained.graph))}), no projections`,
  finish: reportTrainedCompact,
  rankChangeRefusal: () => 'a compact-from-scratch run trains a fixed compact architecture',
};

/** LRPET's schedule: every `interval` iterations (default: one epoch) in the epochs from startEpoch to endEpoch. */
function scheduledProjectionDue({ config, stepsPerEpoch }: ModeHost, at: StepPosition): boolean {
  const l = config.lrpet;
  const inRange = at.epoch >= l.startEpoch && at.epoch <= (l.endEpoch ?? config.epochs - 1);
  return inRange && at.iteration % (l.interval ?? stepsPerEpoch) === 0;
}

/**
 * The cut made before a compact model is built from weights projected with β > 0: soft projections keep
 * the cut singular values at β·σ, so every layer stays full rank and the rank-r split would not compute
 * what was trained. This projection is hard (β = 0) in the BN-merged space and leaves the kept σ as they
 * are (no energy transfer: no training follows that would need it, and the best rank-r approximation is
 * the one closest to the trained function).
 */
const HARD_CUT: Partial<ProjectionSettings> = { beta: 0, energyTransfer: false };

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

function hardCutMessage(beta: number, accuracy: number): string {
  return (
    `β = ${beta}: the soft projections leave every layer at full rank, so one hard projection (β = 0, kept singular values unchanged) ` +
    `cut them to rank r before the compact model was built; test accuracy after it ${pct(accuracy)}`
  );
}

/** Refreshes the BN running statistics of the projected model (train/bn-recalibration.ts) and tests it again. */
async function recalibrateBn(run: ModeHost, batches: number, before: EvalResult): Promise<{ result: EvalResult; report: NonNullable<CompactEvent['bnRecalibration']> }> {
  await run.recalibrateBn(batches);
  const result = await run.models.evaluateTrained(run.progress);
  run.emit('log', {
    level: 'info',
    message: `BN recalibration: running statistics recomputed over ${batches} training batch${batches === 1 ? '' : 'es'} (average of the batch statistics); test accuracy ${pct(before.accuracy)} → ${pct(result.accuracy)}`,
  });
  return { result, report: { batches, testAccuracyBefore: before.accuracy, testAccuracyAfter: result.accuracy, testLossBefore: before.loss, testLossAfter: result.loss } };
}

/**
 * End of an LRPET run: project once more if training moved the weights since the last projection (with
 * β > 0 a hard cut instead, always), optionally recalibrate the BN statistics, then build, test and
 * report the compact model — built last, so it computes what the projected model computes.
 */
async function buildCompact(run: ModeHost): Promise<void> {
  const p = run.progress;
  const { beta, bnRecalibrationBatches } = run.config.lrpet;
  const hard = beta > 0;
  const finalProjection = hard ? await run.project(HARD_CUT) : p.lastProjectionIteration !== p.iteration ? await run.project() : null;
  if (finalProjection) run.emit('activity', { activity: 'evaluating', message: `testing the projected model on ${run.models.testCount} images…` });
  let projected = await run.models.evaluateTrained(p);
  if (finalProjection) run.projectionEvent(finalProjection, projected.accuracy);
  if (hard) run.emit('log', { level: 'info', message: hardCutMessage(beta, projected.accuracy) });
  let bnRecalibration: CompactEvent['bnRecalibration'] = null;
  if (bnRecalibrationBatches > 0) {
    const r = await recalibrateBn(run, bnRecalibrationBatches, projected);
    projected = r.result;
    bnRecalibration = r.report;
  }
  run.emit('activity', { activity: 'building-compact', message: 'building the compact model (splitting the convolutions)…' });
  const compact = await run.models.buildCompact(run.plan.layers);
  run.emit('activity', { activity: 'evaluating-compact', message: `testing the compact model on ${run.models.testCount} images…` });
  const result = await run.models.evaluateCompact();
  run.emit('compact', {
    ...costSummary(run.denseGraph, compact.graph),
    testAccuracy: result.accuracy,
    testLoss: result.loss,
    denseTestAccuracy: projected.accuracy,
    layers: compact.layers,
    hardProjection: hard,
    bnRecalibration,
  });
}

/** End of a run that trained a compact model (post-hoc after its switch, or from scratch): report it. */
async function reportTrainedCompact(run: ModeHost): Promise<void> {
  const model = run.models.trained;
  run.emit('activity', { activity: 'evaluating-compact', message: `testing the compact model on ${run.models.testCount} images…` });
  const result = await run.models.evaluateTrained(run.progress);
  run.emit('compact', {
    ...costSummary(run.denseGraph, model.graph),
    testAccuracy: result.accuracy,
    testLoss: result.loss,
    denseTestAccuracy: run.progress.denseTestAccuracy ?? result.accuracy,
    layers: model.compactLayers!,
    hardProjection: false,
    bnRecalibration: null,
  });
}

/** Post-hoc, after its one projection: from here on the compact model is trained. */
async function switchToCompact(run: ModeHost, projectedAccuracy: number): Promise<void> {
  let denseAccuracy = projectedAccuracy;
  const { beta } = run.config.lrpet;
  if (beta > 0) {
    const cut = await run.project(HARD_CUT);
    denseAccuracy = (await run.models.evaluateTrained(run.progress)).accuracy;
    run.projectionEvent(cut, denseAccuracy);
    run.emit('log', { level: 'info', message: hardCutMessage(beta, denseAccuracy) });
  }
  run.emit('activity', { activity: 'building-compact', message: 'building the compact model (splitting the convolutions) to fine-tune it…' });
  const model = await run.models.switchToCompact(run.plan.layers);
  const { epoch } = run.progress;
  run.progress.denseTestAccuracy = denseAccuracy;
  const split = model.compactLayers!.filter((l) => l.split).length;
  run.emit('log', {
    level: 'info',
    message:
      `post-hoc: projected once after epoch ${epoch + 1} (test accuracy ${(denseAccuracy * 100).toFixed(2)}%), ` +
      `split ${split} layers into the compact model (${costText(graphCosts(model.graph))}); fine-tuning it for ${run.config.epochs - epoch - 1} epochs`,
  });
}

function costText(c: Costs): string {
  return `${(c.macs / 1e6).toFixed(2)}M MACs, ${(c.params / 1e3).toFixed(1)}k parameters`;
}
