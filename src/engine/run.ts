import type * as tfType from '@tensorflow/tfjs';
import type { Checkpoint } from './checkpoint';
import { LiveUpdateSchema, applyLiveUpdate, checkRunModes, parseRunConfig, type LiveUpdate, type RunConfig } from './config';
import { limitSplit, strideSubset, type CifarSplit } from './data/cifar';
import { EpochOrder, fillBatch, stepsPerEpoch } from './data/batcher';
import type { EngineEvent, LayerInfo, LayerProjection } from './events';
import { exportGraphModel } from './export/graph-model';
import { buildCompactModel, type CompactModel } from './lrpet/compact';
import { projectModel } from './lrpet/project';
import { costSummary, graphCosts } from './models/cost';
import { forward, type BatchStats } from './models/forward';
import type { ModelGraph } from './models/graph';
import { disposeParams, initParams } from './models/params';
import { compactGraph, plannedCompactLayers } from './models/split';
import { ConfigError, planModel, type ModelPlan } from './plan';
import { Rng, deriveSeed } from './rng';
import type { ExportedModel, RunControls, RunEnd, RunOptions, Tf } from './run-api';
import { evaluate, type EvalResult } from './train/evaluate';
import { learningRate } from './train/schedule';
import { checkpointVariables, createTrainedModel, disposeTrainedModel, type TrainedModel } from './train/trained-model';

export type { RunControls, RunEnd, RunOptions, ExportedModel } from './run-api';
export { evaluate, type EvalResult } from './train/evaluate';

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** A loss above max(EXPLODING_FLOOR, EXPLODING_FACTOR × the first step's loss) counts as diverging. */
const EXPLODING_FLOOR = 20;
const EXPLODING_FACTOR = 10;

/**
 * Resolves in a new macrotask. On backends whose reads resolve as microtasks (tfjs CPU) the training
 * loop would otherwise never let the worker's message handlers (pause, stop, update) run.
 */
/**
 * Resolves in a later task, so messages (pause, stop, updates) get in between two steps. A message on a
 * fresh MessageChannel rather than setTimeout(0), which waits at least 1 ms in Node and 4 ms when nested
 * in browsers — time taken from every training step.
 */
const nextMacrotask = (): Promise<void> =>
  typeof MessageChannel === 'undefined'
    ? new Promise((resolve) => setTimeout(resolve, 0))
    : new Promise((resolve) => {
        const { port1, port2 } = new MessageChannel();
        port1.onmessage = () => {
          port1.close(); // an open port would keep Node's event loop alive
          resolve();
        };
        port2.postMessage(null);
      });

export function createRun(opts: RunOptions): RunControls {
  return new Trainer(opts);
}

type Phase = 'idle' | 'running' | 'paused' | 'stopping' | 'finished';

type Projection = { layers: LayerProjection[]; ms: number };

class Trainer implements RunControls {
  private readonly tf: Tf;
  private config: RunConfig;
  private plan: ModelPlan;
  /** The dense architecture (the plan's graph): what LRPET projects and what compact costs are compared with. */
  private readonly denseGraph: ModelGraph;
  /** The model being trained; null once disposed. */
  private model: TrainedModel | null;
  /** The compact model built at the end of an LRPET run (compact-trained runs export their trained model). */
  private compact: CompactModel | null = null;
  private readonly train: CifarSplit;
  private readonly test: CifarSplit;
  private readonly steps: number;
  private phase: Phase = 'idle';
  private resumeGate: (() => void) | null = null;
  private readonly pending: LiveUpdate[] = [];
  private iteration = 0;
  private epoch = 0;
  private projections = 0;
  private lastProjectionIteration = -1;
  /** Position inside the current epoch and its running sums (checkpointed). */
  private step = 0;
  private sums = { loss: 0, hits: 0, seen: 0 };
  private firstLoss: number | null = null;
  /** The NaN/exploding error that paused the run, until a step is applied again. */
  private divergedMessage: string | null = null;
  /** Post-hoc: test accuracy right after the one projection. */
  private posthocDenseAccuracy: number | null = null;
  private lastEval: { model: TrainedModel; iteration: number; projections: number; result: EvalResult } | null = null;
  private readonly order: EpochOrder;
  private readonly augRng: Rng;
  private readonly resumeFrom: Checkpoint | null;
  private readonly checkpointRequests: ((c: Checkpoint) => void)[] = [];
  private readonly emit: (e: EngineEvent) => void;

  constructor(opts: RunOptions) {
    this.tf = opts.tf;
    this.emit = opts.onEvent;
    this.resumeFrom = opts.resume ?? null;
    const requested = parseRunConfig(opts.config);
    const c = this.resumeFrom;
    if (c && c.config.model !== requested.model) throw new ConfigError(`the checkpoint is of ${c.config.model}, not ${requested.model}`);
    // A resumed run goes on with the checkpoint's settings (they include live changes made before it).
    this.config = c ? parseRunConfig(c.config) : requested;
    checkRunModes(this.config);
    this.plan = planModel(this.config.model, { ...this.config.lrpet });
    this.denseGraph = this.plan.graph;
    this.train = limitSplit(opts.data.train, this.config.trainLimit);
    // The test split may be sorted by class: take a spread-out subset, not the first N.
    this.test = strideSubset(opts.data.test, this.config.testLimit);
    if (this.train.count === 0 || this.test.count === 0) throw new ConfigError('the dataset has no training or no test images');
    if (c && c.order.length !== this.train.count) throw new ConfigError(`the checkpoint was made with ${c.order.length} training images, this run has ${this.train.count}`);
    if (c && this.config.compactFromScratch && !c.compact) throw new ConfigError('the checkpoint of a compact-from-scratch run has no compact structure');
    this.steps = stepsPerEpoch(this.train.count, this.config.batchSize);
    const structure = c ? (c.compact?.layers ?? null) : this.config.compactFromScratch ? plannedCompactLayers(this.plan.layers) : null;
    const graph = structure ? compactGraph(this.denseGraph, structure) : this.denseGraph;
    this.model = createTrainedModel(this.tf, graph, initParams(this.tf, graph, deriveSeed(this.config.seed, 'init')), structure);
    this.order = new EpochOrder(this.train.count, new Rng(deriveSeed(this.config.seed, 'order')));
    this.augRng = new Rng(deriveSeed(this.config.seed, 'augment'));
    if (c) {
      try {
        this.restore(c);
      } catch (e) {
        disposeTrainedModel(this.model);
        throw e;
      }
    }
  }

  private get trained(): TrainedModel {
    if (!this.model) throw new Error('the run has been disposed');
    return this.model;
  }

  private restore(c: Checkpoint): void {
    const byKey = new Map(c.tensors.map((t) => [t.key, t]));
    const tf = this.tf;
    for (const [key, v] of checkpointVariables(this.trained)) {
      const t = byKey.get(key);
      if (!t || t.data.length !== v.size) throw new ConfigError(`the checkpoint has no matching tensor for ${key}`);
      tf.tidy(() => v.assign(tf.tensor(t.data, v.shape)));
    }
    this.iteration = c.iteration;
    this.epoch = c.epoch;
    this.step = c.step;
    this.projections = c.projections;
    this.lastProjectionIteration = c.lastProjectionIteration;
    this.sums = { ...c.epochSums };
    this.firstLoss = c.firstLoss;
    this.posthocDenseAccuracy = c.compact?.denseTestAccuracy ?? null;
    this.order.order.set(c.order);
    this.order.rng.state = c.orderRngState;
    this.augRng.state = c.augmentRngState;
  }

  /**
   * A consistent snapshot taken between two steps: at once when paused or not started, else after
   * the step in flight.
   */
  checkpoint(): Promise<Checkpoint> {
    if (!this.model) return Promise.reject(new Error('the run has been disposed'));
    if (this.phase === 'running' || this.phase === 'stopping') return new Promise((resolve) => this.checkpointRequests.push(resolve));
    return this.snapshot();
  }

  private snapshot(): Promise<Checkpoint> {
    const tf = this.tf;
    const model = this.trained;
    const vars = checkpointVariables(model);
    // Clone synchronously so later steps cannot change what is being read.
    const clones = vars.map(([, v]) => tf.clone(v));
    const meta = {
      version: 2 as const,
      time: Date.now(),
      config: structuredClone(this.config),
      iteration: this.iteration,
      epoch: this.epoch,
      step: this.step,
      projections: this.projections,
      lastProjectionIteration: this.lastProjectionIteration,
      epochSums: { ...this.sums },
      order: this.order.order.slice(),
      orderRngState: this.order.rng.state,
      augmentRngState: this.augRng.state,
      firstLoss: this.firstLoss,
      compact: model.compactLayers ? { layers: structuredClone(model.compactLayers), denseTestAccuracy: this.posthocDenseAccuracy } : null,
    };
    return Promise.all(clones.map((c) => c.data())).then((datas) => {
      tf.dispose(clones);
      return { ...meta, tensors: vars.map(([key, v], i) => ({ key, shape: v.shape, data: datas[i] as Float32Array })) };
    });
  }

  private async serveCheckpointRequests(): Promise<void> {
    if (!this.checkpointRequests.length) return;
    const c = await this.snapshot();
    for (const r of this.checkpointRequests.splice(0)) r(c);
  }

  get layers(): LayerInfo[] {
    return this.plan.layers;
  }

  private event<T extends EngineEvent['type']>(type: T, body: Omit<Extract<EngineEvent, { type: T }>, 'type' | 'time'>): void {
    this.emit({ type, time: Date.now(), ...body } as unknown as EngineEvent);
  }

  private log(message: string): void {
    this.event('log', { level: 'info', message });
  }

  private setState(state: 'running' | 'paused' | 'stopped' | 'finished'): void {
    this.event('state', { state, iteration: this.iteration, epoch: this.epoch });
  }

  pause(): void {
    if (this.phase === 'running') this.phase = 'paused';
  }

  resume(): void {
    if (this.phase !== 'paused') return;
    this.phase = 'running';
    this.resumeGate?.();
    this.resumeGate = null;
  }

  stop(): void {
    if (this.phase === 'finished') return;
    const wasPaused = this.phase === 'paused';
    this.phase = 'stopping';
    if (wasPaused) {
      this.resumeGate?.();
      this.resumeGate = null;
    }
  }

  update(changes: LiveUpdate): void {
    this.pending.push(LiveUpdateSchema.parse(changes));
  }

  private projectionInterval(): number {
    return this.config.lrpet.interval ?? this.steps;
  }

  /** LRPET's scheduled projections; the baselines have none (post-hoc projects once, at its switch). */
  private projectionActive(epoch: number): boolean {
    const c = this.config;
    const l = c.lrpet;
    if (c.posthoc || c.compactFromScratch) return false;
    return l.enabled && epoch >= l.startEpoch && epoch <= (l.endEpoch ?? c.epochs - 1);
  }

  /** Post-hoc: the one projection is due after the last step of the last dense epoch. */
  private posthocSwitchDue(): boolean {
    const p = this.config.posthoc;
    return !!p && !this.trained.compactLayers && this.step === this.steps && this.epoch === this.config.epochs - p.fineTuneEpochs - 1;
  }

  private applyPending(): void {
    while (this.pending.length) {
      const changes = this.pending.shift()!;
      const rankChange = changes.prune !== undefined || changes.rankOverrides !== undefined;
      if (rankChange && this.trained.compactLayers) {
        const what = this.config.compactFromScratch ? 'a compact-from-scratch run trains a fixed compact architecture' : 'the compact model is already being fine-tuned';
        this.event('error', { code: 'config', message: `change not applied: the ranks cannot change, ${what}`, iteration: this.iteration, epoch: this.epoch });
        continue;
      }
      const next = applyLiveUpdate(this.config, changes);
      let plan = this.plan;
      try {
        if (rankChange) plan = planModel(this.denseGraph, { ...next.lrpet });
      } catch (e) {
        this.event('error', { code: 'config', message: `change not applied: ${(e as Error).message}`, iteration: this.iteration, epoch: this.epoch });
        continue;
      }
      this.config = next;
      this.plan = plan;
      this.event('configChange', { iteration: this.iteration, epoch: this.epoch, changes, config: next, layers: plan.layers });
    }
  }

  private currentLr(): number {
    const total = this.config.epochs * this.steps;
    return learningRate(this.config.lr, this.config.schedule, this.epoch, this.iteration / total);
  }

  /** Between two steps: lets messages in, serves checkpoints, waits while paused; returns false when the run should end. */
  private async gate(): Promise<boolean> {
    await nextMacrotask();
    await this.serveCheckpointRequests();
    if (this.currentPhase() === 'paused') {
      this.setState('paused');
      await new Promise<void>((resolve) => (this.resumeGate = resolve));
      if (this.currentPhase() === 'running') this.setState('running');
    }
    return this.currentPhase() === 'running';
  }

  /** Read through a method: the phase changes while the loop awaits. */
  private currentPhase(): Phase {
    return this.phase;
  }

  /** Test loss and accuracy of the trained model, computed once per state of its weights. */
  private async evaluateTrained(): Promise<EvalResult> {
    const model = this.trained;
    const e = this.lastEval;
    if (e && e.model === model && e.iteration === this.iteration && e.projections === this.projections) return e.result;
    const result = await evaluate(this.tf, model.graph, model.params, this.test);
    this.lastEval = { model, iteration: this.iteration, projections: this.projections, result };
    return result;
  }

  private async project(): Promise<Projection> {
    const t0 = now();
    const model = this.trained;
    const layers = await projectModel(this.tf, model.params, this.plan.layers, (bn) => model.bnNodes.get(bn)!.epsilon, this.config.lrpet);
    this.lastProjectionIteration = this.iteration;
    this.projections++;
    return { layers, ms: now() - t0 };
  }

  private projectionEvent(p: Projection, testAccuracy: number | null): void {
    this.event('projection', { index: this.projections, iteration: this.iteration, epoch: this.epoch, layers: p.layers, projectionMs: p.ms, testAccuracy });
  }

  async start(): Promise<RunEnd> {
    if (this.phase !== 'idle') throw new Error('a run can be started once');
    this.phase = 'running';
    const tf = this.tf;
    const cfg = this.config;
    this.event('runStart', {
      resumedFrom: this.resumeFrom ? this.resumeFrom.iteration : null,
      config: cfg,
      prune: this.plan.prune,
      backend: tf.getBackend(),
      trainSize: this.train.count,
      testSize: this.test.count,
      stepsPerEpoch: this.steps,
      layers: this.plan.layers,
      macsDense: this.plan.macsDense,
      macsCompact: this.plan.macsCompact,
      paramsDense: this.plan.paramsDense,
      paramsCompact: this.plan.paramsCompact,
    });
    if (cfg.compactFromScratch && !this.resumeFrom) this.log(`training the compact architecture from scratch (${costText(graphCosts(this.trained.graph))}), no projections`);
    this.setState('running');
    try {
      await this.trainEpochs();
      if (this.trained.compactLayers) await this.finishCompactTraining();
      else if (this.config.lrpet.enabled && this.config.buildCompact) await this.finishCompact();
      this.phase = 'finished';
      await this.serveCheckpointRequests();
      const finished = this.iteration >= cfg.epochs * this.steps;
      this.setState(finished ? 'finished' : 'stopped');
      return finished ? { ended: 'finished' } : { ended: 'stopped', ...(this.divergedMessage !== null && { message: this.divergedMessage }) };
    } catch (e) {
      this.phase = 'finished';
      await this.serveCheckpointRequests().catch(() => undefined);
      const message = e instanceof Error ? e.message : String(e);
      const device = /device (was )?lost|GPUDevice|out of memory/i.test(message);
      this.event('error', { code: device ? 'device' : 'internal', message, iteration: this.iteration, epoch: this.epoch });
      this.setState('stopped');
      return { ended: 'error', message };
    }
  }

  private async trainEpochs(): Promise<void> {
    const tf = this.tf;
    const cfg = this.config;
    const buf = new Float32Array(cfg.batchSize * 3072);
    for (; this.epoch < cfg.epochs; this.epoch++, this.step = 0) {
      const t0 = now();
      let endProjection: Projection | null = null;
      while (this.step < this.steps) {
        if (!(await this.gate())) return;
        this.applyPending();
        const s = this.step;
        const start = s * cfg.batchSize;
        const n = Math.min(cfg.batchSize, this.train.count - start);
        const tStep = now();
        const augState = this.augRng.state;
        const result = await this.trainStep(this.order.order.subarray(start, start + n), buf, cfg.augment ? this.augRng : null);
        if (!result) {
          // Diverging loss: the update was not applied; wait for the user (e.g. a lower learning rate),
          // unless the error event's listener already stopped the run.
          this.augRng.state = augState;
          if (this.currentPhase() === 'running') this.phase = 'paused';
          continue;
        }
        this.divergedMessage = null;
        this.iteration++;
        this.step++;
        this.sums.loss += result.loss * n;
        this.sums.hits += result.hits;
        this.sums.seen += n;
        const stepMs = now() - tStep;
        if (this.iteration % this.config.stepEventEvery === 0) {
          this.event('step', {
            iteration: this.iteration,
            epoch: this.epoch,
            loss: result.loss,
            accuracy: result.hits / n,
            lr: result.lr,
            imagesPerSec: (n / stepMs) * 1000,
            stepMs,
            numTensors: tf.memory().numTensors,
          });
        }
        if (this.posthocSwitchDue()) {
          endProjection = await this.project();
        } else if (this.projectionActive(this.epoch) && this.iteration % this.projectionInterval() === 0) {
          const p = await this.project();
          // At the end of an epoch the test evaluation below is the after-projection one: report it with the projection.
          if (this.step === this.steps) endProjection = p;
          else this.projectionEvent(p, null);
        }
      }
      const test = await this.evaluateTrained();
      if (endProjection) this.projectionEvent(endProjection, test.accuracy);
      this.event('epoch', {
        epoch: this.epoch,
        iteration: this.iteration,
        trainLoss: this.sums.loss / Math.max(1, this.sums.seen),
        trainAccuracy: this.sums.hits / Math.max(1, this.sums.seen),
        testLoss: test.loss,
        testAccuracy: test.accuracy,
        afterProjection: endProjection !== null,
        epochMs: now() - t0,
        numTensors: tf.memory().numTensors,
      });
      if (endProjection && this.config.posthoc) await this.switchToCompact(test.accuracy);
      // The next epoch's order is drawn here, so a checkpoint at its first step holds it already.
      if (this.epoch + 1 < cfg.epochs) this.order.reshuffle();
      this.sums = { loss: 0, hits: 0, seen: 0 };
    }
  }

  /** Post-hoc: replaces the projected dense model (and its optimiser state) by its compact model, trained from here on. */
  private async switchToCompact(denseAccuracy: number): Promise<void> {
    const tf = this.tf;
    const dense = this.trained;
    const built = await buildCompactModel(tf, dense.graph, dense.params, this.plan.layers);
    disposeTrainedModel(dense);
    this.model = createTrainedModel(tf, built.graph, built.params, built.layers);
    this.posthocDenseAccuracy = denseAccuracy;
    const split = built.layers.filter((l) => l.split).length;
    this.log(
      `post-hoc: projected once after epoch ${this.epoch + 1} (test accuracy ${(denseAccuracy * 100).toFixed(2)}%), ` +
        `split ${split} layers into the compact model (${costText(graphCosts(built.graph))}); fine-tuning it for ${this.config.epochs - this.epoch - 1} epochs`,
    );
  }

  /** One SGD step; null when the loss was not finite or exploding (nothing was changed then). */
  private async trainStep(indices: Uint32Array, buf: Float32Array, rng: Rng | null): Promise<{ loss: number; hits: number; lr: number } | null> {
    const tf = this.tf;
    const model = this.trained;
    const n = indices.length;
    fillBatch(this.train, indices, buf, rng);
    const labelsArr = new Int32Array(n);
    for (let i = 0; i < n; i++) labelsArr[i] = this.train.labels[indices[i]];
    const stats = new Map<string, BatchStats>();
    let hits: tfType.Tensor | null = null;
    const { value, grads } = tf.tidy(() => {
      const x = tf.tensor4d(buf.subarray(0, n * 3072), [n, 32, 32, 3]);
      const labels = tf.tensor1d(labelsArr, 'int32');
      return tf.variableGrads(() => {
        const logits = forward(tf, model.graph, model.params, x, true, stats);
        for (const s of stats.values()) {
          tf.keep(s.mean);
          tf.keep(s.variance);
        }
        hits = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32')));
        return tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 10), logits) as tfType.Scalar;
      }, model.sgd.variables);
    });
    const [lossV, hitsV] = await Promise.all([value.data(), hits!.data()]);
    const loss = lossV[0];
    const lr = this.currentLr();
    try {
      const diverged = this.divergence(loss, lr);
      if (diverged) {
        this.divergedMessage = diverged.message;
        this.event('error', { ...diverged, iteration: this.iteration, epoch: this.epoch });
        return null;
      }
      tf.tidy(() => {
        for (const [name, s] of stats) {
          const bn = model.params.bn.get(name)!;
          const m = model.bnNodes.get(name)!.momentum;
          bn.movingMean.assign(tf.add(tf.mul(bn.movingMean, 1 - m), tf.mul(s.mean, m)));
          const unbiased = tf.mul(s.variance, s.count / Math.max(1, s.count - 1));
          bn.movingVariance.assign(tf.add(tf.mul(bn.movingVariance, 1 - m), tf.mul(unbiased, m)));
        }
      });
      model.sgd.apply(grads, lr, this.config.momentum, this.config.weightDecay);
      this.firstLoss ??= loss;
    } finally {
      value.dispose();
      (hits as tfType.Tensor | null)?.dispose();
      tf.dispose(Object.values(grads));
      for (const s of stats.values()) tf.dispose([s.mean, s.variance]);
    }
    return { loss, hits: hitsV[0], lr };
  }

  /** The error to report when this step's loss says training diverges (NaN/inf, or far above the first step's), else null. */
  private divergence(loss: number, lr: number): { code: 'nan' | 'exploding'; message: string } | null {
    const at = this.iteration + 1;
    if (!Number.isFinite(loss)) {
      return {
        code: 'nan',
        message: `the loss became ${loss} at iteration ${at} (learning rate ${lr}); training paused before applying that step. Lower the learning rate, then resume.`,
      };
    }
    if (this.firstLoss === null) return null;
    const limit = Math.max(EXPLODING_FLOOR, EXPLODING_FACTOR * this.firstLoss);
    if (loss <= limit) return null;
    return {
      code: 'exploding',
      message:
        `the loss jumped to ${loss.toPrecision(4)} at iteration ${at}, above ${limit.toPrecision(3)} (the larger of ${EXPLODING_FLOOR} and ${EXPLODING_FACTOR}× the first step's ` +
        `${this.firstLoss.toPrecision(4)}): training is diverging at learning rate ${lr}, so it paused before applying that step. ` +
        `Lower the learning rate, e.g. to a tenth (${lr / 10}), then resume.`,
    };
  }

  /** End of an LRPET run (or a post-hoc run stopped before its switch): project once more, build and evaluate the compact model. */
  private async finishCompact(): Promise<void> {
    const tf = this.tf;
    const model = this.trained;
    // The compact model needs rank-r weights: training moved them since the last projection, so project once more.
    const finalProjection = this.lastProjectionIteration !== this.iteration ? await this.project() : null;
    const dense = await this.evaluateTrained();
    if (finalProjection) this.projectionEvent(finalProjection, dense.accuracy);
    this.disposeCompact();
    this.compact = await buildCompactModel(tf, model.graph, model.params, this.plan.layers);
    const result = await evaluate(tf, this.compact.graph, this.compact.params, this.test);
    this.event('compact', {
      ...costSummary(this.denseGraph, this.compact.graph),
      testAccuracy: result.accuracy,
      testLoss: result.loss,
      denseTestAccuracy: dense.accuracy,
      layers: this.compact.layers,
    });
  }

  /** End of a run that trained a compact model (post-hoc after its switch, or from scratch): report it. */
  private async finishCompactTraining(): Promise<void> {
    const model = this.trained;
    const result = await this.evaluateTrained();
    this.event('compact', {
      ...costSummary(this.denseGraph, model.graph),
      testAccuracy: result.accuracy,
      testLoss: result.loss,
      denseTestAccuracy: this.posthocDenseAccuracy ?? result.accuracy,
      layers: model.compactLayers!,
    });
  }

  async exportModels(): Promise<{ projected: ExportedModel; compact: ExportedModel | null }> {
    const model = this.trained;
    const projected = await exportGraphModel(model.graph, model.params);
    // A compact-trained run's model is its compact model; exported twice so the two results share no buffers.
    const compact = model.compactLayers
      ? await exportGraphModel(model.graph, model.params)
      : this.compact
        ? await exportGraphModel(this.compact.graph, this.compact.params)
        : null;
    return { projected, compact };
  }

  private disposeCompact(): void {
    if (this.compact) disposeParams(this.compact.params);
    this.compact = null;
  }

  dispose(): void {
    this.stop();
    this.disposeCompact();
    if (this.model) disposeTrainedModel(this.model);
    this.model = null;
    this.lastEval = null;
  }
}

function costText(c: { macs: number; params: number }): string {
  return `${(c.macs / 1e6).toFixed(2)}M MACs, ${(c.params / 1e3).toFixed(1)}k parameters`;
}
