/**
 * The report of a device run (bundled as .gpubundle/gpu-report.mjs; runs here with `npx tsx` too).
 *
 *   report.ts --work DIR --out DIR
 *       Reads the stage outputs in DIR (names below) and writes OUT/results.json (all of them merged, the
 *       engine logs summarised) and OUT/summary.md (the same as Markdown tables). Missing parts are
 *       reported as such; run it after every stage.
 *   report.ts --summarise-log FILE
 *       One `lrpet train --log` file → its summary as JSON on stdout (images/s, projection, test and
 *       compact-build times, tensors and GPU bytes at the start and the end).
 *   report.ts --plan-accuracy --work DIR --model resnet20 --budget S --train N --test N --max-epochs E
 *             [--speed-model M] [--epochs N] [--prune P --batch B --schedule K (recorded)]
 *       How many epochs of the accuracy run fit S seconds of the engine, from the speeds of
 *       DIR/engine-M.jsonl (M: --speed-model, default --model); prints the number and writes
 *       DIR/accuracy-plan.json. --epochs N sets the number instead (the plan says so).
 *
 * DIR's files: env.json, stages.jsonl, engine-<model>.jsonl, engine-profile.json, bench-gpu.json,
 * bench-gpu-extra.json, bench-gpu-memory.json, pytorch-bench.json, accuracy-plan.json,
 * accuracy-engine.jsonl, accuracy-torch.json.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseEngineLog, summariseEngineLog, type EngineLogSummary } from '../../src/node/gpu-report/engine-log';
import { buildResults, planAccuracy, renderMarkdown, type AccuracyPlan, type ReportInputs, type StageRecord } from '../../src/node/gpu-report/report';

const { values } = parseArgs({
  options: {
    work: { type: 'string' },
    out: { type: 'string' },
    'summarise-log': { type: 'string' },
    'plan-accuracy': { type: 'boolean', default: false },
    model: { type: 'string', default: 'resnet20' },
    'speed-model': { type: 'string' },
    epochs: { type: 'string' },
    prune: { type: 'string', default: '0.5' },
    batch: { type: 'string', default: '128' },
    schedule: { type: 'string', default: 'step' },
    budget: { type: 'string' },
    train: { type: 'string', default: '20000' },
    test: { type: 'string', default: '10000' },
    'max-epochs': { type: 'string', default: '30' },
  },
});

const problems: string[] = [];

function readJson<T>(path: string): T | null {
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (e) {
    problems.push(`${path}: ${(e as Error).message}`);
    return null;
  }
}

function readLog(path: string): EngineLogSummary | null {
  if (!existsSync(path)) return null;
  try {
    return summariseEngineLog(parseEngineLog(readFileSync(path, 'utf8')));
  } catch (e) {
    problems.push(`${path}: ${(e as Error).message}`);
    return null;
  }
}

function readStages(path: string): StageRecord[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as StageRecord];
      } catch (e) {
        problems.push(`${path}: ${(e as Error).message}`);
        return [];
      }
    });
}

function report(work: string, out: string): void {
  const engine: Record<string, EngineLogSummary> = {};
  for (const name of readdirSync(work).sort()) {
    const m = /^engine-(.+)\.jsonl$/.exec(name);
    if (!m) continue;
    const s = readLog(join(work, name));
    if (s) engine[m[1]] = s;
  }
  const inputs: ReportInputs = {
    env: readJson(join(work, 'env.json')),
    stages: readStages(join(work, 'stages.jsonl')),
    engine,
    profile: readJson(join(work, 'engine-profile.json')),
    bench: readJson(join(work, 'bench-gpu.json')),
    benchExtra: readJson(join(work, 'bench-gpu-extra.json')),
    benchMemory: readJson(join(work, 'bench-gpu-memory.json')),
    torch: readJson(join(work, 'pytorch-bench.json')),
    accuracyPlan: readJson(join(work, 'accuracy-plan.json')),
    accuracyEngine: readLog(join(work, 'accuracy-engine.jsonl')),
    accuracyTorch: readJson(join(work, 'accuracy-torch.json')),
    problems,
  };
  // The benchmark JSON carries its whole printed log: the device log has it already.
  for (const b of [inputs.bench, inputs.benchExtra, inputs.benchMemory]) if (b) delete (b as { log?: unknown }).log;
  const results = buildResults(inputs);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'results.json'), `${JSON.stringify(results, null, 1)}\n`);
  writeFileSync(join(out, 'summary.md'), renderMarkdown(results));
}

function plan(work: string): void {
  if (values.budget === undefined) throw new Error('--plan-accuracy needs --budget SECONDS');
  const o = { budgetSeconds: Number(values.budget), trainImages: Number(values.train), testImages: Number(values.test), maxEpochs: Number(values['max-epochs']) };
  const planned = planAccuracy(readLog(join(work, `engine-${values['speed-model'] ?? values.model}.jsonl`)), o);
  const p = values.epochs === undefined ? planned : { epochs: Number(values.epochs), reason: `${values.epochs} epochs set by hand (the planner said: ${planned.reason})` };
  const full: AccuracyPlan = { ...p, model: values.model, prune: Number(values.prune), trainImages: o.trainImages, testImages: o.testImages, batch: Number(values.batch), schedule: values.schedule };
  writeFileSync(join(work, 'accuracy-plan.json'), `${JSON.stringify(full, null, 2)}\n`);
  process.stderr.write(`accuracy plan: ${p.reason}\n`);
  process.stdout.write(`${p.epochs}\n`);
}

try {
  if (values['summarise-log']) process.stdout.write(`${JSON.stringify(summariseEngineLog(parseEngineLog(readFileSync(values['summarise-log'], 'utf8'))), null, 2)}\n`);
  else if (values['plan-accuracy'] && values.work) plan(values.work);
  else if (values.work && values.out) report(values.work, values.out);
  else throw new Error('usage: report --work DIR --out DIR | --summarise-log FILE | --plan-accuracy --work DIR --budget S (see the header of scripts/gpu/report.ts)');
  for (const p of problems) process.stderr.write(`report: ${p}\n`);
} catch (e) {
  process.stderr.write(`report: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
}
