/**
 * The fast webgpu kernels in Chromium (WebGPU on SwiftShader): a subset of the correctness sweep of
 * src/webgpu-kernels (each replaced kernel vs tfjs's stock kernel and a float64 reference, within
 * 1e-4 of max|ref|). Self-contained: bundles e2e/kernels-page with esbuild, serves it from
 * http://127.0.0.1 (a secure context, so WebGPU is exposed) and launches Debian's Chromium itself.
 * Fails — never skips — when WebGPU is missing.
 */
import { mkdtempSync, readFileSync, rmSync, copyFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { chromium, expect, test, type Browser } from '@playwright/test';
import { build } from 'esbuild';
import type { CheckResult } from '../src/webgpu-kernels/sweep';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const TOLERANCE = 1e-4;


let dir = '';
let server: Server;
let origin = '';
let browser: Browser;

test.beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lrpet-kernels-page-'));
  await build({
    entryPoints: ['e2e/kernels-page/main.ts'],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outfile: join(dir, 'main.js'),
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  });
  copyFileSync('e2e/kernels-page/index.html', join(dir, 'index.html'));
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript' };
  server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^\/+/, '') || 'index.html';
    try {
      const body = readFileSync(join(dir, path.includes('..') ? 'index.html' : path));
      res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
});

test.afterAll(async () => {
  await browser?.close();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  if (dir) rmSync(dir, { recursive: true, force: true });
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
