import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import type { CompactEvent, ConfigChangeEvent, EngineEvent, InferenceEvent, StepEvent } from '../src/engine/events';
import { installProbes } from './helpers';

// Tiny runs on SwiftShader: ResNet-8-tiny, 32 training images in batches of 8 (4 steps an epoch), 50 test images. Each
// page load compiles the GPU kernels again at the first step (about 6 s here, a step 1.4 s), so a test
// follows one run through as much as it can.
const TINY = '/?preset=quick&train=32&test=50&batch=8&interval=2&p=0.5';

async function downloadLog(page: Page): Promise<EngineEvent[]> {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download event log (.jsonl)' }).click()]);
  return readFileSync(await dl.path(), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as EngineEvent);
}

/** Step events' iterations are 1, 2, 3, … with nothing missing or repeated (a resumed curve continues). */
function expectContinuousSteps(events: EngineEvent[], total: number) {
  const its = events.filter((e): e is StepEvent => e.type === 'step').map((e) => e.iteration);
  expect(its).toEqual(Array.from({ length: total }, (_, i) => i + 1));
}

async function started(page: Page) {
  await expect(page.getByTestId('backend-name')).toHaveText('WebGPU', { timeout: 60_000 });
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(page.getByTestId('iteration')).toHaveText(/[1-9]/, { timeout: 120_000 });
}

const checkpointIteration = async (page: Page) => Number((await page.getByTestId('last-checkpoint').getAttribute('data-iteration')) ?? -1);

test('reload mid-run: the run is interrupted; Resume shows its settings, its charts at once, takes a live change and continues the curve; on a GPU the inference panel then measures by itself', async ({ page }) => {
  // The end-to-end switch: this software renderer counts as hardware for the inference panel, which then times
  // small batches, few times (the session's unit tests check the hardware's 2 + 10 calls).
  await page.addInitScript(() => (window.__lrpetTest = { hardware: true, inferenceBatches: [1, 4], inferenceRepeats: { warmup: 1, iterations: 3 } }));
  await page.goto(`${TINY}&epochs=2&ckpt=0.05&lr=0.02`);
  await started(page);
  // The first interval checkpoint (after a step or two). The next may come only after the rest of this short run:
  // on a loaded machine the 2% rule can space checkpoints further apart than its 8 steps of training.
  await expect.poll(() => checkpointIteration(page), { timeout: 120_000, intervals: [500] }).toBeGreaterThanOrEqual(1);
  const at = await checkpointIteration(page);
  // The page comes back with other settings than the run's (the run had p 0.5, lr 0.02).
  await page.goto(`${TINY}&epochs=2&p=0.3&lr=0.1`);

  const banner = page.getByTestId('interrupted-banner');
  await expect(banner).toContainText(/was interrupted/);
  await expect(page.getByTestId('run-item').first().getByTestId('run-status')).toHaveText('interrupted');
  await expect(page.getByTestId('backend-name')).toHaveText('WebGPU', { timeout: 60_000 });
  await banner.getByRole('button', { name: 'Resume' }).click();
  await expect(page.getByLabel('Prune ratio (p)')).toHaveValue('0.5');
  await expect(page.getByLabel('Learning rate')).toHaveValue('0.02');
  // The charts are back at once (replayed from the stored log), then training goes on after the checkpoint.
  await expect.poll(async () => Number(await page.getByTestId('iteration').textContent()), { timeout: 30_000 }).toBeGreaterThanOrEqual(at);
  await expect(page.getByTestId('run-phase')).toHaveText('training', { timeout: 120_000 });
  await page.getByRole('button', { name: 'Pause' }).click();
  await expect(page.getByTestId('run-phase')).toHaveText('paused', { timeout: 60_000 });
  await page.getByLabel('Prune ratio (p)').fill('0.75');
  await page.waitForTimeout(500); // the page sends changes after 250 ms of quiet
  await page.getByRole('button', { name: 'Resume' }).click();
  await expect(page.getByTestId('chart-accuracy')).toContainText('p 0.75', { timeout: 120_000 });
  await expect(page.getByTestId('run-phase')).toHaveText('finished', { timeout: 300_000 });
  await expect(page).toHaveTitle('✓ 100% · epoch 2/2 · LRPET Playground');
  await expect(page.getByTestId('run-item').first().getByTestId('run-status')).toHaveText(/this run|finished/);

  // On "hardware" the panel times the run's own models by itself.
  const panel = page.getByTestId('inference-panel');
  await expect(panel.getByTestId('inference-row')).toHaveCount(2, { timeout: 240_000 });
  await expect(panel.getByTestId('inference-measure')).toHaveText('Measure again');

  const events = await downloadLog(page);
  expect(events.filter((e) => e.type === 'runStart').map((e) => (e.type === 'runStart' ? e.resumedFrom : 'x'))).toEqual([null, at]);
  const resumedAt = events.findIndex((e) => e.type === 'runStart' && e.resumedFrom === at);
  const changes = events.slice(resumedAt).filter((e): e is ConfigChangeEvent => e.type === 'configChange');
  expect(changes.map((e) => e.changes)).toEqual([{ prune: 0.75 }]);
  expectContinuousSteps(events, 8);
  const compact = events.find((e): e is CompactEvent => e.type === 'compact')!;
  const inference = events.at(-1) as InferenceEvent;
  expect(inference).toMatchObject({ type: 'inference', denseSource: 'projected', warmup: 1, iterations: 3 });
  expect(inference.batches.map((b) => b.batch)).toEqual([1, 4]);
  for (const b of inference.batches) {
    for (const t of [b.dense, b.compact]) {
      expect(t.medianMs).toBeGreaterThan(0);
      expect(t.q1Ms).toBeLessThanOrEqual(t.medianMs);
      expect(t.medianMs).toBeLessThanOrEqual(t.q3Ms);
      expect(t.samples).toBe(3);
    }
    expect(b.speedup).toBeCloseTo(b.dense.medianMs / b.compact.medianMs, 9);
    await expect(panel.locator(`[data-batch="${b.batch}"]`).getByTestId('inference-speedup')).toHaveText(`${b.speedup.toFixed(2)}×`);
  }
  // The split layers' ranks are the compact model's.
  expect(inference.splitRanks).toEqual(compact.layers.filter((l) => l.split).map((l) => l.rank));
});

test('checkpoints are at most the interval of training apart, and a reload at an arbitrary moment loses no more: the charts are back before Resume, which continues from the last one', async ({ page }) => {
  // A dense run (no projections: only training time decides when checkpoints are taken), a checkpoint
  // every 9 s of training, long enough to outlast three of them. The gaps are measured on the wall clock:
  // few test images, so that the evaluation after each epoch (not training time) adds little to them.
  const everyMs = 9_000;
  await page.goto('/?preset=quick&train=64&test=10&batch=8&lrpet=0&epochs=200&ckpt=0.15');
  await expect(page.getByTestId('backend-name')).toHaveText('WebGPU', { timeout: 60_000 });
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  // Every wait says what it is doing: the first step compiles the GPU kernels.
  await expect(page.getByTestId('run-activity')).toContainText('compiling GPU kernels', { timeout: 120_000 });
  await expect(page.getByTestId('iteration')).toHaveText(/[1-9]/, { timeout: 120_000 });

  // Each checkpoint as the page shows it (the worker stores them and says so).
  const line = page.getByTestId('last-checkpoint');
  const seen: { iteration: number; time: number; reason: string }[] = [];
  const look = async () => {
    const time = Number(await line.getAttribute('data-time'));
    if (!seen.length || seen.at(-1)!.time !== time) seen.push({ iteration: Number(await line.getAttribute('data-iteration')), time, reason: (await line.textContent())?.match(/\((\w+),/)?.[1] ?? '' });
    return seen.filter((c) => c.reason === 'interval').length;
  };
  await expect.poll(look, { timeout: 60_000, intervals: [200] }).toBeGreaterThanOrEqual(2); // the compile, and two intervals with room to spare
  const intervals = seen.filter((c) => c.reason === 'interval');
  // Between two interval checkpoints: the interval of training time at most (the step in flight finishes
  // first and the write takes a moment: 3 s more here). The first one follows the start checkpoint after
  // the first step, which compiles the GPU kernels: that step's time is training time too.
  const gaps = intervals.slice(1).map((c, i) => c.time - intervals[i].time);
  expect(gaps.length).toBeGreaterThanOrEqual(1);
  test.info().annotations.push({ type: 'checkpoint gaps', description: gaps.map((g) => `${g} ms`).join(', ') });
  for (const g of gaps) expect(g).toBeLessThanOrEqual(everyMs + 3_000);

  // Then the page goes away at a random moment, up to a checkpoint interval and a bit after the next one is due.
  const wait = Math.round(Math.random() * (everyMs + 3_000));
  test.info().annotations.push({ type: 'reload', description: `${wait} ms after the second interval checkpoint` });
  await page.waitForTimeout(wait);
  const reachedShown = Number(await page.getByTestId('iteration').textContent());
  const reloadedAt = Date.now();
  await page.reload();

  const banner = page.getByTestId('interrupted-banner');
  await expect(banner).toContainText(/was interrupted/);
  // Before Resume: the run's charts, from its stored log.
  await expect(page.getByTestId('run-phase')).toHaveText('interrupted');
  await expect.poll(async () => Number(await page.getByTestId('iteration').textContent())).toBeGreaterThanOrEqual(reachedShown);
  await expect.poll(() => page.getByTestId('chart-loss').locator('.recharts-line').count()).toBeGreaterThanOrEqual(1);
  const checkpoint = Number(await line.getAttribute('data-iteration'));
  const checkpointTime = Number(await line.getAttribute('data-time'));
  expect(checkpoint).toBeGreaterThan(0);
  // Wall-clock time from the checkpoint to the reload: the interval, plus the step in flight and the next checkpoint's write.
  expect(reloadedAt - checkpointTime).toBeLessThanOrEqual(everyMs + 3_000);
  // The stored log, before Resume: the training steps after the checkpoint took less than the interval.
  const before = await downloadLog(page);
  const steps = before.filter((e): e is StepEvent => e.type === 'step');
  const reached = steps.at(-1)!.iteration;
  expect(reached).toBeGreaterThanOrEqual(reachedShown);
  expect(checkpoint).toBeLessThanOrEqual(reached);
  const lostMs = steps.filter((e) => e.iteration > checkpoint).reduce((t, e) => t + e.stepMs, 0);
  test.info().annotations.push({ type: 'lost', description: `checkpoint at iteration ${checkpoint}, reached ${reached}: ${Math.round(lostMs)} ms of steps, ${reloadedAt - checkpointTime} ms of wall time` });
  expect(lostMs).toBeLessThanOrEqual(everyMs);

  await expect(page.getByTestId('backend-name')).toHaveText('WebGPU', { timeout: 60_000 });
  await banner.getByRole('button', { name: 'Resume' }).click();
  // The charts showed the stored log up to `reached` already: wait for the resumed run itself to train.
  await expect(page.getByTestId('run-phase')).toHaveText('training', { timeout: 120_000 });
  await expect.poll(async () => Number(await page.getByTestId('iteration').textContent()), { timeout: 120_000 }).toBeGreaterThan(checkpoint + 1);
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('run-phase')).toHaveText('stopped', { timeout: 120_000 });
  const after = await downloadLog(page);
  expect(after.filter((e) => e.type === 'runStart').map((e) => (e.type === 'runStart' ? e.resumedFrom : 'x'))).toEqual([null, checkpoint]);
  const its = after.filter((e): e is StepEvent => e.type === 'step').map((e) => e.iteration);
  expectContinuousSteps(after, its.at(-1)!);
});

test('a batch of two ablations: one run after the other, the comparison overlays both, the claims panel measures them, its report downloads and comes back after a reload; runs export and import', async ({ page }) => {
  await installProbes(page);
  await page.goto(`${TINY}&epochs=1`);
  await expect(page.getByTestId('backend-name')).toHaveText('WebGPU', { timeout: 60_000 });
  await page.getByRole('button', { name: 'Ablation batch…' }).click();
  const panel = page.getByTestId('ablation-panel');
  for (const box of await panel.getByRole('checkbox').all()) await box.uncheck();
  await panel.getByRole('checkbox', { name: 'LRPET', exact: true }).check();
  await panel.getByRole('checkbox', { name: /^No energy transfer/ }).check();
  await expect(panel.getByLabel('Seeds per arm')).toHaveValue('1');
  await expect(panel).toContainText('2 runs');
  await panel.getByRole('button', { name: 'Run batch' }).click();
  await expect(page.getByTestId('batch-status')).toContainText('1 of 2');
  await expect(page.getByTestId('batch-status')).toContainText('2 of 2', { timeout: 300_000 });

  const compare = page.getByTestId('compare-panel');
  await expect(compare).toBeVisible({ timeout: 300_000 });
  await expect(compare.getByTestId('compare-legend-item')).toHaveCount(2);
  await expect(compare.getByTestId('compare-legend')).toContainText(/energy transfer: off/i);
  await expect(compare.getByTestId('compare-row')).toHaveCount(2);
  for (const row of await compare.getByTestId('compare-row').all()) await expect(row).toContainText(/\d+\.\d%/);
  // One line per run on the overlaid charts.
  for (const chart of ['compare-chart-loss', 'compare-chart-energy', 'compare-chart-gradients']) {
    await expect.poll(() => compare.getByTestId(chart).locator('.recharts-line').count(), { message: chart }).toBeGreaterThanOrEqual(2);
  }
  // How much the projections changed each run's gradients, with and without energy transfer.
  await expect(compare.getByTestId('compare-grad-jumps')).toContainText(/×\d.* across \d+ projections?[\s\S]*×\d.* across \d+ projections?/);
  await compare.screenshot({ path: test.info().outputPath('compare.png') });
  await expect(page.getByTestId('run-item')).toHaveCount(2);

  // The claims the batch can test, with what it measured.
  const claims = page.getByTestId('claims-panel');
  await expect(claims).toBeVisible();
  const arms = claims.getByTestId('claims-arm');
  await expect(arms).toHaveCount(2);
  await expect(arms.nth(0)).toContainText('LRPET');
  await expect(arms.nth(1)).toContainText('No energy transfer');
  for (const arm of await arms.all()) await expect(arm.getByTestId('claims-arm-accuracy')).toHaveText(/\d+\.\d\d% \(one seed\)/);
  const et = claims.locator('[data-claim="energy-transfer"]');
  await expect(et).toHaveAttribute('data-verdict', 'no-estimate');
  await expect(et.getByTestId('claim-measured')).toHaveText(
    /^Final test accuracy of the compact model: LRPET \d+\.\d\d% \(one seed\) vs No energy transfer \d+\.\d\d% \(one seed\); LRPET − No energy transfer: [+−±]\d+\.\d\d points; one seed: no noise estimate\.$/,
  );
  await expect(claims.locator('[data-claim="posthoc"]')).toHaveAttribute('data-verdict', 'not-run');
  await expect(claims.getByTestId('claims-context')).toContainText(/1 seed per arm \(1\) · backend webgpu · data: CIFAR-10 binary files in the local folder .*cifar-10-batches-bin/);
  await claims.screenshot({ path: test.info().outputPath('claims.png') });
  const [md] = await Promise.all([page.waitForEvent('download'), claims.getByRole('button', { name: 'Download report (.md)' }).click()]);
  expect(md.suggestedFilename()).toMatch(/^lrpet-claims-batch-[a-z0-9-]+\.md$/);
  const report = readFileSync(await md.path(), 'utf8');
  expect(report).toContain("# LRPET ablation batch: the paper's claims, measured");
  expect(report).toMatch(/- Data: CIFAR-10 binary files in the local folder .*cifar-10-batches-bin\. Accuracies hold for these runs on this data only/);
  expect(report).toMatch(/\| LRPET \| energy transfer: on \| 1 of 1 \| \d+\.\d\d% \(one seed\), compact model \|/);
  const [csv] = await Promise.all([page.waitForEvent('download'), claims.getByRole('button', { name: 'Download runs (.csv)' }).click()]);
  expect(readFileSync(await csv.path(), 'utf8').trimEnd().split('\r\n')).toHaveLength(3);
  const measured = await et.getByTestId('claim-measured').textContent();

  // A run exported as one file, and the page's JSON-lines log of the run it shows: they import again below.
  const first = page.getByTestId('run-item').first();
  const name = await first.getByTestId('run-name').textContent();
  const [zipDl] = await Promise.all([page.waitForEvent('download'), first.getByRole('button', { name: 'Export' }).click()]);
  expect(zipDl.suggestedFilename()).toMatch(/\.lrpet\.zip$/);
  const [logDl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download event log (.jsonl)' }).click()]);

  // The claims panel is rebuilt from the runs stored in the browser.
  await page.reload();
  await expect(page.getByTestId('claims-panel')).toHaveCount(0);
  await page.getByRole('button', { name: 'Ablation claims…' }).click();
  await expect(page.getByTestId('claims-panel').locator('[data-claim="energy-transfer"]').getByTestId('claim-measured')).toHaveText(measured!);

  // Both files import like any run.
  await page.getByTestId('import-input').setInputFiles([{ name: 'run.lrpet.zip', mimeType: 'application/zip', buffer: readFileSync(await zipDl.path()) }, { name: 'log.jsonl', mimeType: 'application/x-ndjson', buffer: readFileSync(await logDl.path()) }]);
  await expect(page.getByTestId('import-status')).toContainText('imported');
  await expect(page.getByTestId('run-item')).toHaveCount(4);
  await expect(page.getByTestId('run-name').filter({ hasText: name! })).toHaveCount(2);
  for (const item of (await page.getByTestId('run-item').all()).slice(0, 2)) await expect(item.getByTestId('run-status')).toHaveText('finished');
  expect(await page.evaluate(() => window.__lrpetCsp)).toEqual([]);
});

test('a shared URL reproduces the config; out-of-range values are clamped and reported; older short keys still read', async ({ page, context }) => {
  await page.goto('/?model=resnet14-narrow&p=0.3&lr=0.02&epochs=0&batch=64&seed=7&et=0&beta=0.25&bn=0&interval=5');
  await expect(page.getByTestId('url-notes')).toContainText(/epochs 0 is below the minimum 1/);
  await expect(page.getByLabel('Model')).toHaveValue('resnet14-narrow');
  await expect(page.getByLabel('Prune ratio (p)')).toHaveValue('0.3');
  // The address bar now spells the settings by their names.
  await expect.poll(() => new URL(page.url()).searchParams.get('batchSize')).toBe('64');
  const link = page.url();
  expect(new URL(link).searchParams.get('epochs')).toBe('1');
  expect(new URL(link).searchParams.get('energyTransfer')).toBe('0');
  const other = await context.newPage();
  await other.goto(link);
  for (const [label, value] of [
    ['Model', 'resnet14-narrow'],
    ['Prune ratio (p)', '0.3'],
  ] as const) {
    await expect(other.getByLabel(label)).toHaveValue(value);
  }
  expect(new URL(other.url()).search).toBe(new URL(link).search);
  await expect(other.getByTestId('url-notes')).toHaveCount(0);
  // Presets are links too.
  const quick = other.getByRole('link', { name: /Quick look/ });
  expect(await quick.getAttribute('href')).toContain('model=resnet8-tiny');
});

test('failure drills in one run: a forced NaN pauses with the message and going back to the last good checkpoint trains on; then a lost GPU device restarts the worker and the run resumes from its checkpoint to the end', async ({ page }) => {
  await page.goto(`${TINY}&epochs=2&ckpt=0.05`);
  await started(page);
  await expect.poll(() => checkpointIteration(page), { timeout: 60_000 }).toBeGreaterThanOrEqual(0);
  expect(await page.evaluate(() => window.__lrpet!.simulateNaN())).toBeTruthy();
  await expect(page.getByTestId('run-phase')).toHaveText('paused', { timeout: 120_000 });
  // The last checkpoint stored before the NaN (one may have come between the one seen above and the NaN).
  const good = await checkpointIteration(page);
  const callout = page.getByTestId('diverged-callout');
  await expect(callout).toContainText('the loss became NaN');
  await expect(callout).toContainText('Lower the learning rate');
  await expect(callout).toContainText(`last good checkpoint (iteration ${good})`);
  await callout.getByRole('button', { name: /Go back to the last good checkpoint/ }).click();
  await expect(page.getByTestId('engine-notice')).toContainText(`Continued from the last good checkpoint (iteration ${good}) with learning rate 0.005`);

  // Training goes on; once a checkpoint after the NaN is stored, the GPU device is lost.
  await expect.poll(() => checkpointIteration(page), { timeout: 120_000, intervals: [500] }).toBeGreaterThanOrEqual(good + 2);
  expect(await page.evaluate(() => window.__lrpet!.simulateDeviceLoss())).toBe(true);
  const notice = page.getByTestId('engine-notice');
  await expect(notice).toContainText('The GPU device was lost', { timeout: 60_000 });
  await expect(notice).toContainText(/resumed from its checkpoint at iteration \d+/);
  await expect(page.getByTestId('run-phase')).toHaveText('finished', { timeout: 300_000 });

  const events = await downloadLog(page);
  expectContinuousSteps(events, 8);
  expect(events.filter((e) => e.type === 'step').every((e) => e.type === 'step' && Number.isFinite(e.loss))).toBe(true);
  // The lower learning rate went in as a live change at the first step after the checkpoint; the restart kept it.
  const change = events.find((e) => e.type === 'configChange');
  expect(change?.type === 'configChange' && change.changes.lr).toBe(0.005);
  expect(events.filter((e) => e.type === 'step').at(-1)).toMatchObject({ lr: 0.005 });
  expect(events.filter((e) => e.type === 'runStart')).toHaveLength(3);
});
