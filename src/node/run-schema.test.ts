import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../cli/main';
import { LrpetConfigSchema, parseRunConfig, type RunConfig } from '../engine/config';
import { parseRunFileText, RUN_FILE_FORMAT, runFileText } from '../engine/run-file';
import { runFileJsonSchemaText } from '../engine/run-file-schema';
import { presetById, toRunConfig } from '../ui/state/form';
import { RUN_SCHEMA_FILE } from '../../scripts/run-schema';
import { runPython, TRAINER_TESTS } from './torch-trainer';

/**
 * run.json moves between the page, `lrpet train --config` and the PyTorch trainer unchanged: the same schema
 * (generated from the settings table, committed where the trainer reads it), the same settings read on
 * every side, the same errors for a wrong field — and the jsonschema package agrees.
 */

let dir: string;

/** The lrpet command in this process (print-config and errors load nothing heavy): exit code and output. */
async function lrpet(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((stdout += String(s)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((stderr += String(s)), true));
  try {
    return { code: await main(args), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

type Checked = { trainer: { ok?: RunConfig; error?: string }; jsonschema: { ok?: true; error?: { path: string; message: string } } };

/** Every file as the trainer reads it and as the jsonschema package checks it (lrpet-torch/tests/probe.py, one python for all). */
function checkFiles(files: string[]): Record<string, Checked> {
  const r = runPython([join(TRAINER_TESTS, 'probe.py'), 'files', RUN_SCHEMA_FILE, ...files]);
  if (r.status !== 0) throw new Error(`probe.py files: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, Checked>;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lrpet-runfile-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('run.json’s schema file', () => {
  it('is what the generator makes from the settings table now (else: npm run schema)', () => {
    expect(readFileSync(RUN_SCHEMA_FILE, 'utf8'), 'lrpet-torch/lrpet_torch/run.schema.json is out of date: run `npm run schema`').toBe(runFileJsonSchemaText());
  });
});

describe('run.json round trip: page → file → lrpet train --config and the PyTorch trainer', () => {
  // The page's configs (its presets and a FLOPs target on VGG-16) and a short hand-written file.
  const pageConfigs: [string, RunConfig][] = [
    ['quick', parseRunConfig(toRunConfig(presetById('quick').form))],
    ['paper', parseRunConfig(toRunConfig(presetById('paper').form))],
    ['vgg-flops', parseRunConfig(toRunConfig({ ...presetById('paper').form, model: 'vgg16', compression: 'flops', flopsTarget: 0.6, epochs: 30, rankFloors: true }))],
  ];
  const bad: [string, Record<string, unknown>, string][] = [
    ['a misspelt setting', { lrpet: { prun: 0.5 } }, 'lrpet.prun'],
    ['a value out of bounds', { lrpet: { prune: 1.2 } }, 'lrpet.prune'],
    ['a wrong type', { batchSize: 'big' }, 'batchSize'],
    ['a schedule key', { schedule: { kind: 'step', milestones: [2], gamma: 0.1, every: 3 } }, 'schedule.every'],
  ];
  let good: string[];
  let short: string;
  let badFiles: string[];
  let checked: Record<string, Checked>;

  beforeAll(() => {
    good = pageConfigs.map(([name, config]) => {
      const file = join(dir, `${name}.json`);
      writeFileSync(file, runFileText(config));
      return file;
    });
    short = join(dir, 'short.json');
    writeFileSync(short, JSON.stringify({ format: RUN_FILE_FORMAT, model: 'vgg16', epochs: 8, lrpet: { prune: 0.8 } }));
    good.push(short);
    badFiles = bad.map(([, change], i) => {
      const file = join(dir, `bad-${i}.json`);
      writeFileSync(file, JSON.stringify({ format: RUN_FILE_FORMAT, model: 'resnet20', ...change }));
      return file;
    });
    checked = checkFiles([...good, ...badFiles]);
  });

  it('every side reads the same settings; the jsonschema package accepts the files', async () => {
    for (const file of good) {
      const page = parseRunFileText(readFileSync(file, 'utf8'), file);
      const cli = await lrpet(['train', '--config', file, '--print-config']);
      expect(cli.code, cli.stderr).toBe(0);
      expect(cli.stdout).toBe(runFileText(page));
      expect(checked[file].trainer.error, file).toBeUndefined();
      expect(checked[file].trainer.ok, file).toEqual(page);
      expect(checked[file].jsonschema, file).toEqual({ ok: true });
    }
    // The short file got the defaults, VGG-16's rank floors and the step schedule for its epochs.
    expect(checked[short].trainer.ok).toMatchObject({ epochs: 8, lrpet: { rankFloors: true, prune: 0.8 }, schedule: { kind: 'step', milestones: [4, 6] } });
    // The trainer's own command prints the same file.
    const t = runPython(['-m', 'lrpet_torch', 'train', '--config', short, '--print-config']);
    expect(t.status, t.stderr).toBe(0);
    expect(JSON.parse(t.stdout)).toEqual(JSON.parse(runFileText(parseRunFileText(readFileSync(short, 'utf8')))));
  });

  it('flags override the file, and --print-config prints what they make', async () => {
    const file = join(dir, 'base.json');
    writeFileSync(file, runFileText(pageConfigs[0][1]));
    const r = await lrpet(['train', '--config', file, '--epochs', '10', '--lr', '0.2', '--prune', '0.3', '--print-config']);
    expect(r.code, r.stderr).toBe(0);
    const c = parseRunFileText(r.stdout);
    expect(c).toMatchObject({ model: 'resnet8-tiny', epochs: 10, lr: 0.2, trainLimit: 512, lrpet: { prune: 0.3, interval: 4 } });
    // --epochs re-scales the schedule of its kind (the quick preset's constant one stays constant).
    expect(c.schedule).toEqual({ kind: 'constant' });
    const vgg = await lrpet(['train', '--model', 'vgg16', '--epochs', '4', '--no-rank-floors', '--print-config']);
    expect(parseRunFileText(vgg.stdout)).toMatchObject({ lrpet: { rankFloors: false }, schedule: { milestones: [2, 3] } });
    expect(parseRunFileText((await lrpet(['train', '--model', 'vgg16', '--print-config'])).stdout).lrpet.rankFloors).toBe(true);
    const both = await lrpet(['train', '--model', 'vgg16', '--rank-floors', '--no-rank-floors', '--print-config']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--rank-floors (or|and) --no-rank-floors/);
  });

  it('a wrong field: every side refuses the file with one line that names the field', async () => {
    for (const [i, [what, , field]] of bad.entries()) {
      const file = badFiles[i];
      const cli = await lrpet(['train', '--config', file, '--print-config']);
      expect(cli.code, what).not.toBe(0);
      expect(cli.stderr, what).toContain(`field '${field}'`);
      expect(cli.stderr.trim().split('\n'), what).toHaveLength(1);
      expect(checked[file].trainer.error, what).toContain(`field '${field}'`);
      expect(checked[file].jsonschema.error, `${what}: the jsonschema package accepts it`).toBeDefined();
      expect(field.startsWith(checked[file].jsonschema.error!.path), what).toBe(true);
    }
    // The trainer's command says it on one line and exits 2.
    const t = runPython(['-m', 'lrpet_torch', 'train', '--config', badFiles[0], '--data', dir, '--out', join(dir, 'never')]);
    expect(t.status).toBe(2);
    expect(t.stderr.trim().split('\n')).toEqual([`lrpet_torch: ${badFiles[0]}, field 'lrpet.prun': not a setting (the settings there: ${Object.keys(LrpetConfigSchema.shape).join(', ')})`]);
  });
});
