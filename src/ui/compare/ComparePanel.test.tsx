import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { ComparePanel } from './ComparePanel';
import { palette } from './palette';
import { replayEvents } from './replay';
import { syntheticRun } from './test-events';
import type { CompareRun } from './types';

// Server rendering needs no DOM: it checks the panel's structure and that data is only ever text.
const count = (html: string, s: string) => html.split(s).length - 1;

describe('ComparePanel (server-rendered markup)', () => {
  const hostile = '<img src=x onerror="alert(1)">';
  const runs: CompareRun[] = [
    { id: 'a', name: 'Baseline', legend: 'energy transfer: on', color: palette(0), state: replayEvents(syntheticRun({ iterations: 8, stepsPerEpoch: 4, interval: 2, compact: { testAccuracy: 0.61 }, end: 'finished', grads: { every: 2, jump: 1.25 } })), live: false },
    { id: 'b', name: hostile, legend: `energy transfer: off ${hostile}`, color: 'red;background:url(javascript:x)', state: replayEvents(syntheticRun({ iterations: 4, stepsPerEpoch: 4, interval: null, testAccuracy: () => 0.58 })), live: true },
  ];

  it('has the panel, one legend item and one table row per run, the common line and the note', () => {
    const html = renderToStaticMarkup(createElement(ComparePanel, { runs, common: 'resnet8-tiny · p = 0.5', onClose: () => undefined }));
    expect(count(html, 'data-testid="compare-panel"')).toBe(1);
    expect(count(html, 'data-testid="compare-legend"')).toBe(1);
    expect(count(html, 'data-testid="compare-legend-item"')).toBe(2);
    expect(count(html, 'data-testid="compare-table"')).toBe(1);
    expect(count(html, 'data-testid="compare-row"')).toBe(2);
    expect(html).toContain('resnet8-tiny · p = 0.5');
    expect(html).toContain('61.00%');
    expect(html).toContain('not benchmark results');
    expect(count(html, 'class="best"')).toBe(1);
    // The gradient chart says what projections did to each run's gradients (b recorded none).
    expect(count(html, 'data-testid="compare-chart-gradients"')).toBe(1);
    expect(html).toContain('×1.25 (+25%) across 3 projections');
    expect(html).toContain('no projection recorded');
  });

  it('renders names and legends as text and drops a colour that is not a plain colour', () => {
    const html = renderToStaticMarkup(createElement(ComparePanel, { runs }));
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;');
    expect(html).not.toContain('javascript:');
    expect(html).toContain(`background:${palette(1)}`);
    expect(html).not.toContain('data-testid="compare-close"');
  });

  it('says what to do with no runs', () => {
    const html = renderToStaticMarkup(createElement(ComparePanel, { runs: [] }));
    expect(html).toContain('Choose runs to compare');
    expect(count(html, 'data-testid="compare-row"')).toBe(0);
  });
});
