/**
 * The fused split convolution in Chromium (WebGPU on SwiftShader): the kernel against a float64 reference
 * over a sweep of shapes (stride 1 and 2, r from 1 to n, channel counts not multiples of 4), and the engine's
 * compact forward of ResNet-56 (p = 0.57) and VGG-16 (rank floors): fused logits = plain ops' within
 * max|Δ| / max|logit| ≤ 1e-5, one fused kernel per split layer (tfjs's profiler). Self-contained like
 * kernels.spec.ts: bundles e2e/fused-page, serves it on 127.0.0.1, launches Debian's Chromium. Fails — never
 * skips — when WebGPU is missing.
 */
import { expect, test } from '@playwright/test';
import { runHarnessPage } from './harness-page';

test('the fused split convolution equals plain ops and a float64 reference in Chromium', async () => {
  test.setTimeout(8 * 60_000);
  type Outcome = {
    done: boolean;
    error?: string;
    adapter?: string;
    sweep: { label: string; error: number }[];
    models: { model: string; splits: number; fusedVsOps: number; fusedKernels: number; opsMs: number; fusedMs: number }[];
  };
  const o = await runHarnessPage<Outcome>('fused-page', '__fused', 7 * 60_000);
  console.log(`adapter: ${o.adapter ?? '(none)'}; sweep: ${o.sweep.length} shapes, worst ${Math.max(...o.sweep.map((s) => s.error)).toExponential(2)}`);
  for (const m of o.models) {
    console.log(`${m.model}: ${m.splits} split layers, fused vs ops ${m.fusedVsOps.toExponential(2)}, ${m.fusedKernels} fused kernels; batch 1, one warm call: ops ${m.opsMs.toFixed(0)} ms, fused ${m.fusedMs.toFixed(0)} ms`);
  }
  expect(o.error, 'page error (WebGPU missing?)').toBeUndefined();
  expect(o.sweep.length).toBe(7 + 6); // r = 1…n of the two shapes
  for (const s of o.sweep) expect.soft(s.error, s.label).toBeLessThanOrEqual(1e-5);
  expect(o.models.map((m) => m.model)).toEqual(['resnet56', 'vgg16']);
  for (const m of o.models) {
    expect.soft(m.fusedVsOps, m.model).toBeLessThanOrEqual(1e-5);
    expect.soft(m.fusedKernels, m.model).toBe(m.splits);
    expect(m.splits).toBeGreaterThan(0);
  }
});
