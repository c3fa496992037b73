import type * as tfType from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelName, RunConfigInput } from '../engine/config';
import type { CifarDataset } from '../engine/data/cifar';
import type { ModelGraph } from '../engine/models/graph';
import { compactGraph } from '../engine/models/split';
import { disposeParams } from '../engine/models/params';
import { planModel } from '../engine/plan';
import { Rng } from '../engine/rng';
import { syntheticDataset } from '../engine/testing/synthetic';
import { decodeSafetensors } from '../engine/weights/safetensors';
import { modulePaths, readStateDict } from '../engine/weights/pytorch-layout';
import { engineLogits, paramsFrom, runEngineFrom, writeCifarBin, type EngineParityRun } from './parity';
import { logitsParity, lossParity, spectrumParity, type LogitsParity, type LossParity, type Spectra, type SpectrumParity } from './parity-criteria';
import { readJson, requireTorch, runReference, type ReferenceConfig, type ReferenceLogits, type ReferenceResult, type ReferenceRun, type WrongLogits } from './torch-ref';
import { loadTf } from './webgpu-node';

/**
 * The PyTorch parity suite, run by torch-parity.test.ts (WebGPU) and torch-parity-cpu.test.ts (tfjs's
 * CPU backend).
 *
 * Step-for-step parity of the engine with an independent PyTorch reference (reference/pytorch):
 * both train from the same initial weights (written by the reference as a safetensors file with the
 * official names, given to the engine's run as `initWeights`, as `lrpet train --init` does) on the
 * same 16 images as one full batch without augmentation, 12 steps with a
 * projection every 4 (3 projections); their per-step losses, the spectra each projection saw and the
 * exported models' logits are judged with the criteria of parity-criteria.ts, measured against the
 * reference's own float32-vs-float64 difference in the same test. One case also judges the same
 * engine run against deliberately wrong references, which each criterion must reject.
 *
 * 16 images, not 32: the engine's and the reference's time grow with the batch (32 took twice as
 * long). The criterion stays as sharp where it matters most: up to the first projection the float32
 * noise is ~3e-7 with either batch; after it, training amplifies rounding chaotically, case by case
 * (noise at step 12: 4e-7…8e-3 with 16 images, 3e-6…1e-3 with 32), and the deliberately wrong
 * references stand out further (their loss differences are 190–680× the bound at 16 images, 27–110×
 * at 32).
 *
 * Fails, never skips, when torch or the backend is missing.
 */

/** Images in the full batch (a suite may ask for fewer). */
let N = 16;
const STEPS = 12;
const INTERVAL = 4;
const PRUNE = 0.5;

export interface ParityCase {
  name: string;
  model: ModelName;
  lr: number;
  weightDecay: number;
  energyTransfer: boolean;
  bnRectification: boolean;
  beta: number;
  /** Which parameters weight decay applies to (both sides); default 'all', the engine's default. */
  weightDecayScope?: 'all' | 'kernels';
  /** Also compare the projected and compact models' logits with PyTorch's. */
  logits?: boolean;
  /** Also judge deliberately wrong references, which each criterion (losses, spectra, logits) must reject. */
  deviations?: boolean;
}

export const CASES: ParityCase[] = [
  { name: 'resnet8-tiny, energy transfer, BN rectification', model: 'resnet8-tiny', lr: 0.05, weightDecay: 5e-3, energyTransfer: true, bnRectification: true, beta: 0, logits: true, deviations: true },
  { name: 'resnet8-tiny, no energy transfer, weight decay on kernels only', model: 'resnet8-tiny', lr: 0.05, weightDecay: 5e-3, weightDecayScope: 'kernels', energyTransfer: false, bnRectification: true, beta: 0 },
  { name: 'resnet8-tiny, no BN rectification, β = 0.3', model: 'resnet8-tiny', lr: 0.05, weightDecay: 5e-3, energyTransfer: true, bnRectification: false, beta: 0.3, logits: true },
  { name: 'vgg-tiny, energy transfer, BN rectification', model: 'vgg-tiny', lr: 0.05, weightDecay: 5e-3, energyTransfer: true, bnRectification: true, beta: 0, logits: true },
  { name: 'vgg-tiny, no energy transfer, no BN rectification, β = 0.3', model: 'vgg-tiny', lr: 0.05, weightDecay: 5e-3, energyTransfer: false, bnRectification: false, beta: 0.3 },
];

let tf: typeof tfType;
let dir: string;
let data: CifarDataset;
const initFiles = new Map<ModelName, string>();

/** Defines the suite's tests for the given cases, with the engine on `backend`. */
export function paritySuite(backend: 'webgpu' | 'cpu', cases: ParityCase[], images = 16): void {
  beforeAll(async () => {
    N = images;
    data = syntheticDataset(N, 1, 11); // the suite never looks at the test split: one image keeps each epoch's evaluation cheap
    requireTorch(); // fails with the install command when torch is missing
    tf = (await loadTf(backend)).tf;
    if (tf.getBackend() !== backend) throw new Error(`the engine runs on ${tf.getBackend()}, not ${backend}`);
    dir = mkdtempSync(join(tmpdir(), 'lrpet-parity-'));
    writeCifarBin(join(dir, 'train.bin'), data.train);
  }, 120_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const c of cases) {
    describe(`parity with PyTorch (engine on ${backend}): ${c.name}`, () => {
      it('per-step losses within float32 noise of the float64 reference', () => checkCase(c, backend), 600_000);
    });
  }
}

function initFile(model: ModelName): string {
  let path = initFiles.get(model);
  if (!path) {
    path = join(dir, `init-${model}.safetensors`);
    runReference(['init', '--model', model, '--seed', '5', '--out', path]);
    initFiles.set(model, path);
  }
  return path;
}

/** Float32 reference runs on the batch as given and in two other orders (see lossParity). */
function orders(): number[][] {
  const rng = new Rng(3);
  const out = [Array.from({ length: N }, (_, i) => i)];
  for (let k = 0; k < 2; k++) {
    const o = Array.from({ length: N }, (_, i) => i);
    rng.shuffle(o);
    out.push(o);
  }
  return out;
}

/**
 * The case's reference runs, one per entry of `variants` (overrides of the case's configuration; {}
 * is the right reference), trained in one reference process so that torch is imported once.
 */
function references(c: ParityCase, tag: string, variants: Partial<ReferenceConfig>[]): ReferenceResult[] {
  const cfg = (overrides: Partial<ReferenceConfig>): ReferenceConfig => ({
    model: c.model,
    steps: STEPS,
    lr: c.lr,
    momentum: 0.9,
    weight_decay: c.weightDecay,
    // As the engine by default (the official code's optimiser): weight decay on every parameter unless the
    // case says otherwise, a hard cut before the compact model after soft projections, full-rank layers left alone.
    wd_scope: c.weightDecayScope ?? 'all',
    final_hard_projection: true,
    skip_full_rank: true,
    prune: PRUNE,
    interval: INTERVAL,
    energy_transfer: c.energyTransfer,
    beta: c.beta,
    bn_rectification: c.bnRectification,
    float32_orders: orders(),
    ...overrides,
  });
  const cfgPath = join(dir, `${tag}.json`);
  const out = join(dir, `${tag}-result.json`);
  writeFileSync(cfgPath, JSON.stringify(variants.map(cfg)));
  runReference(['train', '--config', cfgPath, '--init', initFile(c.model), '--data', join(dir, 'train.bin'), '--out', out]);
  const results = readJson<ReferenceResult[]>(out);
  if (results.length !== variants.length) throw new Error(`the reference returned ${results.length} results for ${variants.length} configurations`);
  return results;
}

function engineConfig(c: ParityCase): RunConfigInput {
  return {
    model: c.model,
    epochs: STEPS, // one step per epoch: the batch is the whole training split
    batchSize: N,
    lr: c.lr,
    momentum: 0.9,
    weightDecay: c.weightDecay,
    weightDecayScope: c.weightDecayScope ?? 'all',
    schedule: { kind: 'constant' },
    augment: false,
    lrpet: { prune: PRUNE, interval: INTERVAL, energyTransfer: c.energyTransfer, beta: c.beta, bnRectification: c.bnRectification },
  };
}

const fmt = (x: number) => x.toExponential(1);
function summary(p: LossParity): string {
  return `max |engine − torch64| ${fmt(p.maxEngineDiff)}, max |torch32 − torch64| ${fmt(p.maxNoise)}, worst step ${p.worst.step}: ${fmt(p.worst.diff)} of ${fmt(p.worst.allowed)} allowed`;
}
const spectraSummary = (p: SpectrumParity) => p.projections.map((q) => `@${q.iteration} ${fmt(q.diff)} of ${fmt(q.allowed)}`).join(', ');
const logitsSummary = (p: LogitsParity) => `max |engine − torch64| ${fmt(p.diff)}, |torch32 − torch64| ${fmt(p.noise)}, largest |logit| ${p.scale.toFixed(2)}: ${fmt(p.diff)} of ${fmt(p.allowed)} allowed`;
const verdict = (ok: boolean) => (ok ? 'PASSED (bad)' : 'rejected');

/** What each projection saw, per layer (official module path) → singular values before cutting. */
const referenceSpectra = (r: ReferenceRun): Spectra[] => r.projections.map((p) => new Map(Object.entries(p.layers).map(([name, l]) => [name, l.sigma ?? []])));

async function checkCase(c: ParityCase, backend: string): Promise<void> {
  const graph = planModel(c.model, { prune: PRUNE, target: null, rankOverrides: {}, rankFloors: false, projectDense: false }).graph;
  const init = readFileSync(initFile(c.model));
  const tag = c.name.replace(/[^a-z0-9]+/gi, '-');
  const t0 = Date.now();
  const engine = await runEngineFrom(tf, engineConfig(c), data, init);
  const tEngine = Date.now() - t0;
  // The deliberately wrong references: each differs from the right one in one detail of the method.
  const wrong: [string, Partial<ReferenceConfig>][] = c.deviations
    ? [
        ['energy transfer off in the reference only', { energy_transfer: !c.energyTransfer }],
        ['BN ε = 1e-3 in the reference only', { bn_eps: 1e-3 }],
        ['weight decay on the other parameters too or not in the reference only', { wd_scope: (c.weightDecayScope ?? 'all') === 'all' ? 'kernels' : 'all' }],
      ]
    : [];
  const [ref, ...bad] = references(c, tag, [{}, ...wrong.map(([, overrides]) => overrides)]);
  const projections = engine.events.filter((e) => e.type === 'projection').map((e) => e.iteration);
  expect(projections).toEqual(ref.float64.projections.map((p) => p.iteration));
  expect(projections.length).toBeGreaterThanOrEqual(3);
  const parity = lossParity(engine.losses, ref.float64.losses, ref.float32.map((r) => r.losses));
  console.log(`${backend}, ${c.name}: ${summary(parity)} (engine ${(tEngine / 1000).toFixed(0)} s, torch ${ref.float64.seconds.toFixed(1)} s f64)`);
  expect(parity.ok, JSON.stringify(parity.steps, null, 1)).toBe(true);
  expect(engine.losses.at(-1)!).toBeLessThan(engine.losses[0] - 0.3); // it learned something

  // What each projection saw: the spectra of every layer.
  const paths = modulePaths(graph);
  const engineSpectra = engine.events
    .filter((e) => e.type === 'projection')
    .map((e) => new Map(e.layers.map((l) => [paths.get(l.name)!, l.sigmaBefore])));
  const spectra = spectrumParity(projections, engineSpectra, referenceSpectra(ref.float64), ref.float32.map(referenceSpectra));
  console.log(`  spectra (relative to σ1): ${spectraSummary(spectra)}`);
  expect(spectra.ok, JSON.stringify(spectra.projections)).toBe(true);

  // Each criterion must reject a reference that differs in one detail of the method: the same engine
  // run judged against the wrong references, on its losses and on its spectra.
  for (const [i, [what]] of wrong.entries()) {
    const p = lossParity(engine.losses, bad[i].float64.losses, bad[i].float32.map((r) => r.losses));
    const s = spectrumParity(projections, engineSpectra, referenceSpectra(bad[i].float64), bad[i].float32.map(referenceSpectra));
    console.log(`  deliberately wrong (${what}): losses ${summary(p)} → ${verdict(p.ok)}; spectra ${spectraSummary(s)} → ${verdict(s.ok)}`);
    expect(p.ok, `losses, ${what}`).toBe(false);
    expect(s.ok, `spectra, ${what}`).toBe(false);
  }

  if (c.logits) await compareLogits(c, graph, engine);
}

/** The deliberately wrong logits references (lrpet_reference.py WRONG_LOGITS) and what each stands for. */
const WRONG_LOGITS: [WrongLogits, string][] = [
  ['bn_eps', 'BN ε = 1e-3 in the reference only'],
  ['kernels_hw', 'conv kernels with height and width swapped in the reference only'],
];

/**
 * The exported projected model (official names, loaded with strict=True) and the compact model
 * (split names, loaded by reference/pytorch/lrpet_compact.py) compute in PyTorch what they compute
 * in the engine. With `deviations`, the same engine logits judged against deliberately wrong
 * references (computed by the same reference call) must be rejected.
 */
async function compareLogits(c: ParityCase, graph: ModelGraph, engine: EngineParityRun): Promise<void> {
  const compactEvent = engine.events.find((e) => e.type === 'compact');
  if (!compactEvent || !engine.exported.projected || !engine.exported.compact) throw new Error('the run exported no projected or no compact model');
  for (const [variant, g, bytes] of [
    ['dense', graph, engine.exported.projected],
    ['compact', compactGraph(graph, compactEvent.layers), engine.exported.compact],
  ] as const) {
    const file = join(dir, `${c.model}-${variant}.safetensors`);
    writeFileSync(file, bytes);
    const out = join(dir, `${c.model}-${variant}-logits.json`);
    const wrongArgs = c.deviations ? WRONG_LOGITS.flatMap(([name]) => ['--wrong', name]) : [];
    runReference(['logits', '--model', c.model, '--weights', file, '--data', join(dir, 'train.bin'), '--out', out, ...(variant === 'compact' ? ['--compact'] : []), ...wrongArgs]);
    const torch = readJson<ReferenceLogits>(out);
    expect(torch.metadata).toMatchObject({ 'lrpet.model': c.model, 'lrpet.variant': variant });
    // The engine's forward pass on the same exported weights, read back through the engine's own reader.
    const params = paramsFrom(tf, g, readStateDict(g, c.model, decodeSafetensors(bytes)));
    try {
      const mine = await engineLogits(tf, g, params, data.train);
      const p = logitsParity(mine, torch.float64, torch.float32);
      console.log(`  ${variant} logits: ${logitsSummary(p)}`);
      expect(p.ok, `${variant} logits`).toBe(true);
      if (!c.deviations) continue;
      for (const [name, what] of WRONG_LOGITS) {
        const bad = torch.wrong[name];
        if (!bad) throw new Error(`the reference computed no ${name} logits`);
        const q = logitsParity(mine, bad.float64, bad.float32);
        console.log(`    deliberately wrong (${what}): ${logitsSummary(q)} → ${verdict(q.ok)}`);
        expect(q.ok, `${variant} logits, ${what}`).toBe(false);
      }
    } finally {
      disposeParams(params);
    }
  }
}
