import type * as tfType from '@tensorflow/tfjs';
import type { ModelName } from '../config';
import type { InferenceEvent, InferenceTiming } from '../events';
import { exportGraphModel } from '../export/graph-model';
import { buildModel } from '../models/builders';
import { disposeParams, initParams } from '../models/params';
import type { ExportedModel, Tf } from '../run/api';
import { nextMacrotask } from '../run/lifecycle';
import { graphModelCosts, splitRanks } from './model-costs';
import { timingStats } from './stats';

/**
 * Inference speed of a dense and a compact model, measured where the user is: the exported
 * TensorFlow.js graph models (what a user deploys, loaded as tf.loadGraphModel loads them) on the tfjs
 * backend in use. Each timed call runs the model and reads the logits back, so it waits for the GPU
 * (on WebGPU, a read maps a buffer after everything queued before it has run). Warm-up calls first
 * (shader compilation, buffer pools); dense and compact calls alternate so drift hits both alike.
 */

export type InferenceBody = Omit<InferenceEvent, 'type' | 'time'>;

export interface InferenceModels {
  dense: ExportedModel;
  compact: ExportedModel;
  denseSource: InferenceEvent['denseSource'];
}

export interface InferenceProgress {
  label: string;
  done: number;
  total: number;
}

export interface InferenceBenchOptions {
  /** Batch sizes to time (default 1 and 128). */
  batches?: readonly number[];
  /** Untimed calls of each model per batch size (default 2). */
  warmup?: number;
  /** Timed calls of each model per batch size (default 10). */
  iterations?: number;
  /** The adapter or renderer, for the record. */
  device?: string | null;
  seed?: number;
  onProgress?: (p: InferenceProgress) => void;
  /** Checked between calls: true ends the measurement with a BenchCancelled error. */
  shouldStop?: () => boolean;
  now?: () => number;
}

export const DEFAULT_BATCHES: readonly number[] = [1, 128];
export const MAX_BATCH = 1024;

export class BenchCancelled extends Error {
  override name = 'BenchCancelled';
  constructor() {
    super('the measurement was cancelled');
  }
}

const defaultNow = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** Loads an exported model as tf.loadGraphModel would load its files. */
export function loadExported(tf: Tf, m: ExportedModel): Promise<tfType.GraphModel> {
  const json = m.modelJson as { modelTopology: object; weightsManifest: { weights: tfType.io.WeightsManifestEntry[] }[]; format?: string };
  const weightData = m.weights.slice().buffer;
  return tf.loadGraphModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g) => g.weights), weightData, format: json.format }));
}

/**
 * The dense architecture of a model as an exported graph model with freshly initialised weights: what a
 * stored compact model is compared with when its run's dense model is no longer at hand. A dense graph's
 * speed does not depend on its weights' values.
 */
export async function denseArchitectureModel(tf: Tf, model: ModelName, seed = 1): Promise<ExportedModel> {
  const graph = buildModel(model);
  const params = initParams(tf, graph, seed);
  try {
    return await exportGraphModel(graph, params);
  } finally {
    disposeParams(params);
  }
}

function checkOptions(batches: readonly number[], warmup: number, iterations: number): void {
  if (!batches.length) throw new RangeError('give at least one batch size');
  for (const b of batches) if (!Number.isInteger(b) || b < 1 || b > MAX_BATCH) throw new RangeError(`a batch size must be an integer from 1 to ${MAX_BATCH}, got ${b}`);
  if (!Number.isInteger(warmup) || warmup < 0) throw new RangeError(`warm-up must be an integer ≥ 0, got ${warmup}`);
  if (!Number.isInteger(iterations) || iterations < 1) throw new RangeError(`iterations must be an integer ≥ 1, got ${iterations}`);
}

const withRate = (ms: number[], batch: number): InferenceTiming => {
  const s = timingStats(ms);
  return { ...s, imagesPerSec: (batch / s.medianMs) * 1000 };
};

/** Times both models at each batch size; every tensor it makes is disposed before it returns (or throws). */
export async function benchInference(tf: Tf, models: InferenceModels, o: InferenceBenchOptions = {}): Promise<InferenceBody> {
  const batches = o.batches ?? DEFAULT_BATCHES;
  const warmup = o.warmup ?? 2;
  const iterations = o.iterations ?? 10;
  checkOptions(batches, warmup, iterations);
  const now = o.now ?? defaultNow;
  const dc = graphModelCosts(models.dense.modelJson);
  const cc = graphModelCosts(models.compact.modelJson);
  const total = batches.length * 2 * (warmup + iterations);
  let done = 0;
  const loaded: tfType.GraphModel[] = [];
  try {
    const dense = await loadExported(tf, models.dense);
    loaded.push(dense);
    const compact = await loadExported(tf, models.compact);
    loaded.push(compact);
    const out: InferenceBody['batches'] = [];
    for (const batch of batches) {
      const x = tf.randomNormal([batch, 32, 32, 3], 0, 1, 'float32', o.seed ?? 1) as tfType.Tensor4D;
      try {
        const call = async (model: tfType.GraphModel, label: string): Promise<number> => {
          await nextMacrotask();
          if (o.shouldStop?.()) throw new BenchCancelled();
          const t0 = now();
          const y = model.predict(x) as tfType.Tensor;
          try {
            await y.data();
          } finally {
            y.dispose();
          }
          const ms = now() - t0;
          o.onProgress?.({ label, done: ++done, total });
          return ms;
        };
        for (let i = 0; i < warmup; i++) {
          await call(dense, `batch ${batch}: warm-up (dense)`);
          await call(compact, `batch ${batch}: warm-up (compact)`);
        }
        const d: number[] = [];
        const c: number[] = [];
        for (let i = 0; i < iterations; i++) {
          const label = `batch ${batch}: timing ${i + 1} of ${iterations}`;
          if (i % 2 === 0) {
            d.push(await call(dense, label));
            c.push(await call(compact, label));
          } else {
            c.push(await call(compact, label));
            d.push(await call(dense, label));
          }
        }
        const dt = withRate(d, batch);
        const ct = withRate(c, batch);
        out.push({ batch, dense: dt, compact: ct, speedup: dt.medianMs / ct.medianMs });
      } finally {
        x.dispose();
      }
    }
    return {
      backend: tf.getBackend(),
      device: o.device ?? null,
      denseSource: models.denseSource,
      warmup,
      iterations,
      macsDense: dc.macs,
      macsCompact: cc.macs,
      paramsDense: dc.params,
      paramsCompact: cc.params,
      macRatio: dc.macs / cc.macs,
      paramRatio: dc.params / cc.params,
      splitRanks: splitRanks(models.compact.modelJson),
      batches: out,
    };
  } finally {
    for (const m of loaded) m.dispose();
  }
}

/** The result as an event of the run's stream. */
export const inferenceEvent = (body: InferenceBody, time = Date.now()): InferenceEvent => ({ type: 'inference', time, ...body });
