import { expect, test, type Locator, type Page } from '@playwright/test';
import { auditPage, bodiesOverCaptions } from './a11y';
import { labelProblems, serveChartsPage, tickLabels } from './ux-charts';

// Playwright's tracing snapshots the DOM on the page's main thread: keep it off while training.
test.use({ trace: 'off' });

/** Every chart card with a time axis, and the run lengths (iterations) that used to put labels on top of each other. */
const TIME_CHARTS = ['chart-loss', 'chart-accuracy', 'chart-energy', 'chart-schedule', 'chart-perf'];
const LENGTHS = [7, 62, 101, 205, 391, 1003, 1023, 7813, 10100, 19550, 156400];
/** Training-loss ranges (start, end) of the kinds seen: a Quick look run's, a run barely moving, one that went far down. */
const LOSS_RANGES = ['2.87,1.93', '2.3,0.4', '2.318,2.296', '0.93,0.0312', '4.61,2.2', '2.87,2.41', '3.05,1.62', '2.55,2.1'];

test('axis labels stay clear of each other, of the y axes and of the chart edges at 1440 px, for runs of 7 to 156,400 iterations', async ({ page }) => {
  expect(page.viewportSize()).toEqual({ width: 1440, height: 1000 });
  const charts = await serveChartsPage();
  try {
    const problems: string[] = [];
    for (const max of LENGTHS) {
      await page.goto(`${charts.origin}/index.html?max=${max}`);
      for (const id of TIME_CHARTS) {
        const card = page.getByTestId(id);
        await expect(card.locator('.recharts-xAxis-tick-labels .recharts-cartesian-axis-tick-value').first()).toBeAttached();
        const t = await tickLabels(card);
        problems.push(...labelProblems(t).map((p) => `${max} iterations, ${id}: ${p}`));
        expect(t.x.length, `${id} at ${max} iterations has x labels`).toBeGreaterThanOrEqual(2);
      }
    }
    // The y axes over the value ranges runs have: no label on top of another, none cut off.
    for (const loss of LOSS_RANGES) {
      for (const max of [12, 391]) {
      await page.goto(`${charts.origin}/index.html?max=${max}&loss=${loss}`);
      const card = page.getByTestId('chart-loss');
      await expect(card.locator('.recharts-yAxis-tick-labels .recharts-cartesian-axis-tick-value').first()).toBeAttached();
      const t = await tickLabels(card);
      problems.push(...labelProblems(t).map((p) => `loss ${loss} over ${max} iterations, chart-loss: ${p}`));
      expect(t.y.length, `loss ${loss}: y labels`).toBeGreaterThanOrEqual(3);
      }
    }
    expect(problems).toEqual([]);
  } finally {
    await charts.close();
  }
});

const TINY = '/?preset=quick&train=32&test=50&batch=8&epochs=3&interval=2&p=0.5';

const phase = (page: Page) => page.getByTestId('run-phase');
const iteration = async (page: Page) => Number(await page.getByTestId('iteration').textContent());
const projections = async (page: Page) => Number(await page.getByTestId('projection-count').textContent());
/** What has the keyboard focus: tag, id, text or label. */
const focused = (page: Page) =>
  page.evaluate(() => {
    const e = document.activeElement as HTMLElement | null;
    return e ? `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''} ${(e.getAttribute('aria-label') ?? e.textContent ?? '').trim().slice(0, 40)}` : '';
  });

async function pressTabUntil(page: Page, target: Locator, max = 80, key = 'Tab'): Promise<string[]> {
  const seen: string[] = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(key);
    seen.push(await focused(page));
    if (await target.evaluate((e) => e === document.activeElement)) return seen;
  }
  throw new Error(`Tab did not reach the target in ${max} presses: ${seen.join(' → ')}`);
}

/** The pixels of a canvas (RGBA). */
const pixels = (canvas: Locator) =>
  canvas.evaluate((c: HTMLCanvasElement) => Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data));

test('keyboard only: Tab order and focus, a slider with the arrows, Start, Space to pause and resume, Step advances exactly one iteration, the matrix images; an axe-core audit (WCAG 2.1 A and AA) before and during the run', async ({ page }) => {
  await page.goto(TINY);
  await expect(page.getByTestId('backend-name')).toHaveText('WebGPU', { timeout: 60_000 });
  await expect(page.getByTestId('data-size')).toContainText('50,000 train');
  // Before a run: nothing broken for assistive technology or low vision, no chart placeholder over a caption.
  expect(await auditPage(page)).toEqual([]);
  expect(await bodiesOverCaptions(page)).toEqual([]);

  // Tab: the skip link first, then the settings in order; the prune slider shows a focus ring and moves with the arrows.
  const slider = page.locator('#prune');
  const order = await pressTabUntil(page, slider);
  expect(order[0]).toContain('Skip to the run controls');
  expect(order.findIndex((s) => s.includes('Quick look'))).toBeGreaterThan(0);
  expect(order.findIndex((s) => s.includes('Quick look'))).toBeLessThan(order.length - 1);
  await page.locator('.side').screenshot({ path: test.info().outputPath('focus-ring.png') });
  const ring = await slider.evaluate((e) => getComputedStyle(e).outlineStyle + ' ' + getComputedStyle(e).outlineWidth);
  expect(ring).toBe('solid 2px');
  await page.keyboard.press('ArrowLeft');
  await expect(slider).toHaveValue('0.49');
  await expect(page.locator('output[for="prune"]')).toHaveText('0.49');
  await page.keyboard.press('ArrowRight');
  await expect(slider).toHaveValue('0.5');
  await expect(page.locator('output[for="prune"]')).toHaveText('0.50');
  await expect(page.getByTestId('cost-preview')).toContainText('3.17M → 1.81M');

  // Tab goes on through the rest of the settings to the run controls; Enter on Start starts the run.
  const start = page.getByRole('button', { name: 'Start', exact: true });
  const rest = await pressTabUntil(page, start, 120);
  expect(rest.some((s) => s.startsWith('input#lr'))).toBe(true);
  await page.keyboard.press('Enter');
  await expect(phase(page)).toHaveText(/training|loading data/);
  await expect.poll(() => iteration(page), { timeout: 120_000, intervals: [500] }).toBeGreaterThanOrEqual(1);

  // Space pauses (focus on the page, not on a control), and the run stays put.
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.keyboard.press('Space');
  await expect(phase(page)).toHaveText('paused', { timeout: 60_000 });
  const pausedAt = await iteration(page);
  // Space typed in a number field is the field's: the run stays paused.
  await page.locator('#lr').focus();
  await page.keyboard.press('Space');
  await page.waitForTimeout(1500);
  await expect(phase(page)).toHaveText('paused');
  expect(await iteration(page)).toBe(pausedAt);

  // Step: exactly one iteration each time, with the projection when one is due (every 2 iterations here), then paused again.
  for (let i = 1; i <= 2; i++) {
    const before = { it: await iteration(page), proj: await projections(page) };
    await page.getByRole('button', { name: 'Step' }).click();
    await expect.poll(() => iteration(page), { timeout: 60_000, intervals: [250] }).toBe(before.it + 1);
    await expect(phase(page)).toHaveText('paused', { timeout: 60_000 });
    const due = (before.it + 1) % 2 === 0;
    await expect.poll(() => projections(page), { timeout: 30_000 }).toBe(before.proj + (due ? 1 : 0));
    await page.waitForTimeout(1500); // a step's time here
    expect(await iteration(page)).toBe(before.it + 1);
    await expect(phase(page)).toHaveText('paused');
  }

  // The matrix of the chosen layer before and after the latest projection: two images, same size, different pixels.
  const matrix = page.getByTestId('matrix-images');
  await expect(matrix).toHaveAttribute('data-state', 'shown', { timeout: 30_000 });
  const before = page.getByTestId('matrix-before');
  const after = page.getByTestId('matrix-after');
  await expect(before).toBeVisible();
  await expect(after).toBeVisible();
  const [a, b] = [await pixels(before), await pixels(after)];
  expect(a.length).toBe(b.length);
  expect(a.length).toBeGreaterThan(4 * 8 * 8);
  expect(a.some((v, i) => v !== b[i])).toBe(true);

  // The heat map picks the layer with the arrow keys, and the matrix images follow.
  const layerSelect = page.getByTestId('chart-spectrum').getByLabel('Layer');
  const firstLayer = await layerSelect.inputValue();
  await page.getByTestId('chart-heatmap').locator('canvas').focus();
  await page.keyboard.press('ArrowDown');
  await expect(layerSelect).not.toHaveValue(firstLayer);
  await expect(matrix).toHaveAttribute('data-layer', await layerSelect.inputValue());
  await expect(matrix).toHaveAttribute('data-state', 'shown');
  await page.getByTestId('chart-spectrum').screenshot({ path: test.info().outputPath('spectrum-and-matrix.png') });
  // The chart tool switches are radio groups: arrows move the choice.
  await page.getByTestId('chart-heatmap').getByRole('radio', { name: 'spectra' }).focus();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('chart-heatmap').getByRole('radio', { name: 'energy over time' })).toBeChecked();

  // The live loss and accuracy charts: tick labels clear of each other and of the edges.
  for (const id of ['chart-loss', 'chart-accuracy']) expect(labelProblems(await tickLabels(page.getByTestId(id)))).toEqual([]);
  // During the run (paused, with projections on every chart): the audit again.
  expect(await auditPage(page)).toEqual([]);
  expect(await bodiesOverCaptions(page)).toEqual([]);

  // The run list by keyboard: Rename, type, Enter.
  const item = page.getByTestId('run-item').first();
  await item.getByRole('button', { name: 'Rename' }).focus();
  await page.keyboard.press('Enter');
  await expect(item.getByLabel('Run name')).toBeFocused();
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.type('stepped by keyboard');
  await page.keyboard.press('Enter');
  await expect(item.getByTestId('run-name')).toHaveText('stepped by keyboard');

  // The skip link (first in the Tab order) jumps to the run controls: Tab then lands on Resume (Start and Pause are disabled).
  const skip = page.getByRole('link', { name: 'Skip to the run controls' });
  await pressTabUntil(page, skip, 200, 'Shift+Tab');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Tab');
  expect(await focused(page)).toMatch(/^button Resume/);

  // Space resumes.
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  const resumedFrom = await iteration(page);
  await page.keyboard.press('Space');
  await expect(phase(page)).toHaveText('training');
  await expect.poll(() => iteration(page), { timeout: 120_000, intervals: [500] }).toBeGreaterThan(resumedFrom);
});
