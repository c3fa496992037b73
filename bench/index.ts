/**
 * `npm run bench`: one full LRPET projection of every conv of ResNet-56 and VGG-16 next to numpy in the
 * same run, then one ResNet-20 training step on the backend in use, so the projection's cost can be
 * read as a number of training steps, what recording gradient norms adds to a step, what a checkpoint
 * of ResNet-56 and VGG-16 costs (bench/checkpoint.ts), and the inference
 * speed of ResNet-56 dense vs compact at p = 0.57 (bench/inference.ts).
 *
 *   npm run bench [-- --batch 128] [--backend auto|webgpu|cpu] [--js] [--phases] [--inference-only | --no-inference] [--no-checkpoint]
 */
import { parseArgs } from 'node:util';
import { DEFAULT_INFERENCE_ARGS, runInferenceBench } from './inference';
import { printRows, runProjectionBench } from './projection';
import { printCheckpointRows, timeCheckpoints } from './checkpoint';
import { gradNormCost, printGradNormCost } from './grad-norms';
import { timeTrainingStep } from './train-step';

const { values } = parseArgs({
  options: {
    batch: { type: 'string' },
    backend: { type: 'string' },
    js: { type: 'boolean' },
    phases: { type: 'boolean' },
    'inference-only': { type: 'boolean' },
    'no-inference': { type: 'boolean' },
    'no-checkpoint': { type: 'boolean' },
    'infer-batches': { type: 'string' },
    'infer-iterations': { type: 'string' },
    profile: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(`npm run bench [-- options]
  --batch N             batch of the ResNet-20 training step (default 128)
  --backend B           auto | webgpu | cpu for the training step and the inference timings (default auto)
  --js                  also time the projections on the plain-JavaScript linear algebra (slow)
  --phases              print where the projection's time goes (fill, gram, tridiag, …)
  --inference-only      only the inference timings (ResNet-56 dense vs compact, p = 0.57)
  --no-inference        skip them (on a software renderer they take tens of minutes)
  --no-checkpoint       skip the checkpoint cost of ResNet-56 and VGG-16 (a checkpoint next to a training step)
  --infer-batches L     their batch sizes (default 1,128)
  --infer-iterations N  timed calls per model and batch size (default ${DEFAULT_INFERENCE_ARGS.iterations}, after one warm-up call)
  --profile             also print the GPU time per kernel of each model (tf.time) at batch ${DEFAULT_INFERENCE_ARGS.profileBatch}
more inference options (model, p, warm-up, the profile's batch): the header of bench/inference.ts`);
  process.exit(0);
}
const backend = (values.backend ?? 'auto') as 'auto' | 'webgpu' | 'cpu';
const inference = () =>
  runInferenceBench({
    ...DEFAULT_INFERENCE_ARGS,
    backend,
    ...(values['infer-batches'] ? { batches: values['infer-batches'].split(',').map(Number) } : {}),
    ...(values['infer-iterations'] ? { iterations: Number(values['infer-iterations']) } : {}),
    profile: !!values.profile,
  });
if (values['inference-only']) {
  await inference();
  process.exit(0);
}
const batch = Number(values.batch ?? 128);
const rows = await runProjectionBench({ jsFallback: !!values.js, phases: !!values.phases });
const step = await timeTrainingStep('resnet20', batch, 3, backend);
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
printGradNormCost(await gradNormCost('resnet20', batch, 3, 2, backend), 'ResNet-20', batch);
if (!values['no-checkpoint']) {
  console.log();
  printCheckpointRows(await timeCheckpoints({ models: ['resnet56', 'vgg16'], batch, backend }));
}
if (!values['no-inference']) {
  console.log();
  await inference();
}
process.exit(0);
