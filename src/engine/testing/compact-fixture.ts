import type { ModelName } from '../config';
import { buildCompactModel, type CompactModel } from '../lrpet/compact';
import { projectModel } from '../lrpet/project';
import { disposeParams, initParams, type ModelParams } from '../models/params';
import { compactGraph, plannedCompactLayers } from '../models/split';
import { planModel, type ModelPlan, type PlanOptions } from '../plan';
import { Rng } from '../rng';
import type { Tf } from '../run/api';

/** Non-trivial BN statistics and scales, some channels nearly dead (γ ≈ 0), as after training. */
export function randomizeBn(tf: Tf, params: ModelParams, rng: Rng): void {
  for (const bn of params.bn.values()) {
    const c = bn.gamma.shape[0];
    const set = (v: { assign(t: unknown): void }, f: () => number) => {
      const t = tf.tensor1d(Float32Array.from({ length: c }, f));
      v.assign(t);
      t.dispose();
    };
    set(bn.gamma, () => (rng.next() < 0.1 ? 1e-4 : 0.3 + rng.next()));
    set(bn.beta, () => rng.normal() * 0.2);
    set(bn.movingMean, () => rng.normal() * 0.3);
    set(bn.movingVariance, () => 0.2 + rng.next() * 2);
  }
}

export interface CompactFixture {
  plan: ModelPlan;
  /** The projected dense model. */
  params: ModelParams;
  compact: CompactModel;
  dispose(): void;
}

/**
 * A projected model with random weights and BN statistics, and its compact model (for tests and
 * benchmarks of what is run after training; the values do not matter, the structure and ranks do).
 */
export async function compactFixture(tf: Tf, model: ModelName, opts: Partial<PlanOptions> = {}, seed = 11): Promise<CompactFixture> {
  const plan = planModel(model, { prune: 0.57, target: null, rankOverrides: {}, rankFloors: false, projectDense: false, ...opts });
  const params = initParams(tf, plan.graph, seed);
  randomizeBn(tf, params, new Rng(seed + 1));
  await projectModel(tf, params, plan.layers, () => 1e-5, { energyTransfer: true, beta: 0, bnRectification: true });
  const compact = await buildCompactModel(tf, plan.graph, params, plan.layers);
  return {
    plan,
    params,
    compact,
    dispose() {
      disposeParams(params);
      disposeParams(compact.params);
    },
  };
}

/**
 * A compact model of the plan's structure with random weights and BN statistics, without the SVDs of a
 * real projection (fast, for tests of what runs a compact model: only its structure matters there).
 */
export function randomCompactModel(tf: Tf, model: ModelName, opts: Partial<PlanOptions> = {}, seed = 11): CompactModel & { dispose(): void } {
  const plan = planModel(model, { prune: 0.57, target: null, rankOverrides: {}, rankFloors: false, projectDense: false, ...opts });
  const layers = plannedCompactLayers(plan.layers);
  const graph = compactGraph(plan.graph, layers);
  const params = initParams(tf, graph, seed);
  randomizeBn(tf, params, new Rng(seed + 1));
  return { graph, params, layers, dispose: () => disposeParams(params) };
}
