import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompactEvent, EngineEvent } from '../engine/events';
import { parseRunFileText } from '../engine/run-file';
import { syntheticDataset } from '../engine/testing/synthetic';
import { parseRunFile } from '../runs/file';
import { readEvents, startPython, writeCifarDir, type Finished } from './torch-trainer';

/**
 * `lrpet_torch reproduce cifar10` as a dry run: the authors' three CIFAR-10 settings for 4 epochs on 8 images
 * (batch 8, lr 0.02: VGG-16 diverges at the paper's 0.1 on so few), the window of the authors' number being the
 * last epoch. Two commands train the settings side by side into one folder (VGG-16, the ResNets); a third
 * finds them finished and writes the table. The table's MACs and parameters, counted from each compact
 * file's shapes, are the paper's; its accuracies are the runs' own; and a full 400-epoch log of the largest
 * settings would still import in the page.
 */

const SETTINGS = ['resnet56-p0.57', 'resnet110-p0.65', 'vgg16-floors'];
let dir: string;
let data: string;
let last: Finished;

const reproduce = (...more: string[]) =>
  startPython(['-m', 'lrpet_torch', 'reproduce', 'cifar10', '--data', data, '--out', join(dir, 'table'), '--epochs', '4', '--train-limit', '8', '--test-limit', '8', '--batch', '8', '--lr', '0.02', ...more]).done.then((r) => {
    if (r.status !== 0) throw new Error(`reproduce ${more.join(' ')} exited with ${r.status ?? r.signal}: ${r.stderr.slice(-3000)}`);
    return r;
  });

interface Row {
  setting: string;
  macs: number;
  params: number;
  compactAccuracy: number;
  authorsAccuracy: number;
  authorsEpoch: number;
  paperTop1: number;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lrpet-reproduce-'));
  data = writeCifarDir(join(dir, 'data'), syntheticDataset(8, 8, 13));
  await Promise.all([reproduce('--only', 'vgg16-floors'), reproduce('--only', 'resnet56-p0.57,resnet110-p0.65')]);
  last = await reproduce();
}, 600_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('reproduce cifar10 (a 4-epoch dry run)', () => {
  it('trains the three settings with the authors’ recipe, and the table’s costs are the paper’s, from the compact files’ shapes', () => {
    const table = JSON.parse(readFileSync(join(dir, 'table', 'table.json'), 'utf8')) as { rows: Row[] };
    expect(table.rows.map((r) => r.setting)).toEqual(SETTINGS);
    const M = (x: number) => Math.round(x / 1e4) / 100;
    // The paper gives parameters cut to two decimals (0.3945M → 0.39M, 1.626M → 1.62M).
    const cut = (x: number) => Math.floor(x / 1e4) / 100;
    expect(table.rows.map((r) => [M(r.macs), cut(r.params)])).toEqual([
      [56.06, 0.39],
      [93.78, 0.65],
      [81.29, 1.62],
    ]);
    expect(table.rows.map((r) => r.paperTop1)).toEqual([93.27, 93.61, 93.52]);
    const md = readFileSync(join(dir, 'table', 'table.md'), 'utf8');
    expect(md).toContain('| vgg16-floors | 81.29M (81.29M) | 1.626M (1.62M) |');
    expect(last.stdout).toContain('| resnet56-p0.57 | 56.06M (56.06M) | 0.394M (0.39M) |');
    const files = Object.fromEntries(SETTINGS.map((s) => [s, parseRunFileText(readFileSync(join(dir, 'table', `${s}.run.json`), 'utf8'))]));
    expect(files['resnet56-p0.57']).toMatchObject({ model: 'resnet56', epochs: 4, batchSize: 8, lrpet: { prune: 0.57, rankFloors: false } });
    expect(files['resnet110-p0.65'].lrpet.prune).toBe(0.65);
    expect(files['vgg16-floors']).toMatchObject({ model: 'vgg16', lrpet: { prune: 0.99, rankFloors: true }, weightDecayScope: 'all', momentum: 0.9, weightDecay: 1e-4 });
  });

  it('reports each run’s final compact accuracy and the authors’ number from the best checkpoint of the window (the last epoch)', () => {
    const table = JSON.parse(readFileSync(join(dir, 'table', 'table.json'), 'utf8')) as { rows: Row[] };
    for (const row of table.rows) {
      const events = readEvents(join(dir, 'table', row.setting));
      const compact = events.find((e): e is CompactEvent => e.type === 'compact')!;
      expect(row.compactAccuracy).toBeCloseTo(compact.testAccuracy * 100, 10);
      const authors = JSON.parse(readFileSync(join(dir, 'table', row.setting, 'authors.json'), 'utf8'));
      expect(authors.epochs.map((e: { epoch: number }) => e.epoch)).toEqual([3]);
      expect(row.authorsEpoch).toBe(3);
      expect(row.authorsAccuracy).toBeCloseTo(authors.accuracy * 100, 10);
      expect(authors.accuracy).toBeGreaterThanOrEqual(0);
      expect(authors.accuracy).toBeLessThanOrEqual(1);
      expect(events.filter((e) => e.type === 'projection')).toHaveLength(4);
    }
  });

  it('a 400-epoch log of the largest settings stays within what the page imports', () => {
    for (const setting of ['resnet110-p0.65', 'vgg16-floors']) {
      const bytes = readFileSync(join(dir, 'table', setting, 'events.jsonl'));
      const parsed = parseRunFile(new Uint8Array(bytes), 'events.jsonl');
      expect(parsed.status).toBe('finished');
      const lines = bytes.toString('utf8').trim().split('\n');
      const size = (type: EngineEvent['type']) => Math.max(...lines.filter((l) => l.includes(`"type":"${type}"`)).map((l) => Buffer.byteLength(l) + 1));
      // CIFAR-10 at batch 128: 391 steps an epoch; a projection, a test and gradient norms every 10 steps and around each projection.
      const full = 400 * (391 * size('step') + size('projection') + size('epoch') + 42 * size('gradNorms') + 3 * size('activity'));
      console.log(`${setting}: a 400-epoch log ≈ ${(full / 2 ** 20).toFixed(0)} MB, its longest line ${(size('projection') / 1024).toFixed(0)} KB`);
      expect(full).toBeLessThan(512 * 2 ** 20);
      expect(size('projection')).toBeLessThan(16 * 2 ** 20);
    }
  });
});
