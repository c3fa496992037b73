/**
 * `npm run bench`: one full LRPET projection of every conv of ResNet-56 and VGG-16 next to numpy in the
 * same run, then one ResNet-20 training step on the backend in use, so the projection's cost can be
 * read as a number of training steps, and what recording gradient norms adds to a step.
 *
 *   npm run bench [-- --batch 128] [--backend auto|webgpu|cpu] [--js] [--phases]
 */
import { parseArgs } from 'node:util';
import { printRows, runProjectionBench } from './projection';
import { gradNormCost, printGradNormCost } from './grad-norms';
import { timeTrainingStep } from './train-step';

const { values } = parseArgs({
  options: { batch: { type: 'string' }, backend: { type: 'string' }, js: { type: 'boolean' }, phases: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
});
if (values.help) {
  console.log(`npm run bench [-- options]
  --batch N       batch of the ResNet-20 training step (default 128)
  --backend B     auto | webgpu | cpu for the training step (default auto)
  --js            also time the projections on the plain-JavaScript linear algebra (slow)
  --phases        print where the projection's time goes (fill, gram, tridiag, …)`);
  process.exit(0);
}
const batch = Number(values.batch ?? 128);
const rows = await runProjectionBench({ jsFallback: !!values.js, phases: !!values.phases });
const step = await timeTrainingStep('resnet20', batch, 3, (values.backend ?? 'auto') as 'auto');
rows.push({
  model: `ResNet-20 training step (batch ${batch})`,
  matrices: step.backend,
  oursMs: step.stepMs,
  numpyMs: null,
  ratio: null,
  target: null,
  note: `${step.imagesPerSec.toFixed(1)} img/s on ${step.note}; median of 3 steps after a warm-up step`,
});
printRows(rows);
const proj = rows.filter((r) => r.model.endsWith('projection'));
for (const r of proj) {
  if (r.oursMs !== null) console.log(`${r.model}: ${(r.oursMs / step.stepMs).toFixed(3)} training steps of ResNet-20 (batch ${batch})`);
}
printGradNormCost(await gradNormCost('resnet20', batch, 3, 2, (values.backend ?? 'auto') as 'auto'), 'ResNet-20', batch);
process.exit(0);
