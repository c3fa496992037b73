import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { parseRunConfig } from '../src/engine/config';
import { runFileText } from '../src/engine/run-file';
import { syntheticDataset } from '../src/engine/testing/synthetic';
import { trainer, writeCifarDir } from '../src/node/torch-trainer';

// A run of the PyTorch trainer (lrpet-torch, as on a GPU cluster; here one CPU process on synthetic images)
// comes back to the page: its events.jsonl imports like any run, and Compare overlays it with a browser run —
// loss, energy and spectra drawn for both.

const TINY = '/?preset=quick&train=32&test=20&batch=16&epochs=1&interval=2&p=0.5';

let dir: string;
let log: Buffer;

test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lrpet-scale-e2e-'));
  const data = writeCifarDir(join(dir, 'data'), syntheticDataset(32, 16, 21));
  const runFile = join(dir, 'run.json');
  writeFileSync(runFile, runFileText(parseRunConfig({ model: 'resnet8-tiny', epochs: 2, batchSize: 8, lr: 0.05, lrpet: { prune: 0.5, interval: 2 } })));
  const out = join(dir, 'out');
  trainer(['train', '--config', runFile, '--data', data, '--out', out], { timeoutMs: 180_000 });
  log = readFileSync(join(out, 'events.jsonl'));
});

test.afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the PyTorch trainer’s events.jsonl imports, and Compare overlays it with a browser run: loss, energy, spectra', async ({ page }) => {
  await page.goto(TINY);
  await expect(page.getByTestId('backend-name')).toHaveText('WebGPU', { timeout: 60_000 });
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(page.getByTestId('run-phase')).toHaveText('finished', { timeout: 240_000 });

  await page.getByTestId('import-input').setInputFiles([{ name: 'pytorch-ddp.jsonl', mimeType: 'application/x-ndjson', buffer: log }]);
  await expect(page.getByTestId('import-status')).toContainText('imported');
  await expect(page.getByTestId('run-item')).toHaveCount(2);
  const imported = page.getByTestId('run-item').filter({ hasText: 'pytorch-ddp' });
  await expect(imported.getByTestId('run-status')).toHaveText('finished');
  await expect(imported).toContainText('resnet8-tiny · it 8');

  for (const item of await page.getByTestId('run-item').all()) await item.getByRole('checkbox').check();
  await page.getByTestId('compare-button').click();
  const compare = page.getByTestId('compare-panel');
  await expect(compare).toBeVisible();
  await expect(compare.getByTestId('compare-legend-item')).toHaveCount(2);
  await expect(compare.getByTestId('compare-legend-item').filter({ hasText: 'pytorch-ddp' })).toHaveCount(1);
  await expect(compare.getByTestId('compare-row')).toHaveCount(2);
  for (const row of await compare.getByTestId('compare-row').all()) await expect(row).toContainText(/\d+\.\d%/);
  // One line per run on the overlaid charts.
  for (const chart of ['compare-chart-loss', 'compare-chart-energy', 'compare-chart-spectrum']) {
    await expect.poll(() => compare.getByTestId(chart).locator('.recharts-line').count(), { message: chart }).toBeGreaterThanOrEqual(2);
  }
  await expect(compare.getByTestId('compare-cuts')).toContainText(/pytorch-ddp: r = \d+ of \d+/);
  await compare.screenshot({ path: test.info().outputPath('compare-pytorch.png') });
});
