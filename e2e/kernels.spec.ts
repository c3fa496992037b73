/**
 * The fast webgpu kernels in Chromium (WebGPU on SwiftShader): a subset of the correctness sweep of
 * src/webgpu-kernels (each replaced kernel vs tfjs's stock kernel and a float64 reference, within
 * 1e-4 of max|ref|). Self-contained: bundles e2e/kernels-page with esbuild, serves it from
 * http://127.0.0.1 (a secure context, so WebGPU is exposed) and launches Debian's Chromium itself.
 * Fails — never skips — when WebGPU is missing.
 */
import { expect, test } from '@playwright/test';
import { runHarnessPage } from './harness-page';
import type { CheckResult } from '../src/webgpu-kernels/sweep';

const TOLERANCE = 1e-4;

test('fast webgpu kernels agree with stock and a float64 reference in Chromium', async () => {
  test.setTimeout(8 * 60_000);
  type Outcome = { done: boolean; error?: string; adapter?: string; results: CheckResult[] };
  const outcome = await runHarnessPage<Outcome>('kernels-page', '__kernelSweep', 7 * 60_000);
  console.log(`adapter: ${outcome.adapter ?? '(none)'}`);
  for (const r of outcome.results) {
    console.log(
      `${r.ok ? 'ok  ' : 'FAIL'} ${r.kernel.padEnd(21)} ${r.label.padEnd(50)} fast-ref ${r.fastVsRef.toExponential(2)} stock-ref ${r.stockVsRef.toExponential(2)} fast-stock ${r.fastVsStock.toExponential(2)}`,
    );
  }
  expect(outcome.error, 'sweep error (WebGPU missing?)').toBeUndefined();
  expect(outcome.results.length).toBeGreaterThan(0);
  for (const r of outcome.results) {
    expect.soft(r.fastVsRef, `${r.kernel} ${r.label} fast vs ref`).toBeLessThanOrEqual(TOLERANCE);
    expect.soft(r.fastVsStock, `${r.kernel} ${r.label} fast vs stock`).toBeLessThanOrEqual(TOLERANCE);
    expect.soft(r.ok, `${r.kernel} ${r.label}`).toBe(true);
  }
});
