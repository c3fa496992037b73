import { parseRunConfig } from '../../engine/config';
import { planModel } from '../../engine/plan';

// A hand-made log of a run of 2 epochs × 3 steps at batch 8, a projection every 2 steps, stopped after
// the finish: times are chosen so that every expected number below is exact.
export function handMadeLog(): string {
  const config = parseRunConfig({ model: 'resnet8-tiny', batchSize: 8, epochs: 2, lrpet: { interval: 2 } });
  const plan = planModel('resnet8-tiny', config.lrpet);
  const mem = (tensors: number, gpu: number) => ({ numBytes: tensors * 100, gpuBytesInUse: gpu, gpuBytesAllocated: gpu * 2 });
  const step = (time: number, iteration: number, stepMs: number, numTensors: number, gpu: number) => ({
    type: 'step', time, iteration, epoch: iteration > 3 ? 1 : 0, loss: 3 - iteration / 10, accuracy: 0.1, lr: 0.1,
    imagesPerSec: (8 / stepMs) * 1000, stepMs, numTensors, memory: mem(numTensors, gpu),
  });
  const projection = (time: number, index: number, iteration: number, projectionMs: number, testAccuracy: number | null) => ({
    type: 'projection', time, index, iteration, epoch: 0, projectionMs, testAccuracy, layers: [],
  });
  const epoch = (time: number, ep: number, iteration: number, afterProjection: boolean) => ({
    type: 'epoch', time, epoch: ep, iteration, trainLoss: 2, trainAccuracy: 0.2, testLoss: 2, testAccuracy: 0.25 + ep / 10, afterProjection, epochMs: 500, numTensors: 60, memory: mem(60, 4000),
  });
  const activity = (time: number, a: string) => ({ type: 'activity', time, activity: a, message: a });
  const events = [
    { type: 'runStart', time: 1000, resumedFrom: null, config, prune: plan.prune, backend: 'webgpu', trainSize: 24, testSize: 40, stepsPerEpoch: 3, layers: plan.layers, macsDense: plan.macsDense, macsCompact: plan.macsCompact, paramsDense: plan.paramsDense, paramsCompact: plan.paramsCompact },
    { type: 'state', time: 1000, state: 'running', iteration: 0, epoch: 0 },
    activity(1000, 'compiling'),
    step(1900, 1, 900, 50, 3000),
    step(2000, 2, 100, 60, 4000),
    projection(2030, 1, 2, 30, null),
    step(2130, 3, 100, 60, 4000),
    activity(2130, 'evaluating'),
    epoch(2330, 0, 3, false), // a test of 200 ms
    step(2450, 4, 120, 60, 4000),
    projection(2500, 2, 4, 50, null),
    step(2580, 5, 80, 60, 4000),
    // stopped here: the finish projects once more and tests the projected model…
    activity(2600, 'evaluating'),
    projection(2760, 3, 5, 20, 0.3), // a test of 160 ms
    activity(2760, 'building-compact'),
    activity(2800, 'evaluating-compact'),
    { type: 'compact', time: 2900, testAccuracy: 0.29, testLoss: 2, denseTestAccuracy: 0.3, layers: [], hardProjection: false, bnRecalibration: null, macsDense: 10, macsCompact: 5, paramsDense: 4, paramsCompact: 2 },
    { type: 'state', time: 2900, state: 'stopped', iteration: 5, epoch: 1 },
  ];
  return events.map((e) => JSON.stringify(e)).join('\n') + '\n';
}
