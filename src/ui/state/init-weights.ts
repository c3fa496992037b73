import type { ModelName } from '../../engine/config';
import { buildModel } from '../../engine/models/builders';
import { decodeModelWeights } from '../../engine/weights/model-weights';
import { errorText } from '../../engine/errors';

/** Larger than any model here as float64 (VGG-16: 60 MB as float32); anything bigger is not a weights file of these models. */
export const MAX_WEIGHTS_BYTES = 256 << 20;

/** A weights file the user picked, to start the next run from. */
export interface InitWeights {
  name: string;
  bytes: Uint8Array;
}

/**
 * Why `w` cannot start a run of `model` (names, shapes, dtypes, values, size), or null when it can.
 * Nothing is changed either way: the page keeps the file and its settings and says what is wrong.
 */
export function initWeightsProblem(w: InitWeights, model: ModelName): string | null {
  if (w.bytes.length > MAX_WEIGHTS_BYTES) return `${w.name}: ${(w.bytes.length / 2 ** 20).toFixed(0)} MB is more than any model here needs (at most ${MAX_WEIGHTS_BYTES >> 20} MB)`;
  try {
    decodeModelWeights(w.bytes, buildModel(model), model);
    return null;
  } catch (e) {
    return `${w.name}: ${errorText(e)}`;
  }
}
