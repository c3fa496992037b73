import { describeChanges } from '../engine/config';
import type { EngineEvent } from '../engine/events';

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const M = (x: number) => `${(x / 1e6).toFixed(2)}M`;

/** One human-readable progress line per interesting event (null = print nothing). */
export function formatEvent(e: EngineEvent, backend: string): string | null {
  switch (e.type) {
    case 'runStart':
      return `run: ${e.config.model} on ${backend}, p = ${e.prune.toFixed(4)}, ${e.layers.filter((l) => l.projected).length} projected layers, MACs ${M(e.macsDense)} → ${M(e.macsCompact)}, params ${M(e.paramsDense)} → ${M(e.paramsCompact)}; ${e.trainSize} training / ${e.testSize} test images, ${e.stepsPerEpoch} steps per epoch`;
    case 'step':
      return e.iteration % 10 === 0 || e.iteration === 1
        ? `  step ${e.iteration} (epoch ${e.epoch + 1}): loss ${e.loss.toFixed(4)}, acc ${pct(e.accuracy)}, lr ${e.lr.toPrecision(3)}, ${e.imagesPerSec.toFixed(1)} img/s`
        : null;
    case 'projection': {
      const kept = e.layers.reduce((s, l) => s + l.energyKeptBefore, 0) / Math.max(1, e.layers.length);
      return `  projection ${e.index} at step ${e.iteration}: ${e.layers.length} layers in ${e.projectionMs.toFixed(0)} ms, mean energy kept before ${pct(kept)}${e.testAccuracy !== null ? `, test acc after ${pct(e.testAccuracy)}` : ''}`;
    }
    case 'epoch':
      return `epoch ${e.epoch + 1}: train loss ${e.trainLoss.toFixed(4)} acc ${pct(e.trainAccuracy)} | test loss ${e.testLoss.toFixed(4)} acc ${pct(e.testAccuracy)}${e.afterProjection ? ' (after projection)' : ''} | ${(e.epochMs / 1000).toFixed(1)} s, ${e.numTensors} tensors`;
    case 'compact':
      return `compact model: test acc ${pct(e.testAccuracy)} (projected dense ${pct(e.denseTestAccuracy)}), MACs ${M(e.macsDense)} → ${M(e.macsCompact)}, params ${M(e.paramsDense)} → ${M(e.paramsCompact)}`;
    case 'configChange':
      return `  settings changed at step ${e.iteration}: ${describeChanges(e.changes)}`;
    case 'error':
      return `error (${e.code}): ${e.message}`;
    case 'log':
      return e.message;
    case 'inference': {
      const b = e.batches[e.batches.length - 1];
      return b ? `inference at batch ${b.batch}: dense ${b.dense.medianMs.toFixed(1)} ms, compact ${b.compact.medianMs.toFixed(1)} ms, ${b.speedup.toFixed(2)}× faster (MACs ${e.macRatio.toFixed(2)}× fewer)` : null;
    }
    case 'state':
    case 'gradNorms':
      return null;
    case 'activity':
      // A test evaluation ends in its epoch line; the rest are waits worth a line.
      return e.activity === 'evaluating' ? null : `  ${e.message}`;
  }
}
