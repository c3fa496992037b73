import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { findDatasetDir } from '../scripts/serve.mjs';

const RECORD = 3073;

test.describe('data', () => {
  test('a corrupt .bin or .tar.gz gives a clear error and the page keeps working', async ({ page }) => {
    await page.goto('/');
    await expect(page.getByTestId('data-source')).toBeVisible();
    const picker = page.getByLabel('CIFAR-10 files');

    await picker.setInputFiles({ name: 'data_batch_1.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(5000, 7) });
    await expect(page.getByTestId('data-error')).toContainText('data_batch_1.bin: 5000 bytes is not a whole number of CIFAR-10 records');

    await picker.setInputFiles({ name: 'cifar-10-binary.tar.gz', mimeType: 'application/gzip', buffer: Buffer.from('this is not a gzip archive at all') });
    await expect(page.getByTestId('data-error')).toContainText('cifar-10-binary.tar.gz: not a gzip file');

    // gzip header, then garbage: the decompressor fails mid-stream
    const broken = Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3]), Buffer.alloc(3000, 0x55)]);
    await picker.setInputFiles({ name: 'cifar-10-binary.tar.gz', mimeType: 'application/gzip', buffer: broken });
    await expect(page.getByTestId('data-error')).toContainText(/cifar-10-binary\.tar\.gz: (could not be unpacked|bad tar header|the tar archive is truncated)/);

    await picker.setInputFiles({ name: 'labels.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(RECORD) });
    await expect(page.getByTestId('data-error')).toContainText('not a CIFAR-10 batch name');

    // Still usable: the server's folder is still chosen and Start is enabled.
    await expect(page.getByTestId('data-source')).toBeVisible();
    await expect(page.getByRole('radio', { name: /Local folder/ })).toBeChecked();
    await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeEnabled();
  });

  test('the official archive layout (.tar.gz) picked by the user is unpacked and parsed in the worker', async ({ page }) => {
    const found = findDatasetDir();
    expect(found.dir, 'the e2e tests need the CIFAR-10 folder').toBeTruthy();
    const dir = mkdtempSync(join(tmpdir(), 'lrpet-tar-'));
    try {
      // A small archive with the official layout: cifar-10-batches-bin/{data_batch_1,test_batch}.bin
      const inner = join(dir, 'cifar-10-batches-bin');
      mkdirSync(inner);
      const take = (name: string, n: number) => readFileSync(join(found.dir!, name)).subarray(0, n * RECORD);
      writeFileSync(join(inner, 'data_batch_1.bin'), take('data_batch_1.bin', 40));
      writeFileSync(join(inner, 'test_batch.bin'), take('test_batch.bin', 30));
      writeFileSync(join(inner, 'batches.meta.txt'), 'airplane\n');
      execFileSync('tar', ['czf', join(dir, 'cifar-10-binary.tar.gz'), '-C', dir, 'cifar-10-batches-bin']);

      await page.goto('/?preset=quick&train=16&test=30&batch=16&epochs=1&interval=1');
      await page.getByLabel('CIFAR-10 files').setInputFiles(join(dir, 'cifar-10-binary.tar.gz'));
      const mine = page.getByRole('radio', { name: /Your files/ });
      await expect(mine).toBeChecked({ timeout: 30_000 });
      await expect(page.getByTestId('data-panel')).toContainText('40 train + 30 test images');
      await expect(page.getByTestId('data-panel')).toContainText('your file cifar-10-binary.tar.gz');
      // A one-step run on these images.
      await page.getByRole('button', { name: 'Start', exact: true }).click();
      await expect(page.getByTestId('run-phase')).toHaveText('finished', { timeout: 180_000 });
      await expect(page.getByTestId('compact-result')).toContainText('Evaluated on 30 test images');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('with no data anywhere the page says exactly what to do', async ({ page }) => {
    await page.route('/api/dataset', (route) =>
      route.fulfill({
        json: {
          source: null,
          rule: null,
          tried: ['/repo/data/cifar-10-batches-bin', '/shared/datasets/cifar10/cifar-10-batches-bin'],
          problem: 'no CIFAR-10 folder found',
          files: [],
          download: { state: 'idle', received: 0, total: null, message: null },
        },
      }),
    );
    await page.goto('/');
    const help = page.getByTestId('no-data');
    await expect(help).toContainText('No CIFAR-10 data yet');
    await expect(help).toContainText('cifar-10-binary.tar.gz');
    await expect(help).toContainText('./data/cifar-10-batches-bin');
    await expect(help).toContainText('CIFAR10_DIR');
    await expect(help).toContainText('Looked in: /repo/data/cifar-10-batches-bin');
    await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeDisabled();
  });
});
