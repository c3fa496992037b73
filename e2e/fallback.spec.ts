import { expect, test } from '@playwright/test';

// Runs in the 'no-webgpu' project: Chromium without --enable-unsafe-webgpu, so navigator.gpu is missing.

test('without WebGPU the page falls back to WebGL, says why, and Stop ends a run and frees the worker', async ({ page }) => {
  await page.goto('/?preset=quick&train=32&test=20&batch=8&epochs=3&interval=2');
  await expect(page.getByTestId('backend-name')).toHaveText('WebGL', { timeout: 60_000 });
  // Depending on the Chromium build navigator.gpu is missing, or present without an adapter.
  await expect(page.getByTestId('backend-reason')).toContainText(/No WebGPU \((navigator\.gpu is missing|navigator\.gpu exists but requestAdapter\(\) gave no adapter)/);
  await expect(page.getByTestId('backend-reason')).toContainText('so WebGL');
  // Here WebGL is SwiftShader too: named as software, with a speed estimate.
  await expect(page.getByTestId('backend-notice')).toContainText('software, no GPU');
  await expect(page.getByTestId('speed-estimate')).toContainText(/images\/s/);

  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(page.getByTestId('iteration')).toHaveText(/[1-9]/, { timeout: 120_000 });
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('run-phase')).toHaveText('stopped', { timeout: 120_000 });
  // The run ended early, yet the compact model was still built; then every tensor was released.
  await expect(page.getByTestId('compact-accuracy')).toHaveText(/%$/);
  await expect(page.getByTestId('released')).toContainText('0 tensors left', { timeout: 60_000 });
  expect(Number(await page.getByTestId('iteration').textContent())).toBeLessThan(12);
  expect((await page.evaluate(() => window.__lrpet!.diagnostics())).numTensors).toBe(0);
});
