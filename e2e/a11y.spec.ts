import { expect, test } from '@playwright/test';
import { auditPage, bodiesOverCaptions } from './a11y';
import { labelProblems, tickLabels } from './ux-charts';

// The audit injects axe-core as an inline script, which the page's CSP (no inline scripts) would block.
test.use({ bypassCSP: true, trace: 'off' });

const TINY = '/?preset=quick&train=64&test=50&batch=16&epochs=2&interval=2&p=0.5';

test('the page passes an axe-core audit (WCAG 2.1 A and AA) before and during a run, and no chart placeholder covers a caption', async ({ page }) => {
  await page.goto(TINY);
  await expect(page.getByTestId('backend-name')).toHaveText('WebGPU', { timeout: 60_000 });
  await expect(page.getByTestId('data-size')).toContainText('train');
  expect(await bodiesOverCaptions(page)).toEqual([]);
  expect(await auditPage(page)).toEqual([]);

  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect.poll(async () => Number(await page.getByTestId('projection-count').textContent()), { timeout: 240_000, intervals: [1000] }).toBeGreaterThanOrEqual(1);
  await expect(page.getByTestId('run-phase')).toHaveText(/training|paused|finished/);
  expect(await auditPage(page)).toEqual([]);
  expect(await bodiesOverCaptions(page)).toEqual([]);
  // The y axes of a real run's loss and accuracy: round labels, none over another.
  for (const id of ['chart-loss', 'chart-accuracy']) expect(labelProblems(await tickLabels(page.getByTestId(id))), id).toEqual([]);
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('run-phase')).toHaveText(/stopped|finished/, { timeout: 120_000 });
});
