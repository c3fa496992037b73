/**
 * The engine side of the PyTorch parity tests (torch-parity*.test.ts): train the engine from given
 * weights on one fixed full batch, read its per-step losses, spectra and exported weights, and compute
 * a model's logits. The criteria that judge them against PyTorch are in parity-criteria.ts.
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
