/**
 * The fast webgpu kernels in Chromium (WebGPU on SwiftShader): a subset of the correctness sweep of
 * src/webgpu-kernels (each replaced kernel vs tfjs's stock kernel and a float64 reference, within
 * 1e-4 of max|ref|). Self-contained: bundles e2e/kernels-page with esbuild, serves it from
 * http://127.0.0.1 (a secure context, so WebGPU is exposed) and launches Debian's Chromium itself.
 * Fails — never skips — when WebGPU is missing.
 */
import { chromium, expect, test, type Browser } from '@playwright/test';
import { serveHarnessPage } from './harness-page';
import type { CheckResult } from '../src/webgpu-kernels/sweep';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const TOLERANCE = 1e-4;

let harness: Awaited<ReturnType<typeof serveHarnessPage>> | null = null;
let origin = '';
let browser: Browser;

test.beforeAll(async () => {
  harness = await serveHarnessPage('kernels-page', 'main.ts');
  origin = harness.origin;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
});

test.afterAll(async () => {
  await browser?.close();
  await harness?.close();
});

test('fast webgpu kernels agree with stock and a float64 reference in Chromium', async () => {
  test.setTimeout(8 * 60_000);
  const page = await browser.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') console.log(`[page] ${m.text()}`);
  });
  await page.goto(`${origin}/index.html`);
  type Outcome = { done: boolean; error?: string; adapter?: string; results: CheckResult[] };
  const read = () => (window as unknown as { __kernelSweep?: Outcome }).__kernelSweep;
  await page.waitForFunction(() => (window as unknown as { __kernelSweep?: Outcome }).__kernelSweep?.done === true, undefined, {
    timeout: 7 * 60_000,
    polling: 1000,
  });
  const outcome = (await page.evaluate(read))!;
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
  await page.close();
});
