import { cpus } from 'node:os';
import type { InferenceBody, InferenceModels } from '../engine/infer/bench';
import { onnxFromGraphModel } from '../engine/deploy/onnx';
import { pairCosts } from '../engine/infer/model-costs';
import { timeInterleaved, withRate, type InferenceProgress, type TimedModel } from '../engine/infer/timing';
import { Rng } from '../engine/rng';

/**
 * Inference speed of the dense and the compact model in ONNX Runtime (onnxruntime-node, CPU execution
 * provider): the same models as ONNX files (engine/deploy/onnx), the same timing loop and result shape as
 * the tfjs measurement (engine/infer/bench.ts), so the CLI and the benchmark print them side by side.
 */

export interface OrtBenchOptions {
  batches: readonly number[];
  warmup: number;
  iterations: number;
  /** ONNX Runtime's intra-op threads (default: all cores). */
  threads?: number;
  onProgress?: (p: InferenceProgress) => void;
}

type Ort = typeof import('onnxruntime-node');

async function loadOrt(): Promise<Ort> {
  try {
    return await import('onnxruntime-node');
  } catch (e) {
    throw new Error(`ONNX Runtime (npm onnxruntime-node) could not be loaded: ${(e as Error).message}`, { cause: e });
  }
}

/** A session of an ONNX file, timed on a seeded random NCHW batch. */
function ortTimed(ort: Ort, name: string, session: import('onnxruntime-node').InferenceSession): TimedModel {
  return {
    name,
    async forBatch(batch) {
      const rng = new Rng(batch);
      const data = Float32Array.from({ length: batch * 3 * 32 * 32 }, () => rng.normal());
      const input = new ort.Tensor('float32', data, [batch, 3, 32, 32]);
      return {
        async call() {
          const out = await session.run({ input });
          if (out.logits.dims[0] !== batch) throw new Error(`${name}: ONNX Runtime returned logits of shape ${out.logits.dims.join('×')}`);
        },
        release: () => undefined,
      };
    },
  };
}

/** Times both models; `onnx` gives their ONNX files (e.g. the ones --save wrote), else they are written from the graph models. */
export async function benchOrt(models: InferenceModels, o: OrtBenchOptions, onnx?: { dense: Uint8Array; compact: Uint8Array }): Promise<InferenceBody> {
  const ort = await loadOrt();
  const threads = o.threads ?? cpus().length;
  const options = { executionProviders: ['cpu'], intraOpNumThreads: threads, graphOptimizationLevel: 'all' as const };
  const dense = await ort.InferenceSession.create(onnx?.dense ?? onnxFromGraphModel(models.dense), options);
  const compact = await ort.InferenceSession.create(onnx?.compact ?? onnxFromGraphModel(models.compact), options);
  try {
    const timed = [ortTimed(ort, 'dense', dense), ortTimed(ort, 'compact', compact)];
    const progress = { done: 0, total: o.batches.length * 2 * (o.warmup + o.iterations) };
    const batches: InferenceBody['batches'] = [];
    for (const batch of o.batches) {
      const t = await timeInterleaved(timed, batch, { warmup: o.warmup, iterations: o.iterations, onProgress: o.onProgress, progress, phase: 'ONNX Runtime' });
      const dt = withRate(t.get('dense')!, batch);
      const ct = withRate(t.get('compact')!, batch);
      batches.push({ batch, dense: dt, compact: ct, speedup: dt.medianMs / ct.medianMs });
    }
    return {
      backend: 'onnxruntime',
      device: `CPU execution provider, ${threads} thread${threads === 1 ? '' : 's'} (onnxruntime-node ${ort.env.versions.node ?? ort.env.versions.common})`,
      denseSource: models.denseSource,
      warmup: o.warmup,
      iterations: o.iterations,
      ...pairCosts(models),
      batches,
    };
  } finally {
    await dense.release();
    await compact.release();
  }
}
