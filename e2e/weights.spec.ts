import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import * as tf from '@tensorflow/tfjs';
import type { EngineEvent, RunStartEvent } from '../src/engine/events';
import { buildModel } from '../src/engine/models/builders';
import { initParams } from '../src/engine/models/params';
import { exportSafetensors } from '../src/engine/weights/model-weights';
import { decodeSafetensors, type TensorEntry } from '../src/engine/weights/safetensors';

// "Start from weights…" and "Download for PyTorch": a dense run (LRPET off) at the smallest learning rate the
// page allows, one Step from the uploaded weights, then Stop: the downloaded weights are the uploaded ones.
const TINY = '/?preset=quick&train=32&test=20&batch=16&epochs=2&lrpet=0&lr=0.000001';

async function weightsFile(model: 'resnet8-tiny' | 'resnet14-narrow'): Promise<Buffer> {
  await tf.setBackend('cpu');
  const g = buildModel(model);
  const params = initParams(tf, g, 7);
  const bytes = await exportSafetensors(g, params, { model, variant: 'dense' }, 0);
  tf.dispose(Object.values(params));
  return Buffer.from(bytes);
}

const floats = (t: TensorEntry) => new Float32Array(t.bytes.buffer.slice(t.bytes.byteOffset, t.bytes.byteOffset + t.bytes.byteLength));

test('start from a weights file (checked first): after one step at the smallest learning rate the downloaded PyTorch weights are the uploaded ones', async ({ page }) => {
  await page.goto(TINY);
  await expect(page.getByTestId('backend-name')).toHaveText('WebGPU', { timeout: 60_000 });
  await expect(page.getByLabel('Learning rate')).toHaveValue('0.000001');
  const input = page.getByTestId('init-weights-input');

  // Another model's weights: a clear error, Start refuses, the settings stay.
  await input.setInputFiles({ name: 'narrow.safetensors', mimeType: 'application/octet-stream', buffer: await weightsFile('resnet14-narrow') });
  await expect(page.getByTestId('init-weights-error')).toContainText("narrow.safetensors: these weights do not fit resnet8-tiny: these are resnet14-narrow's weights");
  await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeDisabled();
  // Not a safetensors file at all.
  await input.setInputFiles({ name: 'notes.safetensors', mimeType: 'text/plain', buffer: Buffer.from('hello') });
  await expect(page.getByTestId('init-weights-error')).toContainText('notes.safetensors: not a valid safetensors file');

  // The model's own weights: accepted; one Step trains from them, then Stop ends the run.
  const uploaded = await weightsFile('resnet8-tiny');
  await input.setInputFiles({ name: 'tiny.safetensors', mimeType: 'application/octet-stream', buffer: uploaded });
  await expect(page.getByTestId('init-weights-error')).toHaveCount(0);
  await expect(page.getByTestId('init-weights-name')).toHaveText('tiny.safetensors');
  await page.getByRole('button', { name: 'Step' }).click();
  await expect(page.getByTestId('iteration')).toHaveText('1', { timeout: 120_000 });
  await expect(page.getByTestId('run-phase')).toHaveText('paused', { timeout: 60_000 });
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('run-phase')).toHaveText('stopped', { timeout: 120_000 });

  const [logDl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download event log (.jsonl)' }).click()]);
  const events = readFileSync(await logDl.path(), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as EngineEvent);
  expect((events[0] as RunStartEvent).config).toMatchObject({ init: { name: 'tiny.safetensors' }, lr: 1e-6, lrpet: { enabled: false } });
  expect(events.filter((e) => e.type === 'step')).toHaveLength(1);

  const [projected] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-pytorch-projected').click()]);
  expect(projected.suggestedFilename()).toBe('lrpet-resnet8-tiny-projected.safetensors');
  const down = decodeSafetensors(new Uint8Array(readFileSync(await projected.path())));
  const up = decodeSafetensors(new Uint8Array(uploaded));
  expect(down.metadata).toMatchObject({ 'lrpet.model': 'resnet8-tiny', 'lrpet.variant': 'dense' });
  expect(down.tensors.map((t) => t.name).sort()).toEqual(up.tensors.map((t) => t.name).sort());
  // Every conv and linear kernel: the uploaded values, moved by one step of lr 1e-6 at most (max |Δ| / max |w| ≤ 1e-5).
  // BatchNorm's running statistics are excluded: a training-mode step moves them.
  const kernels = up.tensors.filter((t) => t.name.endsWith('.weight') && t.shape.length >= 2);
  expect(kernels.length).toBeGreaterThanOrEqual(8);
  for (const u of kernels) {
    const d = down.tensors.find((t) => t.name === u.name)!;
    expect(d.shape, u.name).toEqual(u.shape);
    const [a, b] = [floats(u), floats(d)];
    let scale = 0;
    let diff = 0;
    for (let i = 0; i < a.length; i++) {
      scale = Math.max(scale, Math.abs(a[i]));
      diff = Math.max(diff, Math.abs(a[i] - b[i]));
    }
    expect(scale, u.name).toBeGreaterThan(0);
    expect(diff / scale, u.name).toBeLessThanOrEqual(1e-5);
  }
  expect(down.tensors.map((t) => t.name)).toContain('layer1.0.bn1.num_batches_tracked');
});
