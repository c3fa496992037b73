import type * as tfType from '@tensorflow/tfjs';
import type { LayerInfo, LayerProjection } from '../events';
import { projectMatrix } from '../linalg';
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

/** Images of a layer's matrix M = diag(a)·W (the one the projection works on) just before and after its projection. */
export type MatrixImageSink = (layer: string, before: MatrixImage, after: MatrixImage) => void;

/**
 * Projects every projected layer onto rank r (spec §3–§4) in place: reads the kernel, does the
 * float64 projection on the CPU and writes the result back into the same variable. `images`, if
 * given, gets each layer's matrix image before and after.
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
