import type * as tfType from '@tensorflow/tfjs';
import type { Checkpoint } from './checkpoint';
import { LiveUpdateSchema, parseRunConfig, type LiveUpdate, type RunConfig } from './config';
import { limitSplit, strideSubset, type CifarSplit } from './data/cifar';
import { EpochOrder, fillBatch, stepsPerEpoch } from './data/batcher';
import type { EngineEvent, LayerInfo, LayerProjection } from './events';
import { exportGraphModel } from './export/graph-model';
import { buildCompactModel, type CompactModel } from './lrpet/compact';
import { projectModel } from './lrpet/project';
import { costSummary } from './models/cost';
import { forward, type BatchStats } from './models/forward';
import type { BatchNormNode, ModelGraph } from './models/graph';
import { disposeParams, initParams, trainableVariables, type ModelParams } from './models/params';
import { ConfigError, planModel, type ModelPlan } from './plan';
import { Rng, deriveSeed } from './rng';
import type { ExportedModel, RunControls, RunOptions, Tf } from './run-api';
import { learningRate } from './train/schedule';
import { SgdMomentum } from './train/sgd';

export type { RunControls, RunOptions, ExportedModel } from './run-api';

const EVAL_BATCH = 250;
const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export function createRun(opts: RunOptions): RunControls {
  return new Trainer(opts);
}

type Phase = 'idle' | 'running' | 'paused' | 'stopping' | 'finished';

export interface EvalResult {
  loss: number;
  accuracy: number;
}

/** Test loss and accuracy of a graph in inference mode, in batches, every tensor freed. */
export async function evaluate(tf: Tf, graph: ModelGraph, params: ModelParams, split: CifarSplit): Promise<EvalResult> {
  const buf = new Float32Array(EVAL_BATCH * 3072);
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < split.count; start += EVAL_BATCH) {
    const n = Math.min(EVAL_BATCH, split.count - start);
    const idx = Array.from({ length: n }, (_, i) => start + i);
    fillBatch(split, idx, buf, null);
    const [l, c] = tf.tidy(() => {
      const x = tf.tensor4d(buf.subarray(0, n * 3072), [n, 32, 32, 3]);
      const labels = tf.tensor1d(split.labels.subarray(start, start + n), 'int32');
      const logits = forward(tf, graph, params, x, false);
      const loss = tf.sum(tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 10), logits, undefined, undefined, tf.Reduction.NONE));
      const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32'));
      return [loss, hits];
    });
    const [lv, cv] = await Promise.all([l.data(), c.data()]);
    l.dispose();
    c.dispose();
    lossSum += lv[0];
    correct += cv[0];
  }
  return { loss: lossSum / split.count, accuracy: correct / split.count };
}

class Trainer implements RunControls {
  private readonly tf: Tf;
  private config: RunConfig;
  private plan: ModelPlan;
  private readonly graph: ModelGraph;
  private params: ModelParams | null;
  private sgd: SgdMomentum | null;
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
  private order: EpochOrder;
  private readonly augRng: Rng;
  private readonly resumeFrom: Checkpoint | null;
  private readonly checkpointRequests: ((c: Checkpoint) => void)[] = [];
  private readonly emit: (e: EngineEvent) => void;

  constructor(opts: RunOptions) {
    this.tf = opts.tf;
    this.emit = opts.onEvent;
    this.config = parseRunConfig(opts.config);
    this.plan = planModel(this.config.model, { ...this.config.lrpet });
    this.graph = this.plan.graph;
    this.train = limitSplit(opts.data.train, this.config.trainLimit);
    // The test split may be sorted by class: take a spread-out subset, not the first N.
    this.test = strideSubset(opts.data.test, this.config.testLimit);
    if (this.train.count === 0 || this.test.count === 0) throw new ConfigError('the dataset has no training or no test images');
    this.steps = stepsPerEpoch(this.train.count, this.config.batchSize);
    this.params = initParams(this.tf, this.graph, deriveSeed(this.config.seed, 'init'));
    const decayed = new Set([...this.params.weights.values()].map((w) => w.kernel));
    this.sgd = new SgdMomentum(this.tf, trainableVariables(this.params), decayed);
    this.order = new EpochOrder(this.train.count, new Rng(deriveSeed(this.config.seed, 'order')));
    this.augRng = new Rng(deriveSeed(this.config.seed, 'augment'));
    this.resumeFrom = opts.resume ?? null;
    if (this.resumeFrom) this.restore(this.resumeFrom);
  }

  /** Variables in a fixed order, each with a stable key, for checkpoints. */
  private checkpointVariables(): [string, tfType.Variable][] {
    const out: [string, tfType.Variable][] = [];
    const p = this.params!;
    for (const [name, w] of p.weights) {
      out.push([`${name}/kernel`, w.kernel]);
      if (w.bias) out.push([`${name}/bias`, w.bias]);
    }
    for (const [name, b] of p.bn) {
      out.push([`${name}/gamma`, b.gamma], [`${name}/beta`, b.beta], [`${name}/moving_mean`, b.movingMean], [`${name}/moving_variance`, b.movingVariance]);
    }
    const velocity = this.sgd!.velocity;
    for (const [key, v] of [...out]) {
      const buf = velocity.get(v);
      if (buf) out.push([`${key}/momentum`, buf]);
    }
    return out;
  }

  private restore(c: Checkpoint): void {
    if (c.config.model !== this.config.model) throw new ConfigError(`the checkpoint is of ${c.config.model}, not ${this.config.model}`);
    if (c.order.length !== this.train.count) throw new ConfigError(`the checkpoint was made with ${c.order.length} training images, this run has ${this.train.count}`);
    const byKey = new Map(c.tensors.map((t) => [t.key, t]));
    const tf = this.tf;
    for (const [key, v] of this.checkpointVariables()) {
      const t = byKey.get(key);
      if (!t || t.data.length !== v.size) throw new ConfigError(`the checkpoint has no matching tensor for ${key}`);
      tf.tidy(() => v.assign(tf.tensor(t.data, v.shape)));
    }
    this.config = c.config;
    this.plan = planModel(this.graph, { ...c.config.lrpet });
    this.iteration = c.iteration;
    this.epoch = c.epoch;
    this.step = c.step;
    this.projections = c.projections;
    this.lastProjectionIteration = c.lastProjectionIteration;
    this.sums = { ...c.epochSums };
    this.order.order.set(c.order);
    this.order.rng.state = c.orderRngState;
    this.augRng.state = c.augmentRngState;
  }

  /**
   * A consistent snapshot taken between two steps: at once when paused or not started, else after
   * the step in flight.
   */
  checkpoint(): Promise<Checkpoint> {
    if (!this.params) return Promise.reject(new Error('the run has been disposed'));
    if (this.phase === 'running' || this.phase === 'stopping') return new Promise((resolve) => this.checkpointRequests.push(resolve));
    return this.snapshot();
  }

  private snapshot(): Promise<Checkpoint> {
    const tf = this.tf;
    const vars = this.checkpointVariables();
    // Clone synchronously so later steps cannot change what is being read.
    const clones = vars.map(([, v]) => tf.clone(v));
    const meta = {
      version: 1 as const,
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

  private projectionActive(epoch: number): boolean {
    const l = this.config.lrpet;
    return l.enabled && epoch >= l.startEpoch && epoch <= (l.endEpoch ?? this.config.epochs - 1);
  }

  private applyPending(): void {
    while (this.pending.length) {
      const changes = this.pending.shift()!;
      const next: RunConfig = structuredClone(this.config);
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
      let plan = this.plan;
      try {
        if (changes.prune !== undefined || changes.rankOverrides !== undefined) plan = planModel(this.graph, { ...l });
      } catch (e) {
        this.event('error', { code: 'config', message: `change not applied: ${(e as Error).message}`, iteration: this.iteration, epoch: this.epoch });
        continue;
      }
      this.config = next;
      this.plan = plan;
      this.event('configChange', { iteration: this.iteration, epoch: this.epoch, changes, layers: plan.layers });
    }
  }

  private currentLr(): number {
    const total = this.config.epochs * this.steps;
    return learningRate(this.config.lr, this.config.schedule, this.epoch, this.iteration / total);
  }

  /** Waits while paused; returns false when the run should end. */
  private async gate(): Promise<boolean> {
    if (this.phase === 'paused') {
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

  private bnEpsilon = (name: string): number => (this.graph.nodes.find((n) => n.name === name) as BatchNormNode).epsilon;

  private async project(): Promise<{ layers: LayerProjection[]; ms: number }> {
    const t0 = now();
    const l = this.config.lrpet;
    const layers = await projectModel(this.tf, this.params!, this.plan.layers, this.bnEpsilon, l);
    this.lastProjectionIteration = this.iteration;
    this.projections++;
    return { layers, ms: now() - t0 };
  }

  private projectionEvent(p: { layers: LayerProjection[]; ms: number }, testAccuracy: number | null): void {
    this.event('projection', { index: this.projections, iteration: this.iteration, epoch: this.epoch, layers: p.layers, projectionMs: p.ms, testAccuracy });
  }

  async start(): Promise<void> {
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
    this.setState('running');
    const buf = new Float32Array(cfg.batchSize * 3072);
    try {
      epochs: for (; this.epoch < cfg.epochs; this.epoch++, this.step = 0) {
        const t0 = now();
        if (this.step === 0) {
          if (this.epoch > 0) this.order.reshuffle();
          this.sums = { loss: 0, hits: 0, seen: 0 };
        }
        let endProjection: { layers: LayerProjection[]; ms: number } | null = null;
        while (this.step < this.steps) {
          await this.serveCheckpointRequests();
          if (!(await this.gate())) break epochs;
          this.applyPending();
          const s = this.step;
          const start = s * cfg.batchSize;
          const n = Math.min(cfg.batchSize, this.train.count - start);
          const tStep = now();
          const augState = this.augRng.state;
          const result = await this.trainStep(this.order.order.subarray(start, start + n), buf, cfg.augment ? this.augRng : null);
          if (!result) {
            // NaN/inf loss: the update was not applied; wait for the user (e.g. a lower learning rate).
            this.augRng.state = augState;
            this.phase = 'paused';
            continue;
          }
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
          if (this.projectionActive(this.epoch) && this.iteration % this.projectionInterval() === 0) {
            const p = await this.project();
            // At the end of an epoch the test evaluation below is the after-projection one: report it with the projection.
            if (s === this.steps - 1) endProjection = p;
            else this.projectionEvent(p, null);
          }
        }
        const test = await evaluate(tf, this.graph, this.params!, this.test);
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
      }
      if (this.config.lrpet.enabled && this.config.buildCompact) await this.finishCompact();
      this.phase = 'finished';
      await this.serveCheckpointRequests();
      this.setState(this.iteration >= cfg.epochs * this.steps ? 'finished' : 'stopped');
    } catch (e) {
      this.phase = 'finished';
      await this.serveCheckpointRequests().catch(() => undefined);
      const message = e instanceof Error ? e.message : String(e);
      const device = /device (was )?lost|GPUDevice|out of memory/i.test(message);
      this.event('error', { code: device ? 'device' : 'internal', message, iteration: this.iteration, epoch: this.epoch });
      this.setState('stopped');
    }
  }

  /** One SGD step; null when the loss was not finite (nothing was changed then). */
  private async trainStep(indices: Uint32Array, buf: Float32Array, rng: Rng | null): Promise<{ loss: number; hits: number; lr: number } | null> {
    const tf = this.tf;
    const n = indices.length;
    fillBatch(this.train, indices, buf, rng);
    const labelsArr = new Int32Array(n);
    for (let i = 0; i < n; i++) labelsArr[i] = this.train.labels[indices[i]];
    const stats = new Map<string, BatchStats>();
    let hits: tfType.Tensor | null = null;
    const vars = this.sgd!.variables;
    const { value, grads } = tf.tidy(() => {
      const x = tf.tensor4d(buf.subarray(0, n * 3072), [n, 32, 32, 3]);
      const labels = tf.tensor1d(labelsArr, 'int32');
      return tf.variableGrads(() => {
        const logits = forward(tf, this.graph, this.params!, x, true, stats);
        for (const s of stats.values()) {
          tf.keep(s.mean);
          tf.keep(s.variance);
        }
        hits = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32')));
        return tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 10), logits) as tfType.Scalar;
      }, vars);
    });
    const [lossV, hitsV] = await Promise.all([value.data(), hits!.data()]);
    const loss = lossV[0];
    const lr = this.currentLr();
    try {
      if (!Number.isFinite(loss)) {
        this.event('error', {
          code: 'nan',
          message: `the loss became ${loss} at iteration ${this.iteration + 1} (learning rate ${lr}); training paused before applying that step. Lower the learning rate, then resume.`,
          iteration: this.iteration,
          epoch: this.epoch,
        });
        return null;
      }
      tf.tidy(() => {
        for (const [name, s] of stats) {
          const bn = this.params!.bn.get(name)!;
          const m = (this.graph.nodes.find((x) => x.name === name) as BatchNormNode).momentum;
          bn.movingMean.assign(tf.add(tf.mul(bn.movingMean, 1 - m), tf.mul(s.mean, m)));
          const unbiased = tf.mul(s.variance, s.count / Math.max(1, s.count - 1));
          bn.movingVariance.assign(tf.add(tf.mul(bn.movingVariance, 1 - m), tf.mul(unbiased, m)));
        }
      });
      this.sgd!.apply(grads, lr, this.config.momentum, this.config.weightDecay);
    } finally {
      value.dispose();
      (hits as tfType.Tensor | null)?.dispose();
      tf.dispose(Object.values(grads));
      for (const s of stats.values()) tf.dispose([s.mean, s.variance]);
    }
    return { loss, hits: hitsV[0], lr };
  }

  private async finishCompact(): Promise<void> {
    const tf = this.tf;
    const finalProjection = this.lastProjectionIteration !== this.iteration ? await this.project() : null;
    const dense = await evaluate(tf, this.graph, this.params!, this.test);
    // The compact model needs rank-r weights: training moved them since the last projection, so project once more.
    if (finalProjection) this.projectionEvent(finalProjection, dense.accuracy);
    this.disposeCompact();
    this.compact = await buildCompactModel(tf, this.graph, this.params!, this.plan.layers);
    const result = await evaluate(tf, this.compact.graph, this.compact.params, this.test);
    this.event('compact', {
      ...costSummary(this.graph, this.compact.graph),
      testAccuracy: result.accuracy,
      testLoss: result.loss,
      denseTestAccuracy: dense.accuracy,
      layers: this.compact.layers,
    });
  }

  async exportModels(): Promise<{ projected: ExportedModel; compact: ExportedModel | null }> {
    if (!this.params) throw new Error('the run has been disposed');
    const projected = await exportGraphModel(this.graph, this.params);
    const compact = this.compact ? await exportGraphModel(this.compact.graph, this.compact.params) : null;
    return { projected, compact };
  }

  private disposeCompact(): void {
    if (this.compact) disposeParams(this.compact.params);
    this.compact = null;
  }

  dispose(): void {
    this.stop();
    this.disposeCompact();
    if (this.params) disposeParams(this.params);
    this.sgd?.dispose();
    this.params = null;
    this.sgd = null;
  }
}
