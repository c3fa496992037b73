import { applyLiveUpdate, parseRunConfig } from '../../engine/config';
import type { EngineEvent, LayerInfo } from '../../engine/events';
import { totalCosts } from '../../engine/models/cost';

const layer = (name: string, rank: number): LayerInfo => ({
  name,
  kind: 'conv',
  shape: [16, 144],
  kernel: [3, 3, 16, 16],
  n: 16,
  rank,
  projected: true,
  bn: `${name}/bn`,
  macsDense: 2_359_296,
  macsCompact: 1024 * rank * 160,
  paramsDense: 2304,
  paramsCompact: rank * 160,
  keptDense: false,
});

/**
 * A typed event sequence of a small run (the compiler keeps it in the engine's shape): start, steps,
 * a projection and an epoch per epoch, a live change, a log line, then compact and finished, and an
 * inference-speed measurement.
 */
export function sampleEvents(epochs = 3, stepsPerEpoch = 4, t0 = 1_700_000_000_000): EngineEvent[] {
  const config = parseRunConfig({ model: 'resnet8-tiny', epochs, batchSize: 8, lrpet: { prune: 0.5, interval: stepsPerEpoch } });
  const layers = [layer('s1/conv1', 8), layer('s1/conv2', 8)];
  let t = t0;
  let it = 0;
  const out: EngineEvent[] = [
    { type: 'runStart', time: t, resumedFrom: null, config, prune: 0.5, backend: 'webgpu', trainSize: 32, testSize: 16, stepsPerEpoch, layers, ...totalCosts(layers) },
    { type: 'state', time: t, state: 'running', iteration: 0, epoch: 0 },
  ];
  for (let ep = 0; ep < epochs; ep++) {
    for (let s = 0; s < stepsPerEpoch; s++) {
      it++;
      t += 100;
      out.push({ type: 'step', time: t, iteration: it, epoch: ep, loss: 2.3 / it, accuracy: Math.min(1, it / 20), lr: 0.1, imagesPerSec: 80, stepMs: 100, numTensors: 40, memory: { numBytes: 4000, gpuBytesInUse: 4096, gpuBytesAllocated: 8192 } });
    }
    if (ep === 0) out.push({ type: 'activity', time: t, activity: 'evaluating', message: 'testing the projected model on 16 images…' });
    out.push({ type: 'gradNorms', time: t, iteration: it, epoch: ep, reasons: ['sample', 'beforeProjection'], grad: [0.52, 0.31], ratio: [0.12, 0.075] });
    out.push({
      type: 'projection',
      time: t,
      index: ep + 1,
      iteration: it,
      epoch: ep,
      layers: layers.map((l) => ({ name: l.name, shape: l.shape, rank: l.rank, sigmaBefore: [3, 2, 1, 0.5], sigmaAfter: [3.1, 2.1, 0, 0], energyKeptBefore: 0.9, energyKeptAfter: 1, alpha: 1.1, skipped: false })),
      projectionMs: 12.5,
      testAccuracy: 0.3 + ep * 0.1,
    });
    out.push({ type: 'epoch', time: t + 50, epoch: ep, iteration: it, trainLoss: 1.5, trainAccuracy: 0.4, testLoss: 1.7, testAccuracy: 0.3 + ep * 0.1, afterProjection: true, epochMs: 450, numTensors: 40, memory: { numBytes: 4000, gpuBytesInUse: 4096, gpuBytesAllocated: 8192 } });
    t += 50;
    if (ep === 0) {
      layers[1] = layer('s1/conv2', 4);
      out.push({ type: 'configChange', time: t, iteration: it, epoch: ep, changes: { prune: 0.75 }, config: applyLiveUpdate(config, { prune: 0.75 }), layers: layers.slice() });
      out.push({ type: 'log', time: t, level: 'info', message: 'ranks changed' });
    }
  }
  out.push({ type: 'compact', time: t + 10, testAccuracy: 0.55, testLoss: 1.2, denseTestAccuracy: 0.55, layers: layers.map((l) => ({ name: l.name, rank: l.rank, split: true, zero: false })), ...totalCosts(layers) });
  out.push({ type: 'state', time: t + 10, state: 'finished', iteration: it, epoch: epochs });
  // Measured after the run: the dense and the compact model's inference speed.
  const timing = (medianMs: number, batch: number) => ({ samples: 3, medianMs, minMs: medianMs * 0.9, maxMs: medianMs * 1.3, q1Ms: medianMs * 0.95, q3Ms: medianMs * 1.1, imagesPerSec: (batch / medianMs) * 1000 });
  const c = totalCosts(layers);
  out.push({
    type: 'inference',
    time: t + 20,
    backend: 'webgpu',
    device: 'test adapter',
    denseSource: 'projected',
    warmup: 1,
    iterations: 3,
    ...c,
    macRatio: c.macsDense / c.macsCompact,
    paramRatio: c.paramsDense / c.paramsCompact,
    splitRanks: layers.map((l) => l.rank),
    batches: [
      { batch: 1, dense: timing(4, 1), compact: timing(3.5, 1), speedup: 4 / 3.5 },
      { batch: 128, dense: timing(60, 128), compact: timing(40, 128), speedup: 1.5 },
    ],
  });
  return out;
}
