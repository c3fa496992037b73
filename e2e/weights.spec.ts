import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import * as tf from '@tensorflow/tfjs';
import type { EngineEvent, RunStartEvent } from '../src/engine/events';
import { buildModel } from '../src/engine/models/builders';
import { initParams } from '../src/engine/models/params';
import { exportSafetensors } from '../src/engine/weights/model-weights';
import { decodeSafetensors } from '../src/engine/weights/safetensors';

// "Start from weights…" and "Download for PyTorch": a tiny run (8 steps) from a weights file.
const TINY = '/?preset=quick&train=32&test=20&batch=16&epochs=2&interval=2&p=0.5';

async function weightsFile(model: 'resnet8-tiny' | 'resnet14-narrow'): Promise<Buffer> {
  await tf.setBackend('cpu');
  const g = buildModel(model);
  const params = initParams(tf, g, 7);
  const bytes = await exportSafetensors(g, params, { model, variant: 'dense' }, 0);
  tf.dispose(Object.values(params));
  return Buffer.from(bytes);
}

test('start from a weights file (checked first), then download the models for PyTorch', async ({ page }) => {
  await page.goto(TINY);
  await expect(page.getByTestId('backend-name')).toHaveText('WebGPU', { timeout: 60_000 });
  const input = page.getByTestId('init-weights-input');

  // Another model's weights: a clear error, Start refuses, the settings stay.
  await input.setInputFiles({ name: 'narrow.safetensors', mimeType: 'application/octet-stream', buffer: await weightsFile('resnet14-narrow') });
  await expect(page.getByTestId('init-weights-error')).toContainText("narrow.safetensors: these weights do not fit resnet8-tiny: these are resnet14-narrow's weights");
  await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeDisabled();
  // Not a safetensors file at all.
  await input.setInputFiles({ name: 'notes.safetensors', mimeType: 'text/plain', buffer: Buffer.from('hello') });
  await expect(page.getByTestId('init-weights-error')).toContainText('notes.safetensors: not a valid safetensors file');

  // The model's own weights: accepted, and the run starts from them.
  await input.setInputFiles({ name: 'tiny.safetensors', mimeType: 'application/octet-stream', buffer: await weightsFile('resnet8-tiny') });
  await expect(page.getByTestId('init-weights-error')).toHaveCount(0);
  await expect(page.getByTestId('init-weights-name')).toHaveText('tiny.safetensors');
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(page.getByTestId('run-phase')).toHaveText('finished', { timeout: 300_000 });

  const [logDl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download event log (.jsonl)' }).click()]);
  const events = readFileSync(await logDl.path(), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as EngineEvent);
  expect((events[0] as RunStartEvent).config.init).toEqual({ name: 'tiny.safetensors' });

  const [projected] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-pytorch-projected').click()]);
  expect(projected.suggestedFilename()).toBe('lrpet-resnet8-tiny-projected.safetensors');
  const p = decodeSafetensors(new Uint8Array(readFileSync(await projected.path())));
  expect(p.metadata).toMatchObject({ 'lrpet.model': 'resnet8-tiny', 'lrpet.variant': 'dense' });
  expect(p.tensors.map((t) => t.name)).toContain('layer1.0.bn1.num_batches_tracked');
  const [compact] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-pytorch-compact').click()]);
  const c = decodeSafetensors(new Uint8Array(readFileSync(await compact.path())));
  expect(c.metadata).toMatchObject({ 'lrpet.variant': 'compact' });
  expect(c.tensors.find((t) => t.name === 'conv1.0.weight')?.shape).toEqual([4, 3, 3, 3]);
});
