import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { chromium } from '@playwright/test';
import { build } from 'esbuild';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };

/**
 * Bundles a test page (e2e/<name>/main.ts[x] beside its index.html) with esbuild and serves it from
 * http://127.0.0.1 on a free port (a secure context, so WebGPU is exposed); returns its origin and a closer.
 */
export async function serveHarnessPage(name: string, entry: string): Promise<{ origin: string; close: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), `lrpet-${name}-`));
  await build({
    entryPoints: [`e2e/${name}/${entry}`],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    jsx: 'automatic',
    outfile: join(dir, 'main.js'),
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  });
  copyFileSync(`e2e/${name}/index.html`, join(dir, 'index.html'));
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^\/+/, '') || 'index.html';
    try {
      const body = readFileSync(join(dir, path.includes('..') ? 'index.html' : path));
      res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Runs a self-contained test page (serveHarnessPage) in Debian's Chromium with WebGPU, launched here,
 * and returns what the page publishes on window[key] once it sets `done` (page errors are printed).
 */
export async function runHarnessPage<T extends { done: boolean }>(name: string, key: string, timeoutMs: number): Promise<T> {
  const harness = await serveHarnessPage(name, 'main.ts');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  try {
    const page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') console.log(`[page] ${m.text()}`);
    });
    await page.goto(`${harness.origin}/index.html`);
    await page.waitForFunction((k) => (window as unknown as Record<string, { done?: boolean } | undefined>)[k]?.done === true, key, { timeout: timeoutMs, polling: 1000 });
    return (await page.evaluate((k) => (window as unknown as Record<string, unknown>)[k], key)) as T;
  } finally {
    await browser.close();
    await harness.close();
  }
}
