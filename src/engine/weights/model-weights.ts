import type * as tfType from '@tensorflow/tfjs';
import type { ModelGraph } from '../models/graph';
import type { ModelParams } from '../models/params';
import { metadataFor, readStateDict, stateDictTensors, WeightsError, type WeightsMetadata } from './pytorch-layout';
import { decodeSafetensors, encodeSafetensors, SafetensorsError } from './safetensors';

type Tf = typeof tfType;

/** A model's variables by key (the keys checkpoints use): `<layer>/kernel|bias`, `<bn>/gamma|beta|moving_mean|moving_variance`. */
export function weightVariables(params: ModelParams): [string, tfType.Variable][] {
  const out: [string, tfType.Variable][] = [];
  for (const [name, w] of params.weights) {
    out.push([`${name}/kernel`, w.kernel]);
    if (w.bias) out.push([`${name}/bias`, w.bias]);
  }
  for (const [name, b] of params.bn) {
    out.push([`${name}/gamma`, b.gamma], [`${name}/beta`, b.beta], [`${name}/moving_mean`, b.movingMean], [`${name}/moving_variance`, b.movingVariance]);
  }
  return out;
}

/** Reads every variable's values (engine layout). */
export async function readWeightValues(params: ModelParams): Promise<Map<string, Float32Array>> {
  const vars = weightVariables(params);
  const datas = await Promise.all(vars.map(([, v]) => v.data() as Promise<Float32Array>));
  return new Map(vars.map(([key], i) => [key, datas[i]]));
}

/** The model as a safetensors file with the official PyTorch names and layouts (see pytorch-layout.ts). */
export async function exportSafetensors(graph: ModelGraph, params: ModelParams, meta: WeightsMetadata, numBatchesTracked: number): Promise<Uint8Array> {
  const values = await readWeightValues(params);
  return encodeSafetensors(stateDictTensors(graph, values, numBatchesTracked), metadataFor(meta));
}

/**
 * Decodes and validates a safetensors file of `model`'s dense weights (PyTorch names and layouts);
 * returns the values by engine key. Throws a WeightsError with a message for the user
 * (format errors included), so a caller can show it and keep everything as it was.
 */
export function decodeModelWeights(bytes: Uint8Array, graph: ModelGraph, model: string): Map<string, Float32Array> {
  try {
    return readStateDict(graph, model, decodeSafetensors(bytes));
  } catch (e) {
    if (e instanceof SafetensorsError) throw new WeightsError(e.message);
    throw e;
  }
}

/** Writes decoded values into a model's variables; every variable must get a value of its size. */
export function assignWeightValues(tf: Tf, params: ModelParams, values: Map<string, Float32Array>): void {
  const vars = weightVariables(params);
  for (const [key, v] of vars) {
    const data = values.get(key);
    if (!data || data.length !== v.size) throw new WeightsError(`no ${v.size} values for ${key}`);
  }
  for (const [key, v] of vars) tf.tidy(() => v.assign(tf.tensor(values.get(key)!, v.shape)));
}
