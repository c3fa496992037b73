import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { expect, test } from '@playwright/test';
import { strToU8, zipSync } from 'fflate';

const RECORD = 3073;

/** A seeded generator, so the corpus is the same on every run. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(20261128);
const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));

function tarOf(files: Record<string, Buffer>): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'lrpet-bad-tar-'));
  try {
    for (const [name, body] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), body);
    }
    execFileSync('tar', ['cf', join(dir, 'out.tar'), '-C', dir, ...Object.keys(files)]);
    return readFileSync(join(dir, 'out.tar'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const runJson = (o: Record<string, unknown>) => strToU8(JSON.stringify({ format: 'lrpet-run', version: 1, name: 'x', createdAt: 0, status: 'finished', source: 'browser', batch: null, config: null, summary: null, ...o }));

/** 50 broken run files: random bytes, truncated and wrong zips, bad JSON lines, other archives. */
function badImports(): { name: string; buffer: Buffer }[] {
  const out: { name: string; buffer: Buffer }[] = [];
  const add = (kind: string, ext: string, buffer: Buffer) => out.push({ name: `bad-${String(out.length + 1).padStart(2, '0')}-${kind}.${ext}`, buffer });
  for (let i = 0; i < 10; i++) add('random', i % 2 ? 'lrpet.zip' : 'jsonl', bytes(1 + Math.floor(rand() * 4000)));
  const good = Buffer.from(zipSync({ 'run.json': runJson({}), 'events.jsonl': strToU8('{"type":"log","time":1,"level":"info","message":"x"}\n') }));
  for (let i = 0; i < 10; i++) add('truncated', 'lrpet.zip', good.subarray(0, Math.floor(((i + 1) / 11) * good.length)));
  add('no-run-json', 'lrpet.zip', Buffer.from(zipSync({ 'events.jsonl': strToU8('') })));
  add('run-json-garbage', 'lrpet.zip', Buffer.from(zipSync({ 'run.json': strToU8('{not json'), 'events.jsonl': strToU8('') })));
  add('wrong-format', 'lrpet.zip', Buffer.from(zipSync({ 'run.json': runJson({ format: 'something-else' }), 'events.jsonl': strToU8('') })));
  add('wrong-version', 'lrpet.zip', Buffer.from(zipSync({ 'run.json': runJson({ version: 99 }), 'events.jsonl': strToU8('') })));
  add('bad-event', 'lrpet.zip', Buffer.from(zipSync({ 'run.json': runJson({}), 'events.jsonl': strToU8('{"type":"step","iteration":"one"}\n') })));
  add('events-binary', 'lrpet.zip', Buffer.from(zipSync({ 'run.json': runJson({}), 'events.jsonl': new Uint8Array(bytes(500)) })));
  add('empty-zip', 'lrpet.zip', Buffer.from(zipSync({})));
  add('only-model', 'lrpet.zip', Buffer.from(zipSync({ 'compact/model.json': strToU8('{}') })));
  add('nested-zip', 'lrpet.zip', Buffer.from(zipSync({ 'inner.zip': good })));
  add('run-json-array', 'lrpet.zip', Buffer.from(zipSync({ 'run.json': strToU8('[1,2,3]'), 'events.jsonl': strToU8('') })));
  add('empty', 'jsonl', Buffer.alloc(0));
  add('blank-lines', 'jsonl', Buffer.from('\n\n\n'));
  add('not-json', 'jsonl', Buffer.from('hello world\nthis is text\n'));
  add('json-not-event', 'jsonl', Buffer.from('{"a":1}\n{"b":2}\n'));
  add('step-first', 'jsonl', Buffer.from('{"type":"step","time":1,"iteration":1,"epoch":0,"loss":2.3,"accuracy":0.1,"lr":0.1,"imagesPerSec":1,"stepMs":1,"numTensors":1}\n'));
  add('runstart-bad', 'jsonl', Buffer.from('{"type":"runStart","time":1,"config":{"model":"resnet9000"}}\n'));
  add('array-lines', 'jsonl', Buffer.from('[1]\n[2]\n'));
  add('numbers', 'jsonl', Buffer.from('1\n2\n3\n'));
  add('html', 'jsonl', Buffer.from('<html><script>alert(1)</script></html>\n'));
  add('null-bytes', 'jsonl', Buffer.alloc(300, 0));
  add('gzip', 'lrpet.zip', gzipSync(Buffer.from('not a run')));
  add('tar', 'lrpet.zip', tarOf({ 'run.json': Buffer.from('{}') }));
  add('png', 'lrpet.zip', Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), bytes(200)]));
  add('pdf', 'jsonl', Buffer.from('%PDF-1.4\n%âãÏÓ\n1 0 obj\n'));
  add('pk-header-only', 'lrpet.zip', Buffer.from([0x50, 0x4b, 0x03, 0x04]));
  add('pk-junk', 'lrpet.zip', Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), bytes(800)]));
  add('utf16', 'jsonl', Buffer.from('\ufeff{"type":"log"}', 'utf16le'));
  for (let i = out.length; i < 50; i++) add('random-zip-body', 'lrpet.zip', Buffer.concat([good.subarray(0, 30), bytes(200 + i * 10)]));
  return out;
}

/** 50 broken dataset files: wrong sizes, bad labels, broken gzip/tar, archives without batches, other formats. */
function badDatasets(): { name: string; buffer: Buffer }[] {
  const out: { name: string; buffer: Buffer }[] = [];
  const bins = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin'];
  for (let i = 0; i < 10; i++) out.push({ name: bins[i % bins.length], buffer: bytes(RECORD * (i + 1) + 1 + i) });
  for (let i = 0; i < 10; i++) {
    const b = Buffer.alloc(RECORD * (i + 2));
    b[RECORD * (i % 2)] = 10 + i; // a label outside 0–9
    out.push({ name: bins[i % bins.length], buffer: b });
  }
  for (let i = 0; i < 10; i++) out.push({ name: `cifar-10-binary-${i}.tar.gz`, buffer: i < 5 ? bytes(100 + i * 700) : gzipSync(bytes(4000)).subarray(0, 200 + i * 150) });
  for (let i = 0; i < 5; i++) out.push({ name: `cifar-10-empty-${i}.tar.gz`, buffer: gzipSync(tarOf({ [`cifar-10-batches-bin/readme-${i}.txt`]: Buffer.from('no batches here') })) });
  for (let i = 0; i < 5; i++) out.push({ name: `cifar-10-bad-${i}.tar`, buffer: tarOf({ 'cifar-10-batches-bin/data_batch_1.bin': bytes(RECORD * 3 + 17 + i) }) });
  for (let i = 0; i < 5; i++) out.push({ name: `cifar-10-${i}.tar`, buffer: bytes(1024 + i * 512) });
  out.push({ name: 'cifar-10-binary.zip', buffer: Buffer.from(zipSync({ 'data_batch_1.bin': new Uint8Array(RECORD) })) });
  out.push({ name: 'data_batch_1.bin', buffer: Buffer.alloc(0) });
  out.push({ name: 'test_batch.bin', buffer: Buffer.alloc(RECORD - 1) });
  out.push({ name: 'image.png', buffer: Buffer.from([0x89, 0x50, 0x4e, 0x47]) });
  out.push({ name: 'cifar-10-python.tar.gz', buffer: gzipSync(tarOf({ 'cifar-10-batches-py/data_batch_1': bytes(5000) })) });
  return out;
}

test('100 corrupt run files and dataset files: each gives an error, nothing breaks', async ({ page }) => {
  test.setTimeout(10 * 60_000);
  await page.goto('/');
  await expect(page.getByTestId('backend-name')).toHaveText('WebGPU', { timeout: 60_000 });
  const imports = badImports();
  const datasets = badDatasets();
  expect(imports.length + datasets.length).toBe(100);

  const importInput = page.getByTestId('import-input');
  for (const f of imports) {
    await importInput.setInputFiles({ name: f.name, mimeType: 'application/octet-stream', buffer: f.buffer });
    const status = page.getByTestId('import-status');
    await expect(status, f.name).toContainText(f.name);
    await expect(status, f.name).toHaveAttribute('role', 'alert');
    expect((await status.textContent())!.length, f.name).toBeGreaterThan(f.name.length + 10);
  }
  await expect(page.getByTestId('run-item')).toHaveCount(0);

  const picker = page.getByLabel('CIFAR-10 files');
  for (const [i, f] of datasets.entries()) {
    await picker.setInputFiles({ name: f.name, mimeType: 'application/octet-stream', buffer: f.buffer });
    const err = page.getByTestId('data-error');
    await expect(err, f.name).toHaveAttribute('data-attempt', String(i + 1), { timeout: 30_000 });
    await expect(err, f.name).toContainText(f.name);
  }

  // Still usable: the server's data is still chosen, the plan preview follows the controls, the worker answers and holds nothing.
  await expect(page.getByRole('radio', { name: /Local folder/ })).toBeChecked();
  await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeEnabled();
  const preview = page.getByTestId('cost-preview');
  const before = await preview.textContent();
  await page.getByLabel('Prune ratio (p)').fill('0.8');
  await expect(preview).not.toHaveText(before!);
  const diag = await page.evaluate(() => window.__lrpet!.diagnostics());
  expect(diag.numTensors).toBe(0);
});
