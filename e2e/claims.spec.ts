import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';

// Tiny runs on SwiftShader: ResNet-8-tiny, 64 training images (4 steps an epoch), 50 test images, one epoch.
const TINY = '/?preset=quick&train=64&test=50&batch=16&interval=2&p=0.5&epochs=1';

test('a two-arm ablation batch ends with the claims panel: both arms with numbers, the report downloads, and it comes back after a reload', async ({ page }) => {
  await page.goto(TINY);
  await expect(page.getByTestId('backend-name')).toHaveText('WebGPU', { timeout: 60_000 });
  await page.getByRole('button', { name: 'Ablation batch…' }).click();
  const panel = page.getByTestId('ablation-panel');
  for (const box of await panel.getByRole('checkbox').all()) await box.uncheck();
  await panel.getByRole('checkbox', { name: /^LRPET$/ }).check();
  await panel.getByRole('checkbox', { name: /^No energy transfer/ }).check();
  await expect(panel.getByLabel('Seeds per arm')).toHaveValue('1');
  await expect(panel).toContainText('2 runs');
  await panel.getByRole('button', { name: 'Run batch' }).click();
  await expect(page.getByTestId('batch-status')).toContainText('2 of 2', { timeout: 300_000 });

  const claims = page.getByTestId('claims-panel');
  await expect(claims).toBeVisible({ timeout: 300_000 });
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

  // The panel is rebuilt from the runs stored in the browser.
  const measured = await et.getByTestId('claim-measured').textContent();
  await page.reload();
  await expect(page.getByTestId('claims-panel')).toHaveCount(0);
  await page.getByRole('button', { name: 'Ablation claims…' }).click();
  await expect(page.getByTestId('claims-panel').locator('[data-claim="energy-transfer"]').getByTestId('claim-measured')).toHaveText(measured!);
});
