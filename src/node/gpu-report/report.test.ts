import { describe, expect, it } from 'vitest';
import { parseEngineLog, summariseEngineLog } from './engine-log';
import { summariseProfile } from './profile';
import { buildResults, planAccuracy, renderMarkdown, type ReportInputs } from './report';
import { handMadeLog } from './testing';

const engine = () => summariseEngineLog(parseEngineLog(handMadeLog()));

function inputs(): ReportInputs {
  return {
    env: { gpu: 'NVIDIA H200', driver: '570.1', quick: false },
    stages: [
      { stage: 'engine resnet8-tiny', status: 'ok', exit: 0, seconds: 41 },
      { stage: 'pytorch', status: 'timeout', exit: 124, seconds: 30 },
    ],
    engine: { 'resnet8-tiny': engine() },
    profile: {
      meta: { timestampQuery: true, warmup: 4, note: 'WebGPU via Dawn: nvidia' },
      rows: [
        {
          model: 'resnet8-tiny', batch: 8, mode: 'fast', stepMs: 20, profiledStepMs: 60,
          profile: summariseProfile([
            { name: 'Conv2DBackpropFilter', kernelTimeMs: 6, extraInfo: 'BackpropFilterGemmProgram: 6' },
            { name: 'Conv2D', kernelTimeMs: 4, extraInfo: 'Conv2DMMProgram: 4' },
          ]),
        },
      ],
    },
    bench: {
      meta: { tfjs: '4.22.0', software: false },
      kernels: [{ shape: '32x32 16->16 k3 s1', batch: 128, count: { resnet20: 6 }, forward: { ms: 1, gflops: 1000 }, backpropInput: { stock: { ms: 2, gflops: 500 }, fast: { ms: 1, gflops: 1000 } }, backpropFilter: { stock: { ms: 40, gflops: 25 }, fast: { ms: 2, gflops: 500 } } }],
      steps: [
        { model: 'resnet8-tiny', batch: 8, mode: 'stock', steps: 20, imgPerSec: 50 },
        { model: 'resnet8-tiny', batch: 8, mode: 'fast', steps: 20, imgPerSec: 100 },
        { model: 'resnet20', batch: 128, mode: 'fast', steps: 20, imgPerSec: 700 },
      ],
    },
    torch: { meta: { torch: '2.5', device: 'NVIDIA H200', tf32: false }, steps: [{ model: 'resnet8-tiny', batch: 8, steps: 60, imgPerSec: 4000 }] },
    accuracyPlan: { epochs: 2, reason: '2 epochs: one epoch ≈ 30 s', model: 'resnet8-tiny', prune: 0.5, trainImages: 24, testImages: 40, batch: 8, schedule: 'step' },
    accuracyEngine: engine(),
    accuracyTorch: { meta: { torch: '2.5', device: 'cuda' }, epochs: [{ epoch: 0, lr: 0.1, trainLoss: 2, trainAccuracy: 0.2, testAccuracy: 0.27, seconds: 1 }], final: { testAccuracy: 0.31, projections: 2, iterations: 6 } },
    problems: [],
  };
}

describe('buildResults', () => {
  it('lines up the engine, the benchmark model and PyTorch by model and batch', () => {
    const r = buildResults(inputs(), '2026-12-01T00:00:00Z');
    expect(r.generatedAt).toBe('2026-12-01T00:00:00Z');
    expect(r.sideBySide).toEqual([
      { model: 'resnet8-tiny', batch: 8, engine: 80, engineWall: (32 / 680) * 1000, benchStock: 50, benchFast: 100, torch: 4000 },
      { model: 'resnet20', batch: 128, engine: null, engineWall: null, benchStock: null, benchFast: 700, torch: null },
    ]);
  });
});

describe('renderMarkdown', () => {
  it('writes every section from what was measured, and says what was not', () => {
    const md = renderMarkdown(buildResults(inputs(), '2026-12-01T00:00:00Z'));
    expect(md).toMatch(/^# GPU run: NVIDIA H200\n/);
    expect(md).not.toMatch(/SOFTWARE|QUICK/);
    expect(md).toContain('| pytorch | **timeout** (exit 124) | 30 |  |');
    // Engine: 5 steps, 80 img/s, median 100 ms (p10 80, p90 120), first step 900 ms, projections 30 ms (3), tests 180 ms on 40 images.
    expect(md).toContain('| resnet8-tiny | 8 | 5 | 80.0 | 47.1 | 100 (80.0–120) | 900 | 30.0 (3) | 180 (40, 222) | 40.0 | stopped |');
    expect(md).toContain('| resnet8-tiny | 50 → 60 | 0.0 → 0.0 | 0.0 → 0.0 | 0.0 → 0.0 | 0.0 | yes |');
    // Profile: 10 ms of GPU time in a 20 ms step.
    expect(md).toContain('| resnet8-tiny | 8 | fast | 20.0 | 60.0 | 10.0 | 50% | 2 | 2 |');
    expect(md).toContain('| conv backprop-filter | 6.00 | 60.0% | 1 |');
    expect(md).toContain('| 32x32 16->16 k3 s1 | resnet20:6 | 1,000 | 500 | 1,000 | 2.0× | 25.0 | 500 | 20× |');
    expect(md).toContain('| resnet8-tiny | 8 | 80.0 | 47.1 | 50.0 | 100 | 4,000 | 50× |');
    expect(md).toContain('| resnet20 | 128 | – | – | – | 700 | – | – |');
    expect(md).toContain('| 1 | 25.00% | 27.00% |');
    expect(md).toContain('| final (projected = compact) | 29.00% | 31.00% |');
    expect(md).toContain("the engine run ended 'stopped' after 1 of 2 epochs");
  });

  it('flags a software adapter and a QUICK dry run, and an empty run says nothing was measured', () => {
    const md = renderMarkdown(buildResults({ env: { quick: true }, bench: { meta: { software: true } } }));
    expect(md).toContain('QUICK=1: tiny sizes, a dry run — not a measurement');
    expect(md).toContain('SOFTWARE WebGPU adapter (no GPU)');
    expect(md).toContain('Not measured (the engine stages produced no log');
    expect(md).toMatch(/## 5\. Accuracy[^\n]*\n\nNot run\./);
  });
});

describe('planAccuracy', () => {
  it('fits whole epochs of training and testing into the budget, after the fixed costs, with a 10% margin', () => {
    const s = engine(); // 80 img/s training, 222 img/s testing, 30 ms projections, 900 ms first step, 40 ms compact build
    const o = { budgetSeconds: 110, trainImages: 800, testImages: 40, maxEpochs: 30, startupSeconds: 5 };
    // epoch = 800/80 + 40/222.2 + 0.03 = 10.21 s; fixed = 2·0.18 + 0.04 + 0.9 + 5 = 6.3 s; (110/1.1 − 6.3)/10.21 = 9.18
    expect(planAccuracy(s, o).epochs).toBe(9);
    expect(planAccuracy(s, { ...o, maxEpochs: 4 }).epochs).toBe(4);
    const none = planAccuracy(s, { ...o, budgetSeconds: 15 });
    expect(none.epochs).toBe(0);
    expect(none.reason).toMatch(/^not even one epoch fits: one epoch ≈ 10\.2 s \(80 img\/s training, 222 img\/s testing\)/);
    expect(planAccuracy(null, o)).toMatchObject({ epochs: 0, reason: expect.stringMatching(/^no engine speed measured/) });
  });
});
