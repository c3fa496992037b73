import '../../worker/zod-setup';
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { ClaimsPanel } from './ClaimsPanel';
import { batchRecords } from './test-records';

const count = (html: string, s: string) => html.split(s).length - 1;
const render = (records: ReturnType<typeof batchRecords>, batchId: string) =>
  renderToStaticMarkup(createElement(ClaimsPanel, { records, batchId, save: () => undefined, onClose: () => undefined, onPickBatch: () => undefined }));

describe('ClaimsPanel (server-rendered markup)', () => {
  it('multi-seed: mean ± standard deviation per arm, and says plainly when a difference is within the noise', () => {
    const html = render(batchRecords('b1', { lrpet: [0.7, 0.72, 0.74], 'no-et': [0.66, 0.7, 0.74], scratch: [0.6, 0.61, 0.62] }), 'b1');
    expect(count(html, 'data-testid="claims-panel"')).toBe(1);
    expect(count(html, 'data-testid="claims-arm"')).toBe(3);
    expect(html).toContain('72.00% ± 2.00 (3 seeds)');
    expect(html).toContain('70.00% ± 4.00 (3 seeds)');
    expect(html).toMatch(/data-claim="energy-transfer" data-verdict="within-noise"/);
    expect(html).toContain('within the noise (2·SE = 5.16 points)');
    expect(html).toContain('Not shown by this batch: the difference is within the noise.');
    expect(html).toMatch(/data-claim="scratch" data-verdict="supported"/);
    expect(html).toContain('3 seeds per arm (7, 8, 9)');
    expect(html).toContain('Noise rule: a difference is within the noise when it is at most 2 standard errors');
    expect(html).toContain('not benchmark results');
  });

  it('one seed: no noise estimate, said as such; names from the records are text, never markup', () => {
    const records = batchRecords('b1', { lrpet: [0.45], 'no-et': [0.41] }, { data: '<img src=x onerror=alert(1)>' });
    records[0] = { ...records[0], batch: { ...records[0].batch!, label: '<b>LRPET</b>' } };
    const html = render(records, 'b1');
    expect(html).toContain('one seed: no noise estimate');
    expect(html).toMatch(/data-claim="energy-transfer" data-verdict="no-estimate"/);
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>LRPET');
    expect(html).toContain('&lt;b&gt;LRPET');
  });
});
