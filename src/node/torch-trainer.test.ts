import type * as tfType from '@tensorflow/tfjs';
import 'fake-indexeddb/auto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRunConfig, type RunConfig, type RunConfigInput } from '../engine/config';
import { EpochOrder, fillBatch, stepsPerEpoch } from '../engine/data/batcher';
import { IMAGE_BYTES, type CifarDataset } from '../engine/data/cifar';
import type { CompactEvent, EngineEvent, RunStartEvent } from '../engine/events';
import { buildModel } from '../engine/models/builders';
import { disposeParams, initParams } from '../engine/models/params';
import { planModel } from '../engine/plan';
import { createRun } from '../engine/run/run';
import { deriveSeed, Rng } from '../engine/rng';
import { runFileText } from '../engine/run-file';
import { syntheticDataset } from '../engine/testing/synthetic';
import { modelFromSafetensors } from '../engine/weights/model-files';
import { decodeModelWeights, readWeightValues } from '../engine/weights/model-weights';
import { decodeSafetensors, encodeSafetensors, toFloat32 } from '../engine/weights/safetensors';
import { parseRunFile, importRun } from '../runs/file';
import { RunStore } from '../runs/store';
import { engineLogits, paramsFrom, writeCifarBin } from './parity';
import { lossParity, maxAbsDiff, spectrumParity } from './parity-criteria';
import { readEvents, readTrace, startPython, stepLosses, traceImages, TRAINER_TESTS, writeCifarDir, type Finished } from './torch-trainer';
import { loadTf } from './webgpu-node';

/**
 * The PyTorch trainer (lrpet-torch) against the engine with real mini-batches: 32 images, batch 8, shuffled,
 * cropped and flipped, 2 epochs with a projection at the end of each, both starting from the seed's
 * initialisation. The trainer draws the same image indices and crop/flip values at every step (its input
 * batches equal the engine's, bit for bit), and the engine's losses and spectra stay within the parity
 * criterion of the trainer's float64 run (parity.ts: 10 × the float32 noise, measured here as the spread
 * of the trainer's float32 runs with each batch in another order). The trainer's files are the engine's:
 * events that the page imports, state_dicts with the official names (checked against an own
 * implementation of the authors' split), a compact file the engine reads. SIGTERM mid-epoch writes a
 * checkpoint and --resume ends where an uninterrupted run ends, bit for bit.
 */

const SEED = 3;
const CONFIG: RunConfigInput = {
  model: 'resnet8-tiny',
  epochs: 2,
  batchSize: 8,
  lr: 0.05,
  momentum: 0.9,
  weightDecay: 5e-3,
  seed: SEED,
  augment: true,
  lrpet: { prune: 0.5 },
};

let dir: string;
let data: CifarDataset;
let dataDir: string;
let tf: typeof tfType;
let config: RunConfig;
let runFile: string;
let engine: { losses: number[]; events: EngineEvent[]; projected: Uint8Array; compact: Uint8Array };
const out = (name: string) => join(dir, name);
const trainArgs = (name: string, ...more: string[]) => ['-m', 'lrpet_torch', 'train', '--config', runFile, '--data', dataDir, '--out', out(name), ...more];

/** A python command in the background (several at once use both cores); rejects unless it exits `expect`. */
function background(args: string[], env: Record<string, string> = {}, expect = 0): Promise<Finished> {
  return startPython(args, env).done.then((r) => {
    if (r.status !== expect) throw new Error(`python ${args.slice(0, 4).join(' ')} exited with ${r.status ?? r.signal}: ${r.stderr.slice(-3000)}`);
    return r;
  });
}

async function runEngine(): Promise<typeof engine> {
  const events: EngineEvent[] = [];
  const run = createRun({ tf, config, data, onEvent: (e) => events.push(e) });
  try {
    const end = await run.start();
    if (end.ended !== 'finished') throw new Error(`the engine run ${end.ended}: ${end.message}`);
    const files = await run.exportSafetensors();
    return { losses: stepLosses(events), events, projected: files.projected!, compact: files.compact! };
  } finally {
    run.dispose();
  }
}

/** A run held after step 5, stopped with SIGTERM, then resumed with --resume. */
async function stopAndResume(): Promise<{ stopped: Finished }> {
  const held = startPython(trainArgs('stopped'), { LRPET_TORCH_HOLD_AT: '0:5' });
  const pidFile = join(out('stopped'), 'hold-0.pid');
  await waitFor(() => existsSync(pidFile), held.done);
  process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGTERM');
  const stopped = await held.done;
  await background(trainArgs('stopped', '--resume'));
  return { stopped };
}

const PLAN_CASES = [
  { model: 'resnet56', lrpet: { prune: 0.57 } },
  { model: 'resnet110', lrpet: { prune: 0.65 } },
  { model: 'vgg16', lrpet: { prune: 0.99, rankFloors: true } },
  { model: 'vgg16', lrpet: { target: { metric: 'macs', reduction: 0.6 } } },
  { model: 'resnet20', lrpet: { target: { metric: 'params', reduction: 0.5 }, rankOverrides: { 'stem/conv': 3 } } },
  { model: 'resnet14-narrow', lrpet: { prune: 0.3, projectDense: true } },
  { model: 'vgg-tiny', lrpet: { enabled: false } },
].map((c) => ({ model: c.model as RunConfig['model'], lrpet: parseRunConfig(c).lrpet }));

let stopped: Finished;
let plans: Finished;
let authors: Record<string, unknown>[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lrpet-trainer-'));
  data = syntheticDataset(32, 16, 11);
  dataDir = writeCifarDir(out('data'), data);
  config = parseRunConfig(CONFIG);
  runFile = out('run.json');
  writeFileSync(runFile, runFileText(config));
  writeFileSync(out('plans.json'), JSON.stringify(PLAN_CASES));
  writeCifarBin(out('images.bin'), data.test);
  tf = (await loadTf('webgpu')).tf;
  const torch = Promise.all([
    background(trainArgs('f64', '--dtype', 'float64', '--trace', out('trace64'))),
    background(trainArgs('f32', '--trace', out('trace32'))),
    background(trainArgs('p1', '--permute-batch', '1')),
    background(trainArgs('p2', '--permute-batch', '2')),
    stopAndResume(),
    background([join(TRAINER_TESTS, 'probe.py'), 'init', String(SEED), out('init'), 'resnet8-tiny', 'vgg-tiny']),
    background([join(TRAINER_TESTS, 'probe.py'), 'plans', out('plans.json')]),
  ]);
  engine = await runEngine();
  const done = await torch;
  stopped = done[4].stopped;
  plans = done[6];
  writeFileSync(out('engine-projected.safetensors'), engine.projected);
  writeFileSync(out('engine-compact.safetensors'), engine.compact);
  writeFileSync(out('layers.json'), JSON.stringify((engine.events[0] as RunStartEvent).layers));
  const split = await background([join(TRAINER_TESTS, 'authors_split.py'), out('layers.json'), out('images.bin'),
    out('engine-projected.safetensors'), out('engine-compact.safetensors'), join(out('f32'), 'projected.safetensors'), join(out('f32'), 'compact.safetensors')]);
  authors = JSON.parse(split.stdout);
}, 600_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the PyTorch trainer: the engine’s data, initialisation and plan', () => {
  it('draws the same image indices and crop/flip values at every step, and builds the same input batches', () => {
    const trace = readTrace(out('trace32'), 0);
    const steps = stepsPerEpoch(data.train.count, config.batchSize);
    expect(trace).toHaveLength(config.epochs * steps);
    // The engine's data path as the run takes it (run.ts): one seeded order, reshuffled between epochs; one augmentation stream.
    const order = new EpochOrder(data.train.count, new Rng(deriveSeed(SEED, 'order')));
    const aug = new Rng(deriveSeed(SEED, 'augment'));
    const buffer = new Float32Array(config.batchSize * IMAGE_BYTES);
    for (let epoch = 0, i = 0; epoch < config.epochs; epoch++) {
      for (let s = 0; s < steps; s++, i++) {
        const indices = order.order.slice(s * config.batchSize, (s + 1) * config.batchSize);
        expect(trace[i].indices, `step ${i + 1}`).toEqual([...indices]);
        const draws = new Rng(aug.state);
        const want = [...indices].map(() => ({ dy: draws.int(9) - 4, dx: draws.int(9) - 4, flip: draws.next() < 0.5 }));
        expect(trace[i].dy).toEqual(want.map((d) => d.dy));
        expect(trace[i].dx).toEqual(want.map((d) => d.dx));
        expect(trace[i].flip).toEqual(want.map((d) => d.flip));
        fillBatch(data.train, indices, buffer, aug);
        const mine = traceImages(trace[i]); // NCHW
        let differ = 0;
        for (let b = 0; b < indices.length; b++)
          for (let c = 0; c < 3; c++)
            for (let p = 0; p < 1024; p++) if (mine[((b * 3 + c) * 1024) + p] !== buffer[b * IMAGE_BYTES + p * 3 + c]) differ++;
        expect(differ, `step ${i + 1}: input values that differ from the engine's`).toBe(0);
      }
      if (epoch + 1 < config.epochs) order.reshuffle();
    }
    // The float64 run saw the same images (in float64).
    expect(readTrace(out('trace64'), 0).map((t) => t.indices)).toEqual(trace.map((t) => t.indices));
  });

  it('initialises as the engine does (float32 values equal, or one ulp apart where JavaScript’s log/cos round differently)', async () => {
    for (const model of ['resnet8-tiny', 'vgg-tiny'] as const) {
      const file = out(`init-${model}.safetensors`);
      const graph = buildModel(model);
      const theirs = decodeModelWeights(new Uint8Array(readFileSync(file)), graph, model);
      const params = initParams(tf, graph, deriveSeed(SEED, 'init'));
      const mine = await readWeightValues(params);
      disposeParams(params);
      let values = 0;
      let unequal = 0;
      for (const [key, v] of mine) {
        const t = theirs.get(key)!;
        for (let i = 0; i < v.length; i++) {
          values++;
          if (v[i] === t[i]) continue;
          unequal++;
          expect(Math.abs(v[i] - t[i]), `${model} ${key}[${i}]`).toBeLessThanOrEqual(Math.abs(v[i]) * 2 ** -23);
        }
      }
      expect(values).toBeGreaterThan(1000);
      expect(unequal / values, model).toBeLessThan(1e-3);
    }
  });

  it('plans ranks, MACs and parameters as the engine does', () => {
    const theirs = JSON.parse(plans.stdout) as object[];
    PLAN_CASES.forEach((c, i) => {
      const { graph: _graph, ...mine } = planModel(c.model, c.lrpet);
      expect(theirs[i], c.model).toEqual(mine);
    });
  });
});

describe('the PyTorch trainer against the engine, real mini-batches', () => {
  it('the engine’s losses and spectra are within the parity criterion of the trainer’s float64 run', () => {
    const t64 = readEvents(out('f64'));
    const noise = ['f32', 'p1', 'p2'].map((n) => readEvents(out(n)));
    const projections = (events: EngineEvent[]) => events.filter((e) => e.type === 'projection');
    expect(projections(t64).map((e) => e.iteration)).toEqual(projections(engine.events).map((e) => e.iteration));
    expect(projections(t64).map((e) => e.iteration)).toEqual([4, 8]);
    const parity = lossParity(engine.losses, stepLosses(t64), noise.map(stepLosses));
    console.log(`trainer parity: max |engine − trainer64| ${parity.maxEngineDiff.toExponential(1)}, float32 noise ${parity.maxNoise.toExponential(1)}, worst step ${parity.worst.step}`);
    expect(parity.ok, JSON.stringify(parity.steps, null, 1)).toBe(true);
    const spectra = (events: EngineEvent[]) => projections(events).map((e) => new Map(e.layers.map((l) => [l.name, l.sigmaBefore])));
    const s = spectrumParity([4, 8], spectra(engine.events), spectra(t64), noise.map(spectra));
    expect(s.ok, JSON.stringify(s.projections)).toBe(true);
  });

  it('its events.jsonl passes the engine’s event schemas and imports as a run, with the engine’s plan and costs', async () => {
    const bytes = new Uint8Array(readFileSync(join(out('f32'), 'events.jsonl')));
    const parsed = parseRunFile(bytes, 'events.jsonl');
    expect(parsed.status).toBe('finished');
    const types = new Set(parsed.events.map((e) => e.type));
    for (const t of ['runStart', 'state', 'step', 'epoch', 'projection', 'gradNorms', 'compact', 'activity']) expect(types, t).toContain(t);
    const start = parsed.events[0] as RunStartEvent;
    const engineStart = engine.events[0] as RunStartEvent;
    expect(start.config).toEqual(engineStart.config);
    expect(start.layers).toEqual(engineStart.layers);
    expect(start.backend).toBe('PyTorch · CPU');
    const compact = (events: EngineEvent[]) => events.find((e) => e.type === 'compact')!;
    const { time: _t1, testAccuracy: _a1, testLoss: _l1, denseTestAccuracy: _d1, ...mine } = compact(parsed.events) as Record<string, unknown>;
    const { time: _t2, testAccuracy: _a2, testLoss: _l2, denseTestAccuracy: _d2, ...theirs } = compact(engine.events) as Record<string, unknown>;
    expect(mine).toEqual(theirs);
    const store = await RunStore.open();
    const run = await importRun(store, parsed);
    expect(run.status).toBe('finished');
    expect(await store.getEvents(run.id)).toHaveLength(parsed.events.length);
  });

  it('SIGTERM mid-epoch writes a checkpoint; --resume ends with the uninterrupted run’s weights, no step missing or repeated', () => {
    expect(stopped.status, stopped.stderr).toBe(143);
    const events = readEvents(out('stopped'));
    expect(events.filter((e) => e.type === 'runStart').map((e) => (e as RunStartEvent).resumedFrom)).toEqual([null, 5]);
    expect(events.flatMap((e) => (e.type === 'step' ? [e.iteration] : []))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(stepLosses(events)).toEqual(stepLosses(readEvents(out('f32'))));
    for (const f of ['projected.safetensors', 'compact.safetensors']) {
      expect(Buffer.compare(readFileSync(join(out('stopped'), f)), readFileSync(join(out('f32'), f))), f).toBe(0);
    }
  });
});

describe('the trainer’s and the engine’s state_dicts: the official names', () => {
  it.each([
    ['engine', 0],
    ['trainer', 1],
  ])('the %s’s compact.safetensors is the authors’ split of its projected.safetensors: keys, shapes, strict load, logits', (_who, i) => {
    const report = authors[i] as { keys: string[]; splitKeys: string[]; scale: number; authorsVsFile: number; legacyVsFile: number; authorsVsProjected: number };
    expect(report).toMatchObject({ model: 'resnet8-tiny', variant: 'compact', missing: [], unexpected: [], shapeMismatches: [] });
    expect(report.splitKeys).toContain('layer2.0.conv1.C.weight');
    expect(report.splitKeys).toContain('conv1.N.weight');
    expect(report.keys.filter((k) => /\.[01]\.weight$/.test(k))).toEqual([]);
    // float32 factors against float64 ones: float32 rounding of logits of this size
    expect(report.authorsVsFile).toBeLessThan(1e-4 * Math.max(1, report.scale));
    expect(report.legacyVsFile).toBeLessThan(1e-9);
    expect(report.authorsVsProjected).toBeLessThan(1e-4 * Math.max(1, report.scale));
  });

  it('the engine reads the trainer’s compact file (and one with the names before, .0/.1): it computes what the projected model computes', async () => {
    const projected = modelFromSafetensors(new Uint8Array(readFileSync(join(out('f32'), 'projected.safetensors'))), 'dense', 'projected');
    const compactBytes = new Uint8Array(readFileSync(join(out('f32'), 'compact.safetensors')));
    const compact = modelFromSafetensors(compactBytes, 'compact', 'compact');
    const file = decodeSafetensors(compactBytes);
    const legacyBytes = encodeSafetensors(
      file.tensors.map((t) => (t.dtype === 'F32' ? { name: t.name.replace('.C.', '.0.').replace('.N.', '.1.'), dtype: 'F32' as const, shape: t.shape, data: toFloat32(t) } : { name: t.name, dtype: 'I64' as const, shape: t.shape, data: new BigInt64Array(new Uint8Array(t.bytes).buffer) })),
      file.metadata,
    );
    const legacy = modelFromSafetensors(legacyBytes, 'compact', 'legacy');
    expect(compact.split.map((l) => l.rank)).toEqual([4, 4, 4, 8, 8, 16, 16]);
    expect([...legacy.values.keys()]).toEqual([...compact.values.keys()]);
    for (const [k, v] of compact.values) expect(legacy.values.get(k), k).toEqual(v);
    const logits = async (m: typeof compact) => {
      const params = paramsFrom(tf, m.graph, m.values);
      try {
        return await engineLogits(tf, m.graph, params, data.test);
      } finally {
        disposeParams(params);
      }
    };
    const [a, b] = [await logits(projected), await logits(compact)];
    const scale = Math.max(...a.flat().map(Math.abs));
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-4 * Math.max(1, scale));
  });

  it('bench-infer and evaluate work on the trainer’s output folder', () => {
    const cli = (args: string[]) => spawnSync(process.execPath, [join(__dirname, '../../bin/lrpet.mjs'), ...args], { encoding: 'utf8', timeout: 120_000 });
    const bench = cli(['bench-infer', '--model-dir', out('f32'), '--backend', 'webgpu', '--batch', '2', '--warmup', '0', '--iterations', '1', '--json']);
    expect(bench.status, bench.stderr).toBe(0);
    const body = JSON.parse(bench.stdout);
    const c = readEvents(out('f32')).find((e): e is CompactEvent => e.type === 'compact')!;
    expect(body.macRatio).toBeCloseTo(c.macsDense / c.macsCompact, 12);
    const ev = cli(['evaluate', '--model-dir', join(out('f32'), 'compact.safetensors'), '--data', dataDir, '--backend', 'webgpu']);
    expect(ev.status, ev.stderr).toBe(0);
    expect(JSON.parse(ev.stdout).testAccuracy).toBeCloseTo(c.testAccuracy, 6);
  });
});

async function waitFor(ready: () => boolean, done: Promise<Finished>, timeoutMs = 120_000): Promise<void> {
  let ended: Finished | null = null;
  void done.then((r) => (ended = r));
  const t0 = Date.now();
  while (!ready()) {
    if (ended) throw new Error(`the run ended before it was held: ${(ended as Finished).stderr.slice(-2000)}`);
    if (Date.now() - t0 > timeoutMs) throw new Error('the run was not held in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
