import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { parseRunConfig } from '../src/engine/config';
import { parseRunFileText, runFileText } from '../src/engine/run-file';
import { syntheticDataset } from '../src/engine/testing/synthetic';
import { trainer, writeCifarDir } from '../src/node/torch-trainer';
import { presetById, toRunConfig } from '../src/ui/state/form';

// Past one machine: the page gives a run as run.json with the commands for the PyTorch trainer
// (lrpet-torch under torchrun), and a run of that trainer (here one CPU process on synthetic images, as on
// a GPU cluster) comes back: its events.jsonl and compact.safetensors import like any run, Compare overlays
// it with a run of the engine (the CLI's log, the same engine as the page's), and the inference panel times
// its compact model.

let dir: string;
let trainerLog: Buffer;
let trainerCompact: Buffer;
let engineLog: Buffer;

test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lrpet-scale-e2e-'));
  const data = writeCifarDir(join(dir, 'data'), syntheticDataset(32, 16, 21));
  const runFile = join(dir, 'run.json');
  writeFileSync(runFile, runFileText(parseRunConfig({ model: 'resnet8-tiny', epochs: 2, batchSize: 8, lr: 0.05, lrpet: { prune: 0.5, interval: 2 } })));
  const out = join(dir, 'out');
  trainer(['train', '--config', runFile, '--data', data, '--out', out], { timeoutMs: 180_000 });
  trainerLog = readFileSync(join(out, 'events.jsonl'));
  trainerCompact = readFileSync(join(out, 'compact.safetensors'));
  const log = join(dir, 'engine.jsonl');
  execFileSync(process.execPath, ['bin/lrpet.mjs', 'train', '--config', runFile, '--data', data, '--backend', 'webgpu', '--quiet', '--log', log], { timeout: 180_000 });
  engineLog = readFileSync(log);
});

test.afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('Run at scale gives run.json and the commands; the PyTorch trainer’s output imports, Compare overlays it with an engine run, and its compact model is timed', async ({ page }) => {
  await page.addInitScript(() => (window.__lrpetTest = { inferenceBatches: [1, 2] }));
  await page.goto('/?preset=paper');
  await expect(page.getByTestId('backend-name')).toHaveText('WebGPU', { timeout: 60_000 });

  // The page's settings as the trainer's run file, and the launch commands.
  await page.getByRole('button', { name: 'Run at scale…' }).click();
  const scale = page.getByTestId('run-at-scale');
  const [file] = await Promise.all([page.waitForEvent('download'), scale.getByTestId('download-run-json').click()]);
  expect(file.suggestedFilename()).toBe('run.json');
  expect(parseRunFileText(readFileSync(await file.path(), 'utf8'))).toEqual(parseRunConfig(toRunConfig(presetById('paper').form)));
  const commands = scale.getByTestId('launch-command');
  await expect(commands).toHaveCount(4);
  await expect(commands.nth(0)).toHaveText(/^PYTHONPATH=lrpet-torch python3 -m lrpet_torch train --config run\.json --data data\/cifar-10-batches-bin --out runs\/resnet56$/);
  await scale.getByLabel('GPUs per node').fill('4');
  await expect(commands.nth(1)).toContainText('torchrun --standalone --nproc_per_node 4');
  await expect(commands.nth(2)).toContainText('--nnodes 2 --nproc_per_node 4 --rdzv_id lrpet --rdzv_backend c10d --rdzv_endpoint node0:29500');

  // The trainer's folder (its log and compact model), then the engine's log.
  await page.getByTestId('import-input').setInputFiles([
    { name: 'events.jsonl', mimeType: 'application/x-ndjson', buffer: trainerLog },
    { name: 'compact.safetensors', mimeType: 'application/octet-stream', buffer: trainerCompact },
  ]);
  await expect(page.getByTestId('import-status')).toContainText('imported events');
  await expect(page.getByTestId('import-status')).toContainText('compact.safetensors (its compact model)');
  await page.getByTestId('import-input').setInputFiles([{ name: 'engine.jsonl', mimeType: 'application/x-ndjson', buffer: engineLog }]);
  await expect(page.getByTestId('run-item')).toHaveCount(2);
  const imported = page.getByTestId('run-item').filter({ hasText: 'events' });
  await expect(imported.getByTestId('run-status')).toHaveText('finished');
  await expect(imported).toContainText('resnet8-tiny · it 8');

  for (const item of await page.getByTestId('run-item').all()) await item.getByRole('checkbox').check();
  await page.getByTestId('compare-button').click();
  const compare = page.getByTestId('compare-panel');
  await expect(compare).toBeVisible();
  await expect(compare.getByTestId('compare-legend-item')).toHaveCount(2);
  await expect(compare.getByTestId('compare-row')).toHaveCount(2);
  // Where each trained: the trainer's runtime (one CPU process here; "PyTorch DDP · 8 × GPU" on eight GPUs), the engine's backend.
  await expect(compare.getByTestId('compare-backend').filter({ hasText: /^PyTorch · CPU$/ })).toHaveCount(1);
  await expect(compare.getByTestId('compare-backend').filter({ hasText: /^webgpu$/ })).toHaveCount(1);
  for (const row of await compare.getByTestId('compare-row').all()) await expect(row).toContainText(/\d+\.\d%/);
  // One line per run on the overlaid charts.
  for (const chart of ['compare-chart-loss', 'compare-chart-energy', 'compare-chart-spectrum']) {
    await expect.poll(() => compare.getByTestId(chart).locator('.recharts-line').count(), { message: chart }).toBeGreaterThanOrEqual(2);
  }
  await expect(compare.getByTestId('compare-cuts')).toContainText(/events: r = \d+ of \d+/);
  await compare.screenshot({ path: test.info().outputPath('compare-pytorch.png') });

  // The trainer's compact model, kept with its run, is timed against the dense architecture.
  await imported.getByRole('button', { name: 'Inference speed' }).click();
  const panel = page.getByTestId('inference-panel');
  await expect(panel.getByTestId('inference-row')).toHaveCount(2, { timeout: 180_000 });
  await expect(panel.getByTestId('inference-mac-ratio')).toHaveText('MACs 1.75× fewer');
});
