/**
 * What recording gradient norms costs: the training step's time with the norms measured on every step
 * and with them off (same model, batch and machine, the two kinds of run interleaved), and the reduction
 * alone on the model's real kernel shapes; from these the overhead at the default sampling
 * (gradNormEvery steps, plus the steps before and after each projection at the default interval of one
 * epoch of CIFAR-10).
 *
 *   npx tsx bench/grad-norms.ts [--model resnet20] [--batch 128] [--steps 4] [--rounds 2] [--backend auto]
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import type { ModelName } from '../src/engine/config';
import { initParams, disposeParams } from '../src/engine/models/params';
import { planModel } from '../src/engine/plan';
import { SETTINGS } from '../src/engine/settings';
import { layerKernels, sumsOfSquares } from '../src/engine/train/grad-norms';
import { loadTf } from '../src/node/webgpu-node';
import { median, timeTrainingStep } from './train-step';

export interface GradNormCost {
  every: number;
  /** Share of steps recorded at the default sampling. */
  recorded: number;
  offMs: number;
  /** Median step with the norms measured on every step. */
  onMs: number;
  /** The reduction and its read alone (fake gradients of the kernels' shapes). */
  reductionMs: number;
  /** Overhead at the default sampling, % of step time: from the A/B step times, and from the reduction alone. */
  overheadPct: number;
  reductionOverheadPct: number;
}

export async function gradNormCost(model: ModelName, batch: number, steps: number, rounds: number, backend: 'auto' | 'webgpu' | 'cpu'): Promise<GradNormCost> {
  const off: number[] = [];
  const on: number[] = [];
  for (let r = 0; r < rounds; r++) {
    off.push(...(await timeTrainingStep(model, batch, steps, backend, { gradNormEvery: 0 })).times);
    on.push(...(await timeTrainingStep(model, batch, steps, backend, { gradNormEvery: 1 })).times);
  }
  const { tf } = await loadTf(backend);
  const plan = planModel(model, { prune: 0.57, target: null, rankOverrides: {}, rankFloors: false, projectDense: false });
  const params = initParams(tf, plan.graph, 1);
  const kernels = layerKernels(params, plan.layers.map((l) => l.name));
  const grads = Object.fromEntries(kernels.flat().map((k) => [k.name, tf.randomNormal(k.shape)]));
  const times: number[] = [];
  for (let i = 0; i < 12; i++) {
    const t0 = performance.now();
    const sums = sumsOfSquares(tf, grads, kernels);
    await sums.data();
    sums.dispose();
    if (i > 1) times.push(performance.now() - t0);
  }
  tf.dispose(Object.values(grads));
  disposeParams(params);
  const every = SETTINGS.gradNormEvery.default;
  // Every k-th step, and the steps right before and after the one projection per epoch (some coincide: an upper bound).
  const recorded = 1 / every + 2 / Math.ceil(50_000 / batch);
  const offMs = median(off);
  const onMs = median(on);
  const reductionMs = median(times);
  return {
    every,
    recorded,
    offMs,
    onMs,
    reductionMs,
    overheadPct: (100 * recorded * Math.max(0, onMs - offMs)) / offMs,
    reductionOverheadPct: (100 * recorded * reductionMs) / offMs,
  };
}

export function printGradNormCost(c: GradNormCost, model: string, batch: number): void {
  const f = (x: number) => x.toFixed(1);
  console.log(
    `gradient norms (${model}, batch ${batch}): step ${f(c.offMs)} ms off, ${f(c.onMs)} ms measured on every step (${f(c.onMs - c.offMs)} ms more); ` +
      `the reduction alone ${f(c.reductionMs)} ms`,
  );
  console.log(
    `  at the default sampling (every ${c.every} steps + before/after each projection, ${(c.recorded * 100).toFixed(2)}% of steps): ` +
      `overhead ${c.overheadPct.toFixed(2)}% of step time from the step times, ${c.reductionOverheadPct.toFixed(2)}% from the reduction alone (target ≤ 2%)`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { model: { type: 'string' }, batch: { type: 'string' }, steps: { type: 'string' }, rounds: { type: 'string' }, backend: { type: 'string' } } });
  const model = (values.model ?? 'resnet20') as ModelName;
  const batch = Number(values.batch ?? 128);
  const cost = await gradNormCost(model, batch, Number(values.steps ?? 4), Number(values.rounds ?? 2), (values.backend ?? 'auto') as 'auto');
  printGradNormCost(cost, model, batch);
  process.exit(0);
}
