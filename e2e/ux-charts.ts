import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import type { Locator } from '@playwright/test';
import { build } from 'esbuild';

/** Bundles e2e/charts-page (the page's charts on synthetic runs) and serves it; returns its origin and a closer. */
export async function serveChartsPage(): Promise<{ origin: string; close: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'lrpet-charts-page-'));
  await build({
    entryPoints: ['e2e/charts-page/main.tsx'],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    jsx: 'automatic',
    outfile: join(dir, 'main.js'),
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  });
  copyFileSync('e2e/charts-page/index.html', join(dir, 'index.html'));
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };
  const server: Server = createServer((req, res) => {
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
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Box {
  text: string;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** The tick labels of a chart card's axes (page coordinates) and its plot's svg box. */
export async function tickLabels(card: Locator): Promise<{ x: Box[]; y: Box[]; svg: Box }> {
  return card.evaluate((el) => {
    const box = (e: Element): Box => {
      const r = e.getBoundingClientRect();
      return { text: e.textContent ?? '', left: r.left, right: r.right, top: r.top, bottom: r.bottom };
    };
    // Recharts 3 draws the tick labels in a layer of their own: .recharts-xAxis-tick-labels, .recharts-yAxis-tick-labels.
    const labels = (axis: string) => [...el.querySelectorAll(`.recharts-${axis}-tick-labels .recharts-cartesian-axis-tick-value`)].map(box);
    return { x: labels('xAxis').sort((a, b) => a.left - b.left), y: labels('yAxis'), svg: box(el.querySelector('svg.recharts-surface')!) };
  });
}

const overlap = (a: Box, b: Box, gap: number) => a.left < b.right + gap && b.left < a.right + gap && a.top < b.bottom && b.top < a.bottom;

/**
 * What is wrong with a chart's tick labels: x labels closer than `gap` px to each other, x labels
 * overlapping a y label (the corners), y labels overlapping each other, labels cut off at the svg's
 * edges. Empty when all is well.
 */
export function labelProblems(t: { x: Box[]; y: Box[]; svg: Box }, gap = 4): string[] {
  const out: string[] = [];
  if (t.x.length < 2) out.push(`only ${t.x.length} x labels`);
  for (let i = 1; i < t.x.length; i++) if (overlap(t.x[i - 1], t.x[i], gap)) out.push(`x labels “${t.x[i - 1].text}” and “${t.x[i].text}” overlap`);
  for (const x of t.x) for (const y of t.y) if (overlap(x, y, 0)) out.push(`x label “${x.text}” overlaps y label “${y.text}”`);
  t.y.forEach((a, i) => t.y.slice(i + 1).forEach((b) => overlap(a, b, 0) && out.push(`y labels “${a.text}” and “${b.text}” overlap`)));
  for (const b of [...t.x, ...t.y]) if (b.left < t.svg.left - 0.5 || b.right > t.svg.right + 0.5) out.push(`label “${b.text}” is cut off at the chart's edge`);
  return out;
}
