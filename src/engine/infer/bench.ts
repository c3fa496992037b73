import type * as tfType from '@tensorflow/tfjs';
import type { ModelName } from '../config';
import type { InferenceEvent } from '../events';
import { exportGraphModel } from '../export/graph-model';
import { buildModel } from '../models/builders';
import { disposeParams, initParams } from '../models/params';
import type { ExportedModel, Tf } from '../run/api';
import { deployRunner, fusedForwardAvailable, type CompactForwardMode, type DeployRunner } from '../deploy/forward';
import { splitPairs, type DeployModel } from '../deploy/model';
import { deployToGraphModel, padRanks } from '../deploy/pad-ranks';
import { readGraphModel } from '../deploy/read-graph-model';
import { graphModelCosts, pairCosts, splitRanks } from './model-costs';
import { fastestVariants, speedupVerdict } from './report';
import { timeInterleaved, withRate, type InferenceProgress, type TimedModel, type TimingLoopOptions } from './timing';

export { BenchCancelled, type InferenceProgress } from './timing';

/**
 * Inference speed of a dense and a compact model, measured where the user is: the exported
 * TensorFlow.js graph models (what a user deploys, loaded as tf.loadGraphModel loads them) on the tfjs
 * backend in use. Each timed call runs the model and reads the logits back, so it waits for the GPU
 * (on WebGPU, a read maps a buffer after everything queued before it has run). Warm-up calls first
 * (shader compilation, buffer pools); the models' calls rotate so drift hits all alike (timing.ts).
 * Beside the graph models: the engine's own forward of the compact model with the fused split
 * convolution (WebGPU), and, when the speed-up falls short of the MAC reduction, the compact model with
 * its ranks padded to multiples of 4 and 8; `fastest` names the quickest compact variant per batch.
 */

export type InferenceBody = Omit<InferenceEvent, 'type' | 'time'>;

export interface InferenceModels {
  dense: ExportedModel;
  compact: ExportedModel;
  denseSource: InferenceEvent['denseSource'];
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
  /**
   * Also time the engine's own forward of the compact model with the fused split convolution (a third
   * model in the rotation); default: where the backend has the fused kernel (WebGPU).
   */
  fused?: boolean;
  /**
   * 'auto' (default): when the speed-up at the largest batch falls below 0.8 of the MAC reduction, also time
   * the compact graph model with its ranks padded (zero filters) to multiples of 4 and of 8 (each where that
   * changes a rank) and name the fastest; 'always', 'never'.
   */
  paddedRanks?: 'auto' | 'always' | 'never';
  onProgress?: (p: InferenceProgress) => void;
  /** Checked between calls: true ends the measurement with a BenchCancelled error. */
  shouldStop?: () => boolean;
  now?: () => number;
}

export const DEFAULT_BATCHES: readonly number[] = [1, 128];
export const MAX_BATCH = 1024;
/** The rank multiples the padded measurement tries. */
export const PADDED_MULTIPLES = [4, 8] as const;

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

/** A forward pass to time, run on a random batch (seeded) of each size; `predict` runs inside tf.tidy. */
function timedForward(tf: Tf, name: string, seed: number, predict: (x: tfType.Tensor4D) => tfType.Tensor): TimedModel {
  return {
    name,
    async forBatch(batch) {
      const x = tf.randomNormal([batch, 32, 32, 3], 0, 1, 'float32', seed) as tfType.Tensor4D;
      return {
        async call() {
          const y = tf.tidy(() => predict(x));
          try {
            await y.data();
          } finally {
            y.dispose();
          }
        },
        release: () => x.dispose(),
      };
    },
  };
}

/** A graph model to time (loaded once). */
const graphTimed = (tf: Tf, name: string, model: tfType.GraphModel, seed: number): TimedModel => timedForward(tf, name, seed, (x) => model.predict(x) as tfType.Tensor);

/** The engine's own forward of a deploy model ('fused' or 'ops'). */
const deployTimed = (tf: Tf, name: string, runner: DeployRunner, mode: CompactForwardMode, seed: number): TimedModel => timedForward(tf, name, seed, (x) => runner.predict(x, mode));

/** Times both models (and the fused forward, and padded ranks where asked) at each batch size; every tensor it makes is disposed before it returns (or throws). */
export async function benchInference(tf: Tf, models: InferenceModels, o: InferenceBenchOptions = {}): Promise<InferenceBody> {
  const batches = o.batches ?? DEFAULT_BATCHES;
  const warmup = o.warmup ?? 2;
  const iterations = o.iterations ?? 10;
  checkOptions(batches, warmup, iterations);
  const seed = o.seed ?? 1;
  // Read first: a file that is not a graph model of this kind fails here, before any timing.
  const costs = pairCosts(models);
  const deploy = readGraphModel(models.compact);
  const fused = o.fused ?? fusedForwardAvailable(tf);
  const loop = { warmup, iterations, onProgress: o.onProgress, shouldStop: o.shouldStop, now: o.now, progress: { done: 0, total: batches.length * (fused ? 3 : 2) * (warmup + iterations) } };
  const loaded: tfType.GraphModel[] = [];
  let runner: DeployRunner | null = null;
  try {
    const dense = await loadExported(tf, models.dense);
    loaded.push(dense);
    const compact = await loadExported(tf, models.compact);
    loaded.push(compact);
    const timed = [graphTimed(tf, 'dense', dense, seed), graphTimed(tf, 'compact', compact, seed)];
    if (fused) {
      runner = deployRunner(tf, deploy);
      timed.push(deployTimed(tf, 'fused', runner, 'fused', seed));
    }
    const out: InferenceBody['batches'] = [];
    for (const batch of batches) {
      const t = await timeInterleaved(timed, batch, loop);
      const dt = withRate(t.get('dense')!, batch);
      const ct = withRate(t.get('compact')!, batch);
      const row: InferenceBody['batches'][number] = { batch, dense: dt, compact: ct, speedup: dt.medianMs / ct.medianMs };
      if (fused) {
        const ft = withRate(t.get('fused')!, batch);
        Object.assign(row, { fused: ft, fusedSpeedup: dt.medianMs / ft.medianMs });
      }
      out.push(row);
    }
    const body: InferenceBody = {
      backend: tf.getBackend(),
      device: o.device ?? null,
      denseSource: models.denseSource,
      warmup,
      iterations,
      ...costs,
      batches: out,
    };
    const verdict = speedupVerdict(body);
    const mode = o.paddedRanks ?? 'auto';
    if (mode === 'always' || (mode === 'auto' && verdict !== null && !verdict.meetsTarget)) {
      body.paddedRanks = await timePadded(tf, deploy, body, { ...loop, seed });
    }
    body.fastest = fastestVariants(body);
    return body;
  } finally {
    for (const m of loaded) m.dispose();
    runner?.dispose();
  }
}

/** The compact model with its ranks padded to each of PADDED_MULTIPLES, timed as graph models (dense: the timings above). */
async function timePadded(tf: Tf, deploy: DeployModel, body: InferenceBody, loop: TimingLoopOptions & { seed: number; progress: { done: number; total: number } }): Promise<NonNullable<InferenceBody['paddedRanks']>> {
  const variants: { multiple: number; exported: ExportedModel }[] = [];
  for (const multiple of PADDED_MULTIPLES) {
    const padded = padRanks(deploy, multiple);
    // Ranks that are multiples already: nothing to pad, nothing to time again.
    if (splitPairs(padded.graph).every((p, i) => p.rank === body.splitRanks[i])) continue;
    variants.push({ multiple, exported: await deployToGraphModel(tf, padded) });
  }
  loop.progress.total += body.batches.length * variants.length * (loop.warmup + loop.iterations);
  const loaded: tfType.GraphModel[] = [];
  try {
    const timed: TimedModel[] = [];
    for (const v of variants) {
      const m = await loadExported(tf, v.exported);
      loaded.push(m);
      timed.push(graphTimed(tf, `ranks ×${v.multiple}`, m, loop.seed));
    }
    const byBatch = new Map<number, Map<string, number[]>>();
    for (const b of body.batches) byBatch.set(b.batch, await timeInterleaved(timed, b.batch, { ...loop, phase: 'padded ranks' }));
    return variants.map((v) => {
      const costs = graphModelCosts(v.exported.modelJson);
      return {
        multiple: v.multiple,
        splitRanks: splitRanks(v.exported.modelJson),
        macsCompact: costs.macs,
        macRatio: body.macsDense / costs.macs,
        batches: body.batches.map((b) => {
          const t = withRate(byBatch.get(b.batch)!.get(`ranks ×${v.multiple}`)!, b.batch);
          return { batch: b.batch, compact: t, speedup: b.dense.medianMs / t.medianMs };
        }),
      };
    });
  } finally {
    for (const m of loaded) m.dispose();
  }
}

/** The result as an event of the run's stream. */
export const inferenceEvent = (body: InferenceBody, time = Date.now()): InferenceEvent => ({ type: 'inference', time, ...body });
