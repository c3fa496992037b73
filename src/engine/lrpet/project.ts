import type * as tfType from '@tensorflow/tfjs';
import type { LayerInfo, LayerProjection } from '../events';
import { projectMatrix, singularValues } from '../linalg';
import { matrixImage, type MatrixImage } from './matrix-image';
import type { ModelParams } from '../models/params';

type Tf = typeof tfType;

export interface ProjectionSettings {
  energyTransfer: boolean;
  beta: number;
  bnRectification: boolean;
}

/** a_j = γ_j / √(v_j + ε): the per-channel scale the BN applies at inference (spec §3). */
async function bnScale(params: ModelParams, bnName: string, epsilon: number): Promise<Float64Array> {
  const bn = params.bn.get(bnName)!;
  const [gamma, variance] = await Promise.all([bn.gamma.data(), bn.movingVariance.data()]);
  const a = new Float64Array(gamma.length);
  for (let j = 0; j < a.length; j++) a[j] = gamma[j] / Math.sqrt(variance[j] + epsilon);
  return a;
}

/** diag(a)·W in the wt layout (K×O): column o scaled by a_o. */
function merged(wt: Float32Array, K: number, O: number, scale: Float64Array | null): Float32Array | Float64Array {
  if (!scale) return wt;
  const m = new Float64Array(K * O);
  for (let k = 0; k < K; k++) for (let o = 0; o < O; o++) m[k * O + o] = wt[k * O + o] * scale[o];
  return m;
}

/** Images of a layer's matrix M = diag(a)·W (the one the projection works on) just before and after its projection. */
export type MatrixImageSink = (layer: string, before: MatrixImage, after: MatrixImage) => void;

/**
 * Projects every projected layer onto rank r (spec §3–§4) in place: reads the kernel, does the
 * float64 projection on the CPU and writes the result back into the same variable. `images`, if
 * given, gets each layer's matrix image before and after.
 *
 * A layer whose rank is its full n (p = 0, or a rank override of n) is left exactly as it is and
 * reported as skipped, with its spectrum: nothing is cut, and the rectification round trip
 * diag(a/(a²+1e-5))·diag(a)·W would still shrink the rows whose a is small, so "LRPET at p = 0" would
 * not be dense training.
 */
export async function projectModel(
  tf: Tf,
  params: ModelParams,
  layers: LayerInfo[],
  bnEpsilon: (bnName: string) => number,
  settings: ProjectionSettings,
  images?: MatrixImageSink,
): Promise<LayerProjection[]> {
  const results: LayerProjection[] = [];
  for (const layer of layers) {
    if (!layer.projected) continue;
    const w = params.weights.get(layer.name)!;
    const [O, K] = layer.shape;
    const wt = (await w.kernel.data()) as Float32Array;
    const scale = settings.bnRectification && layer.bn ? await bnScale(params, layer.bn, bnEpsilon(layer.bn)) : null;
    if (layer.rank >= layer.n) {
      const sigma = Array.from(singularValues(merged(wt, K, O, scale), K, O));
      const image = images && matrixImage(wt, K, O, scale);
      if (image) images(layer.name, image, image);
      results.push({ name: layer.name, shape: layer.shape, rank: layer.rank, sigmaBefore: sigma, sigmaAfter: sigma, energyKeptBefore: 1, energyKeptAfter: 1, alpha: 1, skipped: true });
      continue;
    }
    const r = projectMatrix(wt, K, O, { rank: layer.rank, scale, beta: settings.beta, energyTransfer: settings.energyTransfer });
    if (!r.skipped) {
      const shape = w.kernel.shape;
      tf.tidy(() => w.kernel.assign(tf.tensor(r.weights, shape)));
    }
    images?.(layer.name, matrixImage(wt, K, O, scale), matrixImage(r.weights, K, O, scale));
    results.push({
      name: layer.name,
      shape: layer.shape,
      rank: layer.rank,
      sigmaBefore: Array.from(r.sigmaBefore),
      sigmaAfter: Array.from(r.sigmaAfter),
      energyKeptBefore: r.energyKeptBefore,
      energyKeptAfter: r.energyKeptAfter,
      alpha: r.alpha,
      skipped: r.skipped,
    });
  }
  return results;
}
