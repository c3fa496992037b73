/**
 * `npx tsx bench/cpu-kernels.ts`: training steps on tfjs's CPU backend with tfjs's own Conv2DBackpropFilter
 * ('stock') and this project's (src/cpu-kernels, 'fast'), alternating in one process on synthetic data:
 * the median step of each model and batch, and the speed-up. Writes bench/results/cpu-kernels-DATE.md.
 *
 *   npx tsx bench/cpu-kernels.ts [--steps 3] [--out bench/results/cpu-kernels-DATE.md]
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import type { ModelName } from '../src/engine/config';
import type { StepEvent } from '../src/engine/events';
import { createRun } from '../src/engine/run/run';
import { syntheticDataset } from '../src/engine/testing/synthetic';
import { useCpuKernels } from '../src/cpu-kernels';
import { loadTf } from '../src/node/webgpu-node';
import { median } from './train-step';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '3' },
    out: { type: 'string', default: `bench/results/cpu-kernels-${new Date().toISOString().slice(0, 10)}.md` },
  },
});
const steps = Number(values.steps);
const { tf } = await loadTf('cpu');

async function stepTimes(model: ModelName, batch: number): Promise<number[]> {
  const events: StepEvent[] = [];
  const run = createRun({
    tf,
    data: syntheticDataset(batch * (steps + 1), 8),
    config: { model, epochs: 1, batchSize: batch, augment: false, buildCompact: false, gradNormEvery: 0, lrpet: { enabled: false } },
    onEvent: (e) => e.type === 'step' && events.push(e),
  });
  await run.start();
  run.dispose();
  return events.slice(1).map((e) => e.stepMs); // the first step warms up
}

const rows: string[] = [];
for (const [model, batch] of [['resnet8-tiny', 8], ['resnet8-tiny', 32], ['resnet20', 8]] as [ModelName, number][]) {
  const times: Record<'stock' | 'fast', number[]> = { stock: [], fast: [] };
  for (const mode of ['stock', 'fast', 'stock', 'fast'] as const) {
    useCpuKernels(mode);
    times[mode].push(...(await stepTimes(model, batch)));
  }
  const [s, f] = [median(times.stock), median(times.fast)];
  const row = `| ${model} | ${batch} | ${s.toFixed(0)} | ${f.toFixed(0)} | ${(s / f).toFixed(2)}× |`;
  console.log(row);
  rows.push(row);
}
const md = [
  `# Training step on tfjs's CPU backend: tfjs's Conv2DBackpropFilter vs this project's`,
  '',
  `${new Date().toISOString()} · ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'} · Node ${process.version} · tfjs ${tf.version.tfjs} · ${steps} timed steps per run, two runs each, alternating; median`,
  '',
  '| model | batch | stock step (ms) | fast step (ms) | speed-up |',
  '|---|---|---|---|---|',
  ...rows,
  '',
].join('\n');
writeFileSync(values.out!, md);
console.log(`written to ${values.out}`);
