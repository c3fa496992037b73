import { describe, expect, it } from 'vitest';
import type { InferenceEvent } from '../events';
import { fastestVariants, gapExplanation, inferenceTable, speedupVerdict, timingText } from './report';

const timing = (medianMs: number, batch: number) => ({ samples: 5, medianMs, minMs: medianMs * 0.9, maxMs: medianMs * 1.2, q1Ms: medianMs * 0.95, q3Ms: medianMs * 1.05, imagesPerSec: (batch / medianMs) * 1000 });

function result(speedup128: number, o: Partial<InferenceEvent> = {}): Omit<InferenceEvent, 'type' | 'time'> {
  return {
    backend: 'webgpu',
    device: 'NVIDIA',
    denseSource: 'projected',
    warmup: 2,
    iterations: 5,
    macsDense: 125_485_696,
    macsCompact: 56_058_496,
    paramsDense: 848_954,
    paramsCompact: 394_460,
    macRatio: 125_485_696 / 56_058_496,
    paramRatio: 848_954 / 394_460,
    splitRanks: [6, 6, 13, 27, 28],
    batches: [
      { batch: 128, dense: timing(40 * speedup128, 128), compact: timing(40, 128), speedup: speedup128 },
      { batch: 1, dense: timing(3, 1), compact: timing(3, 1), speedup: 1 },
    ],
    ...o,
  };
}

describe('the inference report', () => {
  it('judges the speed-up at the largest batch against the MAC reduction (target 0.8 of it)', () => {
    const met = speedupVerdict(result(2.0))!;
    expect(met).toMatchObject({ batch: 128, speedup: 2, meetsTarget: true });
    expect(met.fraction).toBeCloseTo(2 / 2.2385, 3);
    const missed = speedupVerdict(result(1.5))!;
    expect(missed.fraction).toBeCloseTo(0.67, 2);
    expect(missed.meetsTarget).toBe(false);
    expect(speedupVerdict(result(1, { batches: [] }))).toBeNull();
  });

  it('explains a shortfall from what the result shows, and says nothing when the target is met', () => {
    expect(gapExplanation(result(2.0))).toEqual([]);
    const why = gapExplanation(result(1.2));
    expect(why[0]).toMatch(/^4 of the 5 split layers have a rank that is not a multiple of 4 \(6, 13, 27\)/);
    expect(why[0]).toMatch(/vec4/);
    expect(why[1]).toMatch(/two kernels .* launches 5 more/);
    expect(why[2]).toMatch(/BatchNorm/);
    expect(why.join(' ')).not.toMatch(/software renderer/);
    // All ranks aligned: that cause is not named; a software renderer is.
    const soft = gapExplanation(result(1.2, { splitRanks: [8, 16], device: 'Google · swiftshader' }));
    expect(soft.join(' ')).not.toMatch(/multiple of 4/);
    expect(soft.at(-1)).toMatch(/software renderer/);
    expect(gapExplanation(result(1.2, { backend: 'cpu', device: null })).at(-1)).toMatch(/software renderer/);
    // What else was measured is named with its numbers: padded ranks and the fused forward.
    const withMore = result(1.2, {
      paddedRanks: [{ multiple: 4, splitRanks: [8, 16, 28], macsCompact: 67e6, macRatio: 1.87, batches: [{ batch: 128, compact: timing(50, 128), speedup: 1.6 }] }],
      batches: [{ batch: 128, dense: timing(80, 128), compact: timing(66.7, 128), speedup: 1.2, fused: timing(40, 128), fusedSpeedup: 2 }],
    });
    const more = gapExplanation(withMore).join(' ');
    expect(more).toMatch(/padded to multiples of 4 \(8\/16\/28; 1\.87× fewer MACs than dense\) the compact graph model ran 1\.60× the dense one at batch 128/);
    expect(more).toMatch(/fused forward .* ran 2\.00× the dense graph model at batch 128 \(0\.89 of the MAC reduction\)/);
    expect(fastestVariants(withMore)).toEqual([{ batch: 128, variant: 'fused', medianMs: 40, speedup: 2 }]);
  });

  it('prints a table with both timings, their ratio and the fraction of the MAC ratio', () => {
    const lines = inferenceTable(result(1.5));
    expect(lines[0]).toBe('MACs 125.49M → 56.06M (2.24× fewer), parameters 0.85M → 0.39M (2.15× fewer)');
    expect(lines[2]).toMatch(/^ +128 +60\.0 ms \(IQR 57\.0–63\.0, range 54\.0–72\.0\) +2133\.3 +40\.0 ms .* 1\.50× +0\.67$/);
    expect(lines.at(-1)).toBe('speed-up at batch 128: 1.50× = 0.67 of the 2.24× MAC reduction (target ≥ 0.8)');
    expect(timingText(timing(120_000, 128))).toBe('120 s (IQR 114–126, range 108–144)');
  });
});
