import type * as tfType from '@tensorflow/tfjs';
import { MODEL_NAMES, type ModelName } from '../config';
import { exportGraphModel } from '../export/graph-model';
import { buildModel } from '../models/builders';
import type { ModelGraph } from '../models/graph';
import { disposeParams, initParams } from '../models/params';
import type { CompactLayer } from '../models/split';
import { assignWeightValues } from './model-weights';
import { readCompactStateDict, readStateDict, WeightsError } from './pytorch-layout';
import { decodeSafetensors, SafetensorsError, type SafetensorsFile } from './safetensors';

/**
 * A run's models from its state_dict files (projected.safetensors, compact.safetensors: the engine's
 * downloads and --save, or the PyTorch trainer's --out): the graphs and values the engine computes with,
 * and the TensorFlow.js graph models it exports, so the inference timing, evaluation and downloads work on
 * any run's files as on the engine's own.
 */

type Tf = typeof tfType;
/** A TensorFlow.js graph model as files (what exportGraphModel makes). */
type ExportedModel = Awaited<ReturnType<typeof exportGraphModel>>;

export interface ModelFromFile {
  model: ModelName;
  graph: ModelGraph;
  values: Map<string, Float32Array>;
  /** The compact model's split layers (empty for a dense file). */
  split: CompactLayer[];
}

function decode(bytes: Uint8Array, what: string): SafetensorsFile {
  try {
    return decodeSafetensors(bytes);
  } catch (e) {
    if (e instanceof SafetensorsError) throw new WeightsError(`${what}: ${e.message}`);
    throw e;
  }
}

function modelOf(file: SafetensorsFile, what: string, model?: ModelName): ModelName {
  const declared = file.metadata['lrpet.model'];
  const name = model ?? declared;
  if (!name) throw new WeightsError(`${what} does not say which model it holds (no 'lrpet.model' in its metadata)`);
  if (!(MODEL_NAMES as readonly string[]).includes(name)) throw new WeightsError(`${what} holds '${name}', not one of the models here (${MODEL_NAMES.join(', ')})`);
  return name as ModelName;
}

/** Reads a dense (projected) or a compact state_dict file; `variant`: which one it must be. */
export function modelFromSafetensors(bytes: Uint8Array, variant: 'dense' | 'compact', what: string, model?: ModelName): ModelFromFile {
  const file = decode(bytes, what);
  const name = modelOf(file, what, model);
  if (file.metadata['lrpet.variant'] && file.metadata['lrpet.variant'] !== variant) throw new WeightsError(`${what} is a ${file.metadata['lrpet.variant']} model's file, not a ${variant} one`);
  const prefix = (e: unknown) => (e instanceof WeightsError ? new WeightsError(`${what}: ${e.message}`) : e);
  try {
    if (variant === 'compact') {
      const { graph, layers, values } = readCompactStateDict(name, file);
      return { model: name, graph, values, split: layers };
    }
    const graph = buildModel(name);
    return { model: name, graph, values: readStateDict(graph, name, file), split: [] };
  } catch (e) {
    throw prefix(e);
  }
}

/** The model as a TensorFlow.js graph model (what `lrpet train --save` writes and the page downloads). */
export async function graphModelOf(tf: Tf, m: ModelFromFile): Promise<ExportedModel> {
  const params = initParams(tf, m.graph, 0);
  try {
    assignWeightValues(tf, params, m.values);
    return await exportGraphModel(m.graph, params);
  } finally {
    disposeParams(params);
  }
}
