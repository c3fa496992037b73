import type { InferenceTiming } from '../events';
import { nextMacrotask } from '../run/lifecycle';
import { timingStats } from './stats';

/**
 * The timing loop every inference measurement shares (tfjs graph models, the engine's own forward, ONNX
 * Runtime): per batch size, warm-up calls of each model, then timed calls with the models' order rotating
 * every round so that drift hits all alike. A call runs the model and reads its logits back (so on a GPU
 * it waits for the work to finish).
 */

export interface InferenceProgress {
  label: string;
  done: number;
  total: number;
}

export class BenchCancelled extends Error {
  override name = 'BenchCancelled';
  constructor() {
    super('the measurement was cancelled');
  }
}

/** A model to time: for a batch size, a call (resolves once the logits are read) and what frees its input. */
export interface TimedModel {
  name: string;
  forBatch(batch: number): Promise<{ call(): Promise<void>; release(): void }>;
}

export interface TimingLoopOptions {
  warmup: number;
  iterations: number;
  onProgress?: (p: InferenceProgress) => void;
  shouldStop?: () => boolean;
  now?: () => number;
  /** Progress counts from here (several loops in one measurement); total is all calls of all loops. */
  progress?: { done: number; total: number };
  /** A word for the progress label ('padded ranks'). */
  phase?: string;
}

const defaultNow = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export const withRate = (ms: number[], batch: number): InferenceTiming => {
  const s = timingStats(ms);
  return { ...s, imagesPerSec: (batch / s.medianMs) * 1000 };
};

/** Times every model at one batch size; the result has each model's timings (ms) by name. */
export async function timeInterleaved(models: TimedModel[], batch: number, o: TimingLoopOptions): Promise<Map<string, number[]>> {
  const now = o.now ?? defaultNow;
  const progress = o.progress ?? { done: 0, total: models.length * (o.warmup + o.iterations) };
  const prepared: { name: string; call(): Promise<void>; release(): void }[] = [];
  try {
    for (const m of models) prepared.push({ name: m.name, ...(await m.forBatch(batch)) });
    const one = async (m: (typeof prepared)[number], label: string): Promise<number> => {
      await nextMacrotask();
      if (o.shouldStop?.()) throw new BenchCancelled();
      const t0 = now();
      await m.call();
      const ms = now() - t0;
      o.onProgress?.({ label, done: ++progress.done, total: progress.total });
      return ms;
    };
    const phase = o.phase ? ` (${o.phase})` : '';
    for (let i = 0; i < o.warmup; i++) for (const m of prepared) await one(m, `batch ${batch}${phase}: warm-up (${m.name})`);
    const out = new Map<string, number[]>(prepared.map((m) => [m.name, []]));
    for (let i = 0; i < o.iterations; i++) {
      const label = `batch ${batch}${phase}: timing ${i + 1} of ${o.iterations}`;
      for (let j = 0; j < prepared.length; j++) {
        const m = prepared[(i + j) % prepared.length];
        out.get(m.name)!.push(await one(m, label));
      }
    }
    return out;
  } finally {
    for (const m of prepared) m.release();
  }
}
