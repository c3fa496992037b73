import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import type { EngineEvent, InferenceEvent } from '../src/engine/events';

// A tiny run (ResNet-8-tiny, 32 training images, one epoch), then the inference panel: on SwiftShader
// (software WebGPU) the measurement waits for a click, shows its progress, then both models' times at
// batch 1 and 128 and the MAC ratio. The result goes into the run's events (the log download, Compare).
const TINY = '/?preset=quick&train=32&test=20&batch=16&epochs=1&interval=2&p=0.5';

// 16 model calls, 8 of them at batch 128: a few minutes on SwiftShader on a busy 2-core machine.
test.setTimeout(12 * 60_000);

test('after a run, the inference panel times the dense and the compact model and shows the MAC ratio', async ({ page }) => {
  await page.goto(TINY);
  await expect(page.getByTestId('backend-name')).toHaveText('WebGPU', { timeout: 60_000 });
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(page.getByTestId('run-phase')).toHaveText('finished', { timeout: 240_000 });
  await expect(page.getByTestId('compact-accuracy')).toHaveText(/^\d+\.\d\d%$/);

  const panel = page.getByTestId('inference-panel');
  await expect(panel).toBeVisible();
  await expect(panel.getByTestId('inference-hint')).toContainText('software renderer');
  await expect(page.getByTestId('inference-measure')).toBeEnabled({ timeout: 30_000 });
  await page.getByTestId('inference-measure').click();
  await expect(panel.getByTestId('inference-progress')).toBeVisible();
  // No run starts while the worker measures.
  await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeDisabled();

  const rows = panel.getByTestId('inference-row');
  await expect(rows).toHaveCount(2, { timeout: 8 * 60_000 });
  await expect(panel.getByTestId('inference-progress')).toHaveCount(0);
  await expect(rows.nth(0)).toHaveAttribute('data-batch', '1');
  await expect(rows.nth(1)).toHaveAttribute('data-batch', '128');
  for (const row of [rows.nth(0), rows.nth(1)]) {
    await expect(row.getByTestId('inference-dense-ms')).toHaveText(/^\d+(\.\d+)? m?s$/);
    await expect(row.getByTestId('inference-compact-ms')).toHaveText(/^\d+(\.\d+)? m?s$/);
    await expect(row.getByTestId('inference-speedup')).toHaveText(/^\d+\.\d\d×$/);
  }
  // ResNet-8-tiny at p = 0.5: 3.17M → 1.81M MACs.
  await expect(panel.getByTestId('inference-mac-ratio')).toHaveText('MACs 1.75× fewer');
  const fraction = Number(await panel.getByTestId('inference-fraction').textContent());
  console.log(`inference panel: ${(await panel.getByTestId('inference-ratios').textContent())?.trim()}`);
  if (fraction < 0.8) await expect(panel.getByTestId('inference-explanation')).toContainText('software renderer');
  else await expect(panel.getByTestId('inference-explanation')).toHaveCount(0);

  // The measurement is one more event of the run: in the log download…
  const [logDl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download event log (.jsonl)' }).click()]);
  const events = readFileSync(await logDl.path(), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as EngineEvent);
  const inference = events.at(-1) as InferenceEvent;
  expect(inference).toMatchObject({ type: 'inference', backend: 'webgpu', denseSource: 'projected', macsDense: 3170624, macsCompact: 1814848 });
  expect(inference.batches.map((b) => b.batch)).toEqual([1, 128]);
  const shown = await rows.nth(1).getByTestId('inference-speedup').textContent();
  expect(shown).toBe(`${inference.batches[1].speedup.toFixed(2)}×`);

  // …and in Compare, read back from the browser's storage.
  await page.getByTestId('run-item').first().getByRole('checkbox').check();
  await page.getByTestId('compare-button').click();
  await expect(page.getByTestId('compare-inference').first()).toContainText(`${shown} batch 128, webgpu; MACs 1.75× fewer`);
});
