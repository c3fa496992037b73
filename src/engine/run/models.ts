import type { CifarSplit } from '../data/cifar';
import type { LayerInfo, LayerProjection } from '../events';
import { exportGraphModel } from '../export/graph-model';
import { buildCompactModel, type CompactModel } from '../lrpet/compact';
import { projectModel, type MatrixImageSink, type ProjectionSettings } from '../lrpet/project';
import type { ModelGraph } from '../models/graph';
import { disposeParams, initParams, type ModelParams } from '../models/params';
import { compactGraph, type CompactLayer } from '../models/split';
import type { ExportedModel, SafetensorsExport, Tf } from './api';
import { assignWeightValues, exportSafetensors } from '../weights/model-weights';
import { recalibrateForRun, type BnRecalibration } from '../train/bn-recalibration';
import { evaluate, evaluateLogits, type EvalResult } from '../train/evaluate';
import { compactForwardMode, deployRunner } from '../deploy/forward';
import { readGraphModel } from '../deploy/read-graph-model';
import { createTrainedModel, disposeTrainedModel, type TrainedModel, type WeightDecayScope } from '../train/trained-model';

/** The state of the trained weights an evaluation is valid for. */
export interface WeightsStamp {
  iteration: number;
  projections: number;
}

/**
 * The models of a run: the one being trained (dense, or compact in the baselines), the compact one an
 * LRPET run builds at its end, and the trained model's test evaluation, computed once per state of its
 * weights.
 */
export class RunModels {
  private model: TrainedModel | null;
  private built: CompactModel | null = null;
  private lastEval: { model: TrainedModel; stamp: WeightsStamp; result: EvalResult } | null = null;

  /** A freshly initialised model of the dense graph, or of its split `structure` (compact from scratch, or a compact phase to restore). */
  constructor(
    private readonly tf: Tf,
    private readonly test: CifarSplit,
    denseGraph: ModelGraph,
    structure: CompactLayer[] | null,
    initSeed: number,
    private readonly weightDecayScope: WeightDecayScope,
  ) {
    const graph = structure ? compactGraph(denseGraph, structure) : denseGraph;
    this.model = createTrainedModel(tf, graph, initParams(tf, graph, initSeed), structure, weightDecayScope);
  }

  get trained(): TrainedModel {
    if (!this.model) throw new Error('the run has been disposed');
    return this.model;
  }

  get disposed(): boolean {
    return this.model === null;
  }

  async evaluateTrained(stamp: WeightsStamp): Promise<EvalResult> {
    const model = this.trained;
    const e = this.lastEval;
    if (e && e.model === model && e.stamp.iteration === stamp.iteration && e.stamp.projections === stamp.projections) return e.result;
    const result = model.compactLayers ? await this.evaluateSplit(model.graph, model.params) : await evaluate(this.tf, model.graph, model.params, this.test);
    this.lastEval = { model, stamp: { ...stamp }, result };
    return result;
  }

  /** Projects the trained model's layers in place (spec §3–§4); `images` gets each layer's matrix image before and after. */
  project(layers: LayerInfo[], settings: ProjectionSettings, images?: MatrixImageSink): Promise<LayerProjection[]> {
    const model = this.trained;
    return projectModel(this.tf, model.params, layers, (bn) => model.bnNodes.get(bn)!.epsilon, settings, images);
  }

  /** Refreshes the trained model's BN running statistics (train/bn-recalibration.ts); its weights and test result change. */
  async recalibrateBn(train: CifarSplit, o: BnRecalibration): Promise<void> {
    this.lastEval = null;
    await recalibrateForRun(this.tf, this.trained, train, o);
  }

  /** Post-hoc: replaces the projected dense model (and its optimiser state) by its compact model, trained from here on. */
  async switchToCompact(layers: LayerInfo[]): Promise<TrainedModel> {
    const dense = this.trained;
    const built = await buildCompactModel(this.tf, dense.graph, dense.params, layers);
    disposeTrainedModel(dense);
    this.model = createTrainedModel(this.tf, built.graph, built.params, built.layers, this.weightDecayScope);
    return this.model;
  }

  /** Builds the compact model of the (projected) trained model and keeps it for export (evaluateCompact tests it). */
  async buildCompact(layers: LayerInfo[]): Promise<CompactModel> {
    const model = this.trained;
    this.disposeBuilt();
    const compact = await buildCompactModel(this.tf, model.graph, model.params, layers);
    this.built = compact;
    return compact;
  }

  evaluateCompact(): Promise<EvalResult> {
    if (!this.built) return Promise.reject(new Error('no compact model was built'));
    return this.evaluateSplit(this.built.graph, this.built.params);
  }

  /**
   * A compact model's test result: where the backend has the fused split convolution (WebGPU), with the
   * engine's fused forward of it (BN folded; measured faster than plain ops, README › Benchmarks), else with
   * plain tfjs ops.
   */
  private async evaluateSplit(graph: ModelGraph, params: ModelParams): Promise<EvalResult> {
    if (compactForwardMode(this.tf) !== 'fused') return evaluate(this.tf, graph, params, this.test);
    const runner = deployRunner(this.tf, readGraphModel(await exportGraphModel(graph, params)));
    try {
      return await evaluateLogits(this.tf, (x) => runner.predict(x, 'fused'), this.test);
    } finally {
      runner.dispose();
    }
  }

  get testCount(): number {
    return this.test.count;
  }

  async exportModels(): Promise<{ projected: ExportedModel; compact: ExportedModel | null }> {
    const model = this.trained;
    const projected = await exportGraphModel(model.graph, model.params);
    // A compact-trained run's model is its compact model; exported twice so the two results share no buffers.
    const compact = model.compactLayers
      ? await exportGraphModel(model.graph, model.params)
      : this.built
        ? await exportGraphModel(this.built.graph, this.built.params)
        : null;
    return { projected, compact };
  }

  /** Starts the trained (dense) model from given weights (engine layout, by key). */
  assignInitial(values: Map<string, Float32Array>): void {
    assignWeightValues(this.tf, this.trained.params, values);
  }

  async exportSafetensors(model: string, iteration: number): Promise<SafetensorsExport> {
    const trained = this.trained;
    const compactSource = trained.compactLayers ? trained : this.built;
    return {
      projected: trained.compactLayers ? null : await exportSafetensors(trained.graph, trained.params, { model, variant: 'dense' }, iteration),
      compact: compactSource ? await exportSafetensors(compactSource.graph, compactSource.params, { model, variant: 'compact' }, iteration) : null,
    };
  }

  dispose(): void {
    this.disposeBuilt();
    if (this.model) disposeTrainedModel(this.model);
    this.model = null;
    this.lastEval = null;
  }

  private disposeBuilt(): void {
    if (this.built) disposeParams(this.built.params);
    this.built = null;
  }
}
