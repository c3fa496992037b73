import { checkRunModes, parseRunConfig, parseStoredRunConfig, type LiveUpdate, type RunConfig } from '../config';
import { limitSplit, strideSubset, type CifarSplit } from '../data/cifar';
import { EpochOrder, stepsPerEpoch } from '../data/batcher';
import type { Checkpoint } from '../checkpoint';
import type { ProjectionSettings } from '../lrpet/project';
import type { MatrixImage } from '../lrpet/matrix-image';
import type { ModelGraph } from '../models/graph';
import { ConfigError, planModel, type ModelPlan } from '../plan';
import { Rng, deriveSeed } from '../rng';
import type { ExportedModel, RunControls, RunEnd, RunOptions, SafetensorsExport, Tf } from './api';
import { decodeModelWeights } from '../weights/model-weights';
import { CheckpointRequests, checkResumable, restore, snapshot, type CheckpointedState } from './checkpointing';
import { emitter, type Emit } from './emit';
import { Lifecycle, nextMacrotask } from './lifecycle';
import { LiveUpdates } from './live-updates';
import { MatrixImageStore } from './matrix-images';
import { memorySnapshot } from './memory';
import { runMode, type ModeHost, type Projection, type RunMode } from './modes';
import { RunModels } from './models';
import { RunProgress } from './progress';
import { gradNormReasons, layerKernels } from '../train/grad-norms';
import { learningRate } from '../train/schedule';
import { trainStep } from '../train/step';
import { errorText } from '../errors';

export type { RunControls, RunEnd, RunOptions, ExportedModel, SafetensorsExport } from './api';
export type { EvalResult } from '../train/evaluate';

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** The first step of a run compiles its kernels (WebGPU: shaders and pipelines; WebGL: programs); it can take a while. */
function firstStepMessage(backend: string): string {
  return backend === 'webgpu' || backend === 'webgl' ? 'compiling GPU kernels (the first step)…' : 'the first step…';
}

export function createRun(opts: RunOptions): RunControls {
  return new Trainer(opts);
}

/** One run: the training loop and its controls. What sets LRPET and the baselines apart is its mode (run/modes.ts). */
class Trainer implements RunControls, ModeHost {
  config: RunConfig;
  plan: ModelPlan;
  readonly denseGraph: ModelGraph;
  readonly models: RunModels;
  readonly progress = new RunProgress();
  readonly stepsPerEpoch: number;
  readonly emit: Emit;
  private readonly tf: Tf;
  private readonly mode: RunMode;
  private readonly train: CifarSplit;
  private readonly test: CifarSplit;
  private readonly order: EpochOrder;
  private readonly augRng: Rng;
  private readonly resumedFrom: number | null;
  private readonly lifecycle = new Lifecycle();
  private readonly updates = new LiveUpdates();
  private readonly checkpointRequests = new CheckpointRequests();
  /** Pictures of each layer's matrix before and after the latest projections (not in the events: too big). */
  readonly matrixImages = new MatrixImageStore();
  /** The NaN/exploding error that paused the run, until a step is applied again. */
  private divergedMessage: string | null = null;
  /** A step was applied in this process (the first one compiles the kernels). */
  private stepped = false;

  constructor(opts: RunOptions) {
    this.tf = opts.tf;
    this.emit = emitter(opts.onEvent);
    const c = opts.resume ?? null;
    const requested = parseRunConfig(opts.config);
    if (c && c.config.model !== requested.model) throw new ConfigError(`the checkpoint is of ${c.config.model}, not ${requested.model}`);
    // A resumed run goes on with the checkpoint's settings (they include live changes made before it);
    // a setting the checkpoint predates keeps the meaning it had then (weight decay on kernels only).
    this.config = c ? parseStoredRunConfig(c.config) : requested;
    checkRunModes(this.config);
    this.mode = runMode(this.config);
    this.plan = planModel(this.config.model, { ...this.config.lrpet });
    this.denseGraph = this.plan.graph;
    this.train = limitSplit(opts.data.train, this.config.trainLimit);
    // The test split may be sorted by class: take a spread-out subset, not the first N.
    this.test = strideSubset(opts.data.test, this.config.testLimit);
    if (this.train.count === 0 || this.test.count === 0) throw new ConfigError('the dataset has no training or no test images');
    if (c) checkResumable(c, this.config, this.train.count);
    this.stepsPerEpoch = stepsPerEpoch(this.train.count, this.config.batchSize);
    const structure = c ? (c.compact?.layers ?? null) : this.mode.initialStructure(this.plan);
    // Given weights are decoded and checked before any tensor exists (a bad file throws and leaves nothing behind).
    const init = c ? null : initialWeights(this.config, structure !== null, this.denseGraph, opts.initWeights);
    this.models = new RunModels(this.tf, this.test, this.denseGraph, structure, deriveSeed(this.config.seed, 'init'), this.config.weightDecayScope);
    this.order = new EpochOrder(this.train.count, new Rng(deriveSeed(this.config.seed, 'order')));
    this.augRng = new Rng(deriveSeed(this.config.seed, 'augment'));
    this.resumedFrom = c ? c.iteration : null;
    if (init) {
      try {
        this.models.assignInitial(init);
      } catch (e) {
        this.models.dispose();
        throw e;
      }
    }
    if (c) {
      try {
        restore(this.tf, c, this.checkpointed());
      } catch (e) {
        this.models.dispose();
        throw e;
      }
    }
  }

  async start(): Promise<RunEnd> {
    this.lifecycle.begin();
    const plan = this.plan;
    this.emit('runStart', {
      resumedFrom: this.resumedFrom,
      config: this.config,
      prune: plan.prune,
      backend: this.tf.getBackend(),
      trainSize: this.train.count,
      testSize: this.test.count,
      stepsPerEpoch: this.stepsPerEpoch,
      layers: plan.layers,
      macsDense: plan.macsDense,
      macsCompact: plan.macsCompact,
      paramsDense: plan.paramsDense,
      paramsCompact: plan.paramsCompact,
    });
    const message = this.resumedFrom === null ? this.mode.startMessage(this) : null;
    if (message) this.emit('log', { level: 'info', message });
    this.setState('running');
    try {
      await this.trainEpochs();
      await this.mode.finish(this);
      this.lifecycle.finish();
      await this.serveCheckpoints();
      const finished = this.progress.iteration >= this.config.epochs * this.stepsPerEpoch;
      this.setState(finished ? 'finished' : 'stopped');
      return finished ? { ended: 'finished' } : { ended: 'stopped', ...(this.divergedMessage !== null && { message: this.divergedMessage }) };
    } catch (e) {
      this.lifecycle.finish();
      await this.serveCheckpoints().catch(() => undefined);
      const message = errorText(e);
      const device = /device (was )?lost|GPUDevice|out of memory/i.test(message);
      this.emit('error', { code: device ? 'device' : 'internal', message, iteration: this.progress.iteration, epoch: this.progress.epoch });
      this.setState('stopped');
      return { ended: 'error', message };
    }
  }

  private async trainEpochs(): Promise<void> {
    const p = this.progress;
    const buffer = new Float32Array(this.config.batchSize * 3072);
    while (p.epoch < this.config.epochs) {
      const t0 = now();
      let endProjection: Projection | null = null;
      while (p.step < this.stepsPerEpoch) {
        if (!(await this.betweenSteps())) return;
        this.updates.applyTo(this, () => this.mode.rankChangeRefusal(this));
        // Known before the step (its settings are fixed from here on), so the step can record its gradients as the one before a projection.
        const projectionDue = this.mode.projectsAfterStep(this, { epoch: p.epoch, step: p.step + 1, iteration: p.iteration + 1 });
        if (!this.stepped) this.emit('activity', { activity: 'compiling', message: firstStepMessage(this.tf.getBackend()) });
        if (!(await this.runStep(buffer, projectionDue))) continue;
        this.stepped = true;
        if (projectionDue) {
          const projection = await this.project();
          // At the end of an epoch the test evaluation below is the after-projection one: report it with the projection.
          if (p.step === this.stepsPerEpoch) endProjection = projection;
          else this.projectionEvent(projection, null);
        }
      }
      this.emit('activity', { activity: 'evaluating', message: `testing on ${this.test.count} images…` });
      const test = await this.models.evaluateTrained(p);
      if (endProjection) this.projectionEvent(endProjection, test.accuracy);
      const train = p.epochMeans();
      this.emit('epoch', {
        epoch: p.epoch,
        iteration: p.iteration,
        trainLoss: train.loss,
        trainAccuracy: train.accuracy,
        testLoss: test.loss,
        testAccuracy: test.accuracy,
        afterProjection: endProjection !== null,
        epochMs: now() - t0,
        numTensors: this.tf.memory().numTensors,
        memory: memorySnapshot(this.tf),
      });
      await this.mode.afterEpoch(this, endProjection !== null, test.accuracy);
      // The next epoch's order is drawn here, so a checkpoint at its first step holds it already.
      if (p.epoch + 1 < this.config.epochs) this.order.reshuffle();
      p.nextEpoch();
    }
  }

  /** Between two steps: lets messages in, serves checkpoints, waits while paused; false when the run should end. */
  private async betweenSteps(): Promise<boolean> {
    await nextMacrotask();
    await this.serveCheckpoints();
    this.lifecycle.singleStepDone();
    if (this.lifecycle.phase() === 'paused') {
      this.setState('paused');
      await this.lifecycle.pausedUntilReleased();
      if (this.lifecycle.phase() === 'running') this.setState('running');
    }
    if (this.lifecycle.phase() !== 'running') return false;
    this.lifecycle.stepStarts();
    return true;
  }

  /** One step on the next batch; false when the loss diverged: nothing was applied, and the run pauses. */
  private async runStep(buffer: Float32Array, projectionDue: boolean): Promise<boolean> {
    const p = this.progress;
    const { batchSize, augment, momentum, weightDecay, epochs, schedule } = this.config;
    const start = p.step * batchSize;
    const n = Math.min(batchSize, this.train.count - start);
    const t0 = now();
    const augState = this.augRng.state;
    const lr = learningRate(this.config.lr, schedule, p.epoch, p.iteration / (epochs * this.stepsPerEpoch));
    const batch = { split: this.train, indices: this.order.order.subarray(start, start + n), buffer, augment: augment ? this.augRng : null };
    const afterProjection = p.iteration > 0 && p.lastProjectionIteration === p.iteration;
    const reasons = gradNormReasons(this.config.gradNormEvery, p.iteration + 1, projectionDue, afterProjection);
    const model = this.models.trained;
    const gradNorms = reasons.length ? layerKernels(model.params, this.plan.layers.map((l) => l.name)) : null;
    const result = await trainStep(this.tf, model, batch, { lr, momentum, weightDecay, firstLoss: p.firstLoss, iteration: p.iteration + 1, gradNorms });
    if (!result.applied) {
      this.augRng.state = augState;
      this.divergedMessage = result.divergence.message;
      this.emit('error', { ...result.divergence, iteration: p.iteration, epoch: p.epoch });
      // Wait for the user (e.g. a lower learning rate) — unless the error's listener stopped the run already.
      this.lifecycle.pause();
      return false;
    }
    this.divergedMessage = null;
    p.stepDone(result.loss, result.hits, n);
    const stepMs = now() - t0;
    // A single step (step()) is always reported: the page shows where it stopped.
    if (p.iteration % this.config.stepEventEvery === 0 || this.lifecycle.singleStep()) {
      const numTensors = this.tf.memory().numTensors;
      this.emit('step', { iteration: p.iteration, epoch: p.epoch, loss: result.loss, accuracy: result.hits / n, lr, imagesPerSec: (n / stepMs) * 1000, stepMs, numTensors, memory: memorySnapshot(this.tf) });
    }
    if (result.gradNorms) this.emit('gradNorms', { iteration: p.iteration, epoch: p.epoch, reasons, ...result.gradNorms });
    return true;
  }

  async project(override?: Partial<ProjectionSettings>): Promise<Projection> {
    const t0 = now();
    const images = new Map<string, { before: MatrixImage; after: MatrixImage }>();
    const layers = await this.models.project(this.plan.layers, { ...this.config.lrpet, ...override }, (name, before, after) => images.set(name, { before, after }));
    const ms = now() - t0;
    this.progress.projected();
    const { projections: projection, iteration } = this.progress;
    this.matrixImages.add(layers.flatMap((l) => (images.has(l.name) ? [{ layer: l.name, projection, iteration, shape: l.shape, rank: l.rank, ...images.get(l.name)! }] : [])));
    return { layers, ms };
  }

  recalibrateBn(batches: number): Promise<void> {
    const { batchSize, augment, seed } = this.config;
    return this.models.recalibrateBn(this.train, { batches, batchSize, augment, seed: deriveSeed(seed, 'bn-recalibration') });
  }

  projectionEvent(projection: Projection, testAccuracy: number | null): void {
    const p = this.progress;
    this.emit('projection', { index: p.projections, iteration: p.iteration, epoch: p.epoch, layers: projection.layers, projectionMs: projection.ms, testAccuracy });
  }

  private setState(state: 'running' | 'paused' | 'stopped' | 'finished'): void {
    this.emit('state', { state, iteration: this.progress.iteration, epoch: this.progress.epoch });
  }

  private checkpointed(): CheckpointedState {
    return { config: this.config, progress: this.progress, order: this.order, augRng: this.augRng, model: this.models.trained };
  }

  private serveCheckpoints(): Promise<void> {
    return this.checkpointRequests.serve(() => snapshot(this.tf, this.checkpointed()));
  }

  /** A consistent snapshot taken between two steps: at once when paused or not started, else after the step in flight. */
  checkpoint(): Promise<Checkpoint> {
    if (this.models.disposed) return Promise.reject(new Error('the run has been disposed'));
    const phase = this.lifecycle.phase();
    if (phase === 'running' || phase === 'stopping') return this.checkpointRequests.add();
    return snapshot(this.tf, this.checkpointed());
  }

  readonly pause = () => this.lifecycle.pause();
  readonly resume = () => this.lifecycle.resume();
  readonly step = () => this.lifecycle.step();
  readonly stop = () => this.lifecycle.stop();

  update(changes: LiveUpdate): void {
    this.updates.push(changes);
  }

  exportModels(): Promise<{ projected: ExportedModel; compact: ExportedModel | null }> {
    return this.models.exportModels();
  }

  exportSafetensors(): Promise<SafetensorsExport> {
    return this.models.exportSafetensors(this.config.model, this.progress.iteration);
  }

  dispose(): void {
    this.stop();
    this.models.dispose();
  }
}

/** The values a fresh run starts from when its config names initial weights (null: from the seed). */
function initialWeights(config: RunConfig, compactStart: boolean, graph: ModelGraph, bytes: Uint8Array | undefined): Map<string, Float32Array> | null {
  if (!config.init) {
    if (bytes) throw new ConfigError('initial weights were given, but the config does not name them (set init: { name })');
    return null;
  }
  if (compactStart) throw new ConfigError('compact from scratch trains a fresh compact architecture: it cannot start from given weights');
  if (!bytes) throw new ConfigError(`the run starts from ${config.init.name}, but no weights were given with it`);
  return decodeModelWeights(bytes, graph, config.model);
}
