import type { Locator } from '@playwright/test';
import { serveHarnessPage } from './harness-page';

/** Bundles e2e/charts-page (the page's charts on synthetic runs) and serves it; returns its origin and a closer. */
export function serveChartsPage(): Promise<{ origin: string; close: () => Promise<void> }> {
  return serveHarnessPage('charts-page', 'main.tsx');
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
