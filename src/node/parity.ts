/**
 * The engine side of the PyTorch parity tests (torch-parity*.test.ts): train the engine from given
 * weights on one fixed full batch, read its per-step losses and final weights, and judge them
 * against the PyTorch reference with a criterion measured in float32 noise.
 */
import type * as tfType from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import { parseRunConfig, type RunConfigInput } from '../engine/config';
import { fillBatch } from '../engine/data/batcher';
import { IMAGE_BYTES, type CifarDataset, type CifarSplit } from '../engine/data/cifar';
import type { EngineEvent, StepEvent } from '../engine/events';
import { forward } from '../engine/models/forward';
import type { ModelGraph } from '../engine/models/graph';
import { disposeParams, initParams, type ModelParams } from '../engine/models/params';
import { createRun, type SafetensorsExport } from '../engine/run/run';
import { assignWeightValues } from '../engine/weights/model-weights';

type Tf = typeof tfType;

/**
 * The pass criterion, step by step: |engine − torch64| ≤ K · max(noise, FLOOR), where noise at step t
 * is the largest |torch32 − torch64| seen up to t over the float32 reference runs (differences only
 * grow through training, so the envelope is the running maximum).
 *
 * K = 10: the engine is a second, different float32 implementation (tfjs on WebGPU or its CPU
 * backend: other summation orders and lengths in convolutions, BN statistics and reductions, and an
 * SVD in float64 where the float32 reference does it in float32), so its rounding differs from
 * PyTorch's by a random factor of order one, which training then amplifies the same way for both.
 * A factor of 10 covers that spread with margin, and stays orders of magnitude below any change of
 * the method (energy transfer on one side only moves the loss by ~1e-2, a BN ε of 1e-3 instead of
 * 1e-5 by ~1e-4 at the first step), as the tests show by judging deliberately wrong references.
 * FLOOR = 1e-6: before training has amplified anything, float32 noise is a few ulps of a loss near 2
 * (ulp 2.4e-7), where a single run's difference can happen to be zero.
 */
export const PARITY_K = 10;
export const PARITY_FLOOR = 1e-6;

export interface StepParity {
  step: number;
  engine: number;
  torch64: number;
  /** |engine − torch64|. */
  diff: number;
  /** Running maximum of |torch32 − torch64| over the float32 runs. */
  noise: number;
  allowed: number;
}

export interface LossParity {
  ok: boolean;
  steps: StepParity[];
  /** max_t |engine − torch64| and max_t |torch32 − torch64|. */
  maxEngineDiff: number;
  maxNoise: number;
  /** The step with the largest diff / allowed. */
  worst: StepParity;
}

export function lossParity(engine: number[], torch64: number[], torch32: number[][], k = PARITY_K, floor = PARITY_FLOOR): LossParity {
  if (engine.length !== torch64.length || torch32.some((r) => r.length !== torch64.length)) {
    throw new Error(`step counts differ: engine ${engine.length}, torch64 ${torch64.length}, torch32 ${torch32.map((r) => r.length).join('/')}`);
  }
  let noise = 0;
  const steps = engine.map((e, t): StepParity => {
    for (const run of torch32) noise = Math.max(noise, Math.abs(run[t] - torch64[t]));
    const diff = Math.abs(e - torch64[t]);
    return { step: t + 1, engine: e, torch64: torch64[t], diff: Number.isNaN(diff) ? Infinity : diff, noise, allowed: k * Math.max(noise, floor) };
  });
  const worst = steps.reduce((a, b) => (b.diff / b.allowed > a.diff / a.allowed ? b : a));
  return {
    ok: steps.every((s) => s.diff <= s.allowed),
    steps,
    maxEngineDiff: Math.max(...steps.map((s) => s.diff)),
    maxNoise: noise,
    worst,
  };
}

export interface SpectrumParity {
  ok: boolean;
  /** Per projection: max over layers and singular values of |engine − torch64| / σ1, and the float32 noise envelope. */
  projections: { iteration: number; diff: number; noise: number; allowed: number }[];
}

type Spectra = Map<string, number[]>;

/**
 * The singular values each projection saw (before cutting), layer by layer, judged like the losses:
 * relative to σ1 of the layer, |engine − torch64| ≤ K · max(noise, FLOOR) with noise the running
 * maximum of |torch32 − torch64|. The first projection comes before the noise has been amplified
 * by a projection, so it checks the first steps (gradients, weight decay, BN statistics) sharply.
 */
export function spectrumParity(
  iterations: number[],
  engine: Spectra[],
  torch64: Spectra[],
  torch32: Spectra[][],
  k = PARITY_K,
  floor = PARITY_FLOOR,
): SpectrumParity {
  let noise = 0;
  const rel = (a: number[], b: number[]) => {
    if (a.length !== b.length) return Infinity;
    let d = 0;
    for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]) / b[0]);
    return Number.isNaN(d) ? Infinity : d;
  };
  const projections = iterations.map((iteration, j) => {
    let diff = 0;
    for (const [layer, ref] of torch64[j]) {
      const mine = engine[j].get(layer);
      diff = Math.max(diff, mine ? rel(mine, ref) : Infinity);
      for (const run of torch32) noise = Math.max(noise, rel(run[j].get(layer) ?? [], ref));
    }
    return { iteration, diff, noise, allowed: k * Math.max(noise, floor) };
  });
  return { ok: projections.every((p) => p.diff <= p.allowed), projections };
}

/** A split in the CIFAR binary layout (label byte + 3072 CHW bytes per record), as the reference reads it. */
export function writeCifarBin(path: string, split: CifarSplit): void {
  const out = new Uint8Array(split.count * (IMAGE_BYTES + 1));
  for (let i = 0; i < split.count; i++) {
    out[i * (IMAGE_BYTES + 1)] = split.labels[i];
    out.set(split.images.subarray(i * IMAGE_BYTES, (i + 1) * IMAGE_BYTES), i * (IMAGE_BYTES + 1) + 1);
  }
  writeFileSync(path, out);
}

export interface EngineParityRun {
  losses: number[];
  events: EngineEvent[];
  /** The run's exports for PyTorch (what `lrpet train --save` writes). */
  exported: SafetensorsExport;
}

/**
 * Trains the engine (createRun, the same code as the page and the CLI) from the weights file `init`
 * on `data.train` as one full batch per step: batchSize = train size, so data order cannot matter
 * beyond rounding.
 */
export async function runEngineFrom(tf: Tf, config: RunConfigInput, data: CifarDataset, init: Uint8Array): Promise<EngineParityRun> {
  const cfg = parseRunConfig({ ...config, init: { name: 'reference-init.safetensors' } });
  if (cfg.batchSize !== data.train.count || cfg.trainLimit !== null || cfg.augment) throw new Error('a parity run trains on the whole training split as one batch, without augmentation');
  const events: EngineEvent[] = [];
  const run = createRun({ tf, config: cfg, data, initWeights: init, onEvent: (e) => events.push(e) });
  try {
    const end = await run.start();
    if (end.ended !== 'finished') throw new Error(`the engine run ${end.ended}: ${end.message ?? ''} ${JSON.stringify(events.filter((e) => e.type === 'error'))}`);
    const losses = events.filter((e): e is StepEvent => e.type === 'step').map((e) => e.loss);
    return { losses, events, exported: await run.exportSafetensors() };
  } finally {
    run.dispose();
  }
}

/** Fresh variables for a graph holding the given values. */
export function paramsFrom(tf: Tf, graph: ModelGraph, values: Map<string, Float32Array>): ModelParams {
  const params = initParams(tf, graph, 0);
  try {
    assignWeightValues(tf, params, values);
  } catch (e) {
    disposeParams(params);
    throw e;
  }
  return params;
}

/** Inference-mode logits of a model on a split's images (normalised like training data, no augmentation). */
export async function engineLogits(tf: Tf, graph: ModelGraph, params: ModelParams, split: CifarSplit): Promise<number[][]> {
  const x = new Float32Array(split.count * IMAGE_BYTES);
  fillBatch(split, Array.from({ length: split.count }, (_, i) => i), x, null);
  const logits = tf.tidy(() => forward(tf, graph, params, tf.tensor4d(x, [split.count, 32, 32, 3]), false));
  const flat = await logits.data();
  logits.dispose();
  const c = graph.numClasses;
  return Array.from({ length: split.count }, (_, i) => Array.from(flat.subarray(i * c, (i + 1) * c)));
}

/** max |a − b| over two matrices of logits. */
export function maxAbsDiff(a: number[][], b: number[][]): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) for (let j = 0; j < a[i].length; j++) d = Math.max(d, Math.abs(a[i][j] - b[i][j]));
  return d;
}
