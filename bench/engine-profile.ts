/**
 * Where one training step of the engine spends its GPU time: the engine's own run loop (createRun, LRPET
 * on, no projection inside the profiled steps) trains a few warm-up steps, then step W+1 runs under
 * tf.profile; on WebGPU each kernel's time is the sum of its programs' timestamp queries (Dawn's
 * timestamp rounding is turned off here). Per model × kernel mode: the step's wall time unprofiled
 * (median of the warm-up steps after the first) and profiled, the summed GPU time, and the time by op
 * family (conv forward / backprop-input / backprop-filter, batch norm, …), by tfjs kernel and by WGSL
 * program (src/node/gpu-report/profile.ts). Writes JSON as it goes.
 *
 *   npx tsx bench/engine-profile.ts --models resnet8-tiny --batch 8 --warmup 2 --synthetic   # here, software WebGPU
 *   node .gpubundle/engine-profile.mjs --models resnet20,resnet56 --batch 128 --data $CIFAR10_DIR   # on the GPU
 *
 * Flags: --models resnet20,resnet56  --batch 128  --modes fast[,stock]  --warmup 4  --prune 0.57
 *        --data DIR | --synthetic  --out engine-profile.json
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { ModelName } from '../src/engine/config';
import type { CifarDataset } from '../src/engine/data/cifar';
import type { EngineEvent } from '../src/engine/events';
import { createRun } from '../src/engine/run/run';
import { syntheticDataset } from '../src/engine/testing/synthetic';
import { findDatasetDir, loadDatasetDir } from '../src/node/dataset';
import { summariseProfile, type ProfiledKernel, type ProfileSummary } from '../src/node/gpu-report/profile';
import { installNodeWebGPU, loadTf } from '../src/node/webgpu-node';
import { useKernels, type KernelMode } from '../src/webgpu-kernels/index';

interface Row {
  model: string;
  batch: number;
  mode: string;
  /** Median stepMs of the warm-up steps after the first (the first compiles the kernels). */
  stepMs: number | null;
  /** The profiled step's stepMs: each kernel then runs in its own timed pass, so this is slower. */
  profiledStepMs: number | null;
  profile: ProfileSummary | null;
  error?: string;
}

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: 'resnet20,resnet56' },
    batch: { type: 'string', default: '128' },
    modes: { type: 'string', default: 'fast' },
    warmup: { type: 'string', default: '4' },
    prune: { type: 'string', default: '0.57' },
    data: { type: 'string' },
    synthetic: { type: 'boolean', default: false },
    out: { type: 'string', default: 'engine-profile.json' },
  },
});
const models = values.models.split(',').filter(Boolean) as ModelName[];
const batch = Number(values.batch);
const warmup = Math.max(2, Number(values.warmup));
const prune = Number(values.prune);
const modes = values.modes.split(',').filter(Boolean) as KernelMode[];
for (const m of modes) if (m !== 'fast' && m !== 'stock') throw new Error(`--modes takes fast and/or stock, got '${m}'`);

const median = (xs: number[]) => {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : null;
};

async function profileOne(tf: Awaited<ReturnType<typeof loadTf>>['tf'], data: CifarDataset, model: ModelName, mode: KernelMode): Promise<Row> {
  useKernels(mode);
  const stepMs: number[] = [];
  let profiledStepMs: number | null = null;
  let endProfiled: (() => void) | null = null;
  let profiling: Promise<{ kernels: unknown[] }> | null = null;
  let failure: string | null = null;
  const run = createRun({
    tf,
    data,
    // Enough images for the steps; no projection, test or compact model inside the profiled window.
    config: { model, batchSize: batch, epochs: 1, trainLimit: batch * (warmup + 2), testLimit: batch, buildCompact: false, gradNormEvery: 0, lrpet: { enabled: true, prune, interval: 100_000 } },
    onEvent: (e: EngineEvent) => {
      if (e.type === 'error') failure = `${e.code}: ${e.message}`;
      if (e.type !== 'step') return;
      if (e.iteration <= warmup) stepMs.push(e.stepMs);
      if (e.iteration === warmup) {
        // Starts recording before the next step's first kernel; the next step's event ends it.
        profiling = tf.profile(() => new Promise<void>((done) => (endProfiled = done))) as unknown as Promise<{ kernels: unknown[] }>;
      } else if (e.iteration === warmup + 1) {
        profiledStepMs = e.stepMs;
        (endProfiled as (() => void) | null)?.();
        run.stop();
      }
    },
  });
  try {
    const end = await run.start();
    if (end.ended === 'error') failure = end.message ?? 'the run ended with an error';
    const info = profiling ? await (profiling as Promise<{ kernels: unknown[] }>) : null;
    return {
      model,
      batch,
      mode,
      stepMs: median(stepMs.slice(1)),
      profiledStepMs,
      profile: info ? summariseProfile(info.kernels as ProfiledKernel[]) : null,
      ...(failure !== null && { error: failure }),
    };
  } finally {
    run.dispose();
    useKernels('stock');
  }
}

async function main(): Promise<void> {
  // Dawn rounds timestamps by default (a side-channel guard in browsers): per-kernel times need them exact.
  process.env.LRPET_DAWN_FLAGS ??= 'disable-dawn-features=timestamp_quantization';
  const { tf, note } = await loadTf('webgpu', 'stock');
  const info = await installNodeWebGPU();
  const device = (tf.backend() as unknown as { device?: GPUDevice }).device;
  const timestampQuery = device?.features.has('timestamp-query') ?? false;
  const data = values.synthetic ? syntheticDataset(batch * (warmup + 2), batch) : loadDatasetDir(findDatasetDir(values.data));
  const rows: Row[] = [];
  const meta = { date: new Date().toISOString(), tfjs: tf.version.tfjs, note, adapter: info.adapter ?? null, timestampQuery, dawnFlags: process.env.LRPET_DAWN_FLAGS, data: data.source ?? null, warmup, prune };
  const save = () => writeFileSync(values.out, JSON.stringify({ meta, rows }, null, 2));
  console.log(`# one engine training step under tf.profile: ${note}; timestamp-query ${timestampQuery ? 'on' : 'NOT AVAILABLE (every GPU time reads 0)'}`);
  for (const model of models) {
    for (const mode of modes) {
      let row: Row;
      try {
        row = await profileOne(tf, data, model, mode);
      } catch (e) {
        row = { model, batch, mode, stepMs: null, profiledStepMs: null, profile: null, error: e instanceof Error ? e.message : String(e) };
      }
      rows.push(row);
      save();
      const p = row.profile;
      const f = (x: number | null) => (x === null ? '-' : x.toFixed(1));
      console.log(`\n${model} b${batch} ${mode}: step ${f(row.stepMs)} ms (profiled ${f(row.profiledStepMs)} ms), GPU time ${p ? p.gpuMs.toFixed(1) : '-'} ms in ${p?.kernelCalls ?? '-'} kernel calls / ${p?.dispatches ?? '-'} dispatches${row.error ? `; ERROR ${row.error}` : ''}`);
      for (const k of p?.byFamily ?? []) console.log(`  ${k.name.padEnd(24)} ${k.ms.toFixed(2).padStart(9)} ms ${(k.share * 100).toFixed(1).padStart(5)}%  (${k.calls} calls)`);
      for (const k of (p?.byKernel ?? []).slice(0, 8)) console.log(`    ${k.name.padEnd(26)} ${k.ms.toFixed(2).padStart(9)} ms ${(k.share * 100).toFixed(1).padStart(5)}%  (${k.calls} calls)`);
    }
  }
  console.log(`\nwrote ${values.out}`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  },
);
