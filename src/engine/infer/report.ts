import type { InferenceEvent, InferenceTiming } from '../events';

type InferenceResult = Omit<InferenceEvent, 'type' | 'time'>;

/** The issue's target: at the throughput batch the measured speed-up reaches this fraction of the MAC reduction. */
export const TARGET_FRACTION = 0.8;

export interface SpeedupVerdict {
  batch: number;
  speedup: number;
  macRatio: number;
  /** speedup / macRatio: 1 when time falls exactly as the MACs do. */
  fraction: number;
  meetsTarget: boolean;
}

/** How the speed-up at the largest batch measured compares with the MAC reduction; null when nothing was measured. */
export function speedupVerdict(r: InferenceResult): SpeedupVerdict | null {
  const b = [...r.batches].sort((x, y) => y.batch - x.batch)[0];
  if (!b || !Number.isFinite(b.speedup) || !(r.macRatio > 0)) return null;
  const fraction = b.speedup / r.macRatio;
  return { batch: b.batch, speedup: b.speedup, macRatio: r.macRatio, fraction, meetsTarget: fraction >= TARGET_FRACTION };
}

type Fastest = NonNullable<InferenceResult['fastest']>[number];

/** Per batch, the quickest compact variant measured (the graph model, padded ranks, the fused forward). */
export function fastestVariants(r: InferenceResult): Fastest[] {
  return r.batches.map((b) => {
    const candidates: Fastest[] = [{ batch: b.batch, variant: 'graph', medianMs: b.compact.medianMs, speedup: b.speedup }];
    if (b.fused && b.fusedSpeedup !== undefined) candidates.push({ batch: b.batch, variant: 'fused', medianMs: b.fused.medianMs, speedup: b.fusedSpeedup });
    for (const p of r.paddedRanks ?? []) {
      const pb = p.batches.find((x) => x.batch === b.batch);
      if (pb && (p.multiple === 4 || p.multiple === 8)) candidates.push({ batch: b.batch, variant: p.multiple === 4 ? 'padded4' : 'padded8', medianMs: pb.compact.medianMs, speedup: pb.speedup });
    }
    return candidates.reduce((best, c) => (c.medianMs < best.medianMs ? c : best));
  });
}

/** How a compact variant is named in text. */
export const VARIANT_NAMES: Record<Fastest['variant'], string> = {
  graph: 'the graph model as trained',
  padded4: 'the graph model with ranks padded to multiples of 4',
  padded8: 'the graph model with ranks padded to multiples of 8',
  fused: "the engine's fused forward",
};

const digits = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const M = (x: number) => `${(x / 1e6).toFixed(2)}M`;

/** "12.3 ms (IQR 12.0–12.9, range 11.8–14.1)"; in seconds from a 10 s median on. */
export function timingText(t: InferenceTiming): string {
  const div = t.medianMs >= 10_000 ? 1000 : 1;
  const f = (x: number) => digits(x / div);
  return `${f(t.medianMs)} ${div === 1 ? 'ms' : 's'} (IQR ${f(t.q1Ms)}–${f(t.q3Ms)}, range ${f(t.minMs)}–${f(t.maxMs)})`;
}

/** The result as plain-text lines (the CLI's and the benchmark's table). */
export function inferenceTable(r: InferenceResult): string[] {
  const fused = r.batches.some((b) => b.fused);
  const rows = r.batches.map((b) => [
    String(b.batch),
    timingText(b.dense),
    `${b.dense.imagesPerSec.toFixed(1)}`,
    timingText(b.compact),
    `${b.compact.imagesPerSec.toFixed(1)}`,
    `${b.speedup.toFixed(2)}×`,
    (b.speedup / r.macRatio).toFixed(2),
    ...(fused ? (b.fused ? [timingText(b.fused), `${b.fusedSpeedup!.toFixed(2)}×`] : ['–', '–']) : []),
  ]);
  const head = ['batch', 'dense: median', 'img/s', 'compact: median', 'img/s', 'speed-up', 'of MAC ratio', ...(fused ? ['compact, fused forward: median', 'speed-up'] : [])];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 1 || i === 3 || i === 7 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const v = speedupVerdict(r);
  const padded = (r.paddedRanks ?? []).map(
    (p) =>
      `ranks padded to multiples of ${p.multiple} (${p.macRatio.toFixed(2)}× fewer MACs than dense): ${p.batches.map((b) => `batch ${b.batch} ${timingText(b.compact)}, ${b.speedup.toFixed(2)}×`).join('; ')}`,
  );
  return [
    `MACs ${M(r.macsDense)} → ${M(r.macsCompact)} (${r.macRatio.toFixed(2)}× fewer), parameters ${M(r.paramsDense)} → ${M(r.paramsCompact)} (${r.paramRatio.toFixed(2)}× fewer)`,
    line(head),
    ...rows.map(line),
    `median of ${r.iterations} timed calls per model after ${r.warmup} warm-up call${r.warmup === 1 ? '' : 's'}, the models' calls interleaved; ${r.backend}${r.device ? ` (${r.device})` : ''}; dense model: ${r.denseSource === 'projected' ? "the run's projected model" : 'the dense architecture, random weights'}`,
    ...(v ? [`speed-up at batch ${v.batch}: ${v.speedup.toFixed(2)}× = ${v.fraction.toFixed(2)} of the ${v.macRatio.toFixed(2)}× MAC reduction (target ≥ ${TARGET_FRACTION})`] : []),
    ...padded,
    ...(fused || padded.length ? (r.fastest ?? []).map((f) => `fastest compact variant at batch ${f.batch}: ${VARIANT_NAMES[f.variant]} (${f.speedup.toFixed(2)}× the dense model)`) : []),
  ];
}

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|software|warp/i;

/**
 * Why the measured speed-up falls short of the MAC reduction, as far as this result shows it: one short
 * paragraph per cause (what was found measuring ResNet-56, README › Benchmarks). Empty when the target is met.
 */
export function gapExplanation(r: InferenceResult): string[] {
  const v = speedupVerdict(r);
  if (!v || v.meetsTarget) return [];
  const out: string[] = [];
  const ranks = r.splitRanks;
  const unaligned = ranks.filter((x) => x % 4 !== 0);
  if (r.backend === 'webgpu' && unaligned.length) {
    const shown = [...new Set(unaligned)].sort((a, b) => a - b);
    out.push(
      `${unaligned.length} of the ${ranks.length} split layers have a rank that is not a multiple of 4 (${shown.slice(0, 6).join(', ')}${shown.length > 6 ? ', …' : ''}). ` +
        "tfjs's WebGPU convolution and matrix-multiply kernels use their 4-wide (vec4) loads only when the channel counts are multiples of 4: both halves of these layers run the scalar path, which costs far more per MAC.",
    );
  }
  if (ranks.length) {
    out.push(
      `Each split conv is two kernels (a k×k conv to r channels, then a 1×1 conv back to all channels), so the compact model launches ${ranks.length} more, ` +
        'and the 1×1 half writes a full-size activation. Thin layers also fill the GPU poorly: its kernels compute output tiles 32 channels wide.',
    );
  }
  out.push('BatchNorm (a multiply and an add per value), ReLU and the residual additions are separate passes over memory in the exported graph, the same in both models: they do not shrink with the MACs.');
  // What was measured besides the graph models: aligned ranks and the fused forward, at the verdict's batch.
  for (const p of r.paddedRanks ?? []) {
    const b = p.batches.find((x) => x.batch === v.batch);
    if (b) out.push(`Measured: with its ranks padded to multiples of ${p.multiple} (${[...new Set(p.splitRanks)].join('/')}; ${p.macRatio.toFixed(2)}× fewer MACs than dense) the compact graph model ran ${b.speedup.toFixed(2)}× the dense one at batch ${v.batch} (${(b.speedup / r.macRatio).toFixed(2)} of the unpadded MAC reduction).`);
  }
  const fused = r.batches.find((x) => x.batch === v.batch);
  if (fused?.fused && fused.fusedSpeedup !== undefined) {
    out.push(`Measured: the engine's fused forward (one kernel per split layer, the r-channel intermediate kept in workgroup memory) ran ${fused.fusedSpeedup.toFixed(2)}× the dense graph model at batch ${v.batch} (${(fused.fusedSpeedup / r.macRatio).toFixed(2)} of the MAC reduction).`);
  }
  if (r.backend === 'cpu' || (r.device !== null && SOFTWARE.test(r.device))) {
    out.push('This was measured on a software renderer (the CPU standing in for a GPU): its costs per kernel and per byte differ from a GPU’s, so a GPU may show another ratio.');
  }
  return out;
}
