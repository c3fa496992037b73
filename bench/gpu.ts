/**
 * WebGPU training benchmark, stock tfjs kernels vs ours (src/webgpu-kernels):
 *  1. per-kernel GFLOP/s for the conv shapes of ResNet-20/56 and VGG-16 (CIFAR): forward
 *     (not replaced: tfjs's own), backprop-input and backprop-filter, stock vs fast;
 *  2. whole-step training images/s (bench/gpu-model.ts: the benchmark's own model and SGD step)
 *     per model × batch × kernel mode;
 *  3. optionally (--steps N) a memory check: tf.memory().numTensors and GPU bytes over N steps.
 * Prints tables and writes everything as JSON (--out, default bench-gpu.json).
 *
 *   npm run bench:gpu -- --quick                   # tiny run (software WebGPU on these machines)
 *   node .gpubundle/gpu-bench.mjs --steps 1000      # on the lent GPU (scripts/gpu/device-run.sh)
 *
 * Flags: --models resnet20,resnet56,vgg16 (kernel shapes and steps)  --step-models (steps only)  --batches 128,512  --modes stock,fast[,fast:Conv2DBackpropFilter+Sum]
 *        --kernel-batch 128  --target-ms 250  --max-reps 50  --warmup 3  --iters 20  --max-seconds 15
 *        --steps 0  --mem-model resnet20  --mem-batch 128  --mem-mode fast  --mem-max-seconds ∞
 *        --skip-kernels  --skip-steps
 *        --tuning '{"backpropFilter":{"targetThreads":524288}}'  (useKernels' KernelTuning for our kernels)
 *        --quick  --out bench-gpu.json
 * --quick = kernels of all three models at batch 2 (one timed call each), steps of resnet20 at
 * batch 4 (1 warm-up + 2 timed): a few minutes on a 2-core machine with software WebGPU.
 */
import { writeFileSync } from 'node:fs';
import type * as tfType from '@tensorflow/tfjs';
import { installNodeWebGPU, loadTf } from '../src/node/webgpu-node';
import { FAST_KERNEL_NAMES, kernelStats, useKernels, type KernelTuning } from '../src/webgpu-kernels/index';
import { BENCH_MODELS, buildModel, convLayers, makeTrainer, type BenchModelName, type ConvLayer } from './gpu-model';

type Tf = typeof tfType;

interface Args {
  models: BenchModelName[];
  /** Models of the whole-step part (default: --models). */
  stepModels: BenchModelName[];
  batches: number[];
  modes: string[];
  kernelBatch: number;
  targetMs: number;
  maxReps: number;
  warmup: number;
  iters: number;
  maxSeconds: number;
  steps: number;
  memModel: BenchModelName;
  memBatch: number;
  memMode: string;
  memMaxSeconds: number;
  skipKernels: boolean;
  skipSteps: boolean;
  quick: boolean;
  /** Launch heuristics of our kernels (useKernels' tuning option); {} = their defaults. */
  tuning: KernelTuning;
  out: string;
}

function parseArgs(argv: string[]): Args {
  const quick = argv.includes('--quick');
  const a: Args = {
    models: [...BENCH_MODELS],
    stepModels: quick ? ['resnet20'] : [],
    batches: quick ? [4] : [128, 512],
    modes: ['stock', 'fast'],
    kernelBatch: quick ? 2 : 128,
    targetMs: quick ? 0 : 250,
    maxReps: quick ? 1 : 50,
    warmup: quick ? 1 : 3,
    iters: quick ? 2 : 20,
    maxSeconds: quick ? 5 : 15,
    steps: 0,
    memModel: 'resnet20',
    memBatch: 0,
    memMode: 'fast',
    memMaxSeconds: Infinity,
    skipKernels: false,
    skipSteps: false,
    quick,
    tuning: {},
    out: 'bench-gpu.json',
  };
  const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
  const num = (flag: string, s: string | undefined) => {
    const v = Number(s);
    if (!Number.isFinite(v)) throw new Error(`${flag} needs a number, got '${s}'`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${f} needs a value`);
      return v;
    };
    switch (f) {
      case '--quick':
        break;
      case '--models':
        a.models = list(next()) as BenchModelName[];
        for (const m of a.models) if (!BENCH_MODELS.includes(m)) throw new Error(`unknown model '${m}' (have ${BENCH_MODELS.join(', ')})`);
        break;
      case '--step-models':
        a.stepModels = list(next()) as BenchModelName[];
        for (const m of a.stepModels) if (!BENCH_MODELS.includes(m)) throw new Error(`unknown model '${m}' (have ${BENCH_MODELS.join(', ')})`);
        break;
      case '--batches':
        a.batches = list(next()).map((s) => num(f, s));
        break;
      case '--modes':
        a.modes = list(next());
        break;
      case '--kernel-batch':
        a.kernelBatch = num(f, next());
        break;
      case '--target-ms':
        a.targetMs = num(f, next());
        break;
      case '--max-reps':
        a.maxReps = num(f, next());
        break;
      case '--warmup':
        a.warmup = num(f, next());
        break;
      case '--iters':
        a.iters = num(f, next());
        break;
      case '--max-seconds':
        a.maxSeconds = num(f, next());
        break;
      case '--steps':
        a.steps = num(f, next());
        break;
      case '--mem-model':
        a.memModel = next() as BenchModelName;
        break;
      case '--mem-batch':
        a.memBatch = num(f, next());
        break;
      case '--mem-mode':
        a.memMode = next();
        break;
      case '--mem-max-seconds':
        a.memMaxSeconds = num(f, next());
        break;
      case '--skip-kernels':
        a.skipKernels = true;
        break;
      case '--skip-steps':
        a.skipSteps = true;
        break;
      case '--tuning':
        try {
          a.tuning = JSON.parse(next()) as KernelTuning;
        } catch (e) {
          throw new Error(`--tuning needs a JSON object: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
        }
        break;
      case '--out':
        a.out = next();
        break;
      case '--help':
      case '-h':
        console.log('see the header of bench/gpu.ts for the flags');
        process.exit(0);
        break;
      default:
        throw new Error(`unknown flag '${f}'`);
    }
  }
  if (!a.memBatch) a.memBatch = a.batches[0];
  // --quick trains only resnet20 unless models were named; otherwise steps use --models.
  if (!argv.includes('--step-models') && (!quick || argv.includes('--models'))) a.stepModels = a.models;
  for (const m of [...a.modes, a.memMode]) parseMode(m);
  return a;
}

/** 'stock' | 'fast' | 'fast:Name+Name' → useKernels arguments. */
function parseMode(mode: string): { mode: 'stock' | 'fast'; only?: string[] } {
  if (mode === 'stock' || mode === 'fast') return { mode };
  const m = /^fast:(.+)$/.exec(mode);
  if (!m) throw new Error(`unknown mode '${mode}' (stock, fast or fast:${FAST_KERNEL_NAMES.join('+')})`);
  const only = m[1].split('+');
  for (const k of only) if (!FAST_KERNEL_NAMES.includes(k)) throw new Error(`unknown kernel '${k}' in mode '${mode}'`);
  return { mode: 'fast', only };
}

function applyMode(mode: string, tuning: KernelTuning): void {
  const p = parseMode(mode);
  useKernels(p.mode, { only: p.only, tuning });
}

const now = () => performance.now();

/** Waits for everything queued before `t` by reading back one element of it. */
async function sync(tf: Tf, t: tfType.Tensor): Promise<void> {
  const one = tf.slice(t, new Array<number>(t.rank).fill(0), new Array<number>(t.rank).fill(1));
  await one.data();
  one.dispose();
}

interface Timing {
  ms: number;
  gflops: number;
  reps: number;
}

async function timeKernel(tf: Tf, run: () => tfType.Tensor, flops: number, args: Args): Promise<Timing> {
  let out = run(); // compile + first run
  await sync(tf, out);
  out.dispose();
  let reps = 1;
  if (args.targetMs > 0) {
    const t0 = now();
    out = run();
    await sync(tf, out);
    out.dispose();
    const single = Math.max(now() - t0, 1e-3);
    reps = Math.max(1, Math.min(args.maxReps, Math.round(args.targetMs / single)));
  }
  const t0 = now();
  for (let r = 0; r < reps; r++) {
    out = run();
    if (r < reps - 1) out.dispose();
  }
  await sync(tf, out);
  const ms = (now() - t0) / reps;
  out.dispose();
  return { ms, gflops: flops / (ms * 1e6), reps };
}

interface KernelRow {
  shape: string;
  layer: ConvLayer;
  batch: number;
  /** Number of layers with this shape, per model. */
  count: Partial<Record<BenchModelName, number>>;
  flops: number;
  forward: Timing;
  backpropInput: Record<string, Timing>;
  backpropFilter: Record<string, Timing>;
}

function distinctLayers(models: BenchModelName[]): { layer: ConvLayer; count: Partial<Record<BenchModelName, number>> }[] {
  const map = new Map<string, { layer: ConvLayer; count: Partial<Record<BenchModelName, number>> }>();
  for (const m of models) {
    for (const l of convLayers(m)) {
      const key = JSON.stringify(l);
      const e = map.get(key) ?? { layer: l, count: {} };
      e.count[m] = (e.count[m] ?? 0) + 1;
      map.set(key, e);
    }
  }
  return [...map.values()];
}

const shapeLabel = (l: ConvLayer) => `${l.h}x${l.w} ${l.ci}->${l.co} k${l.k} s${l.stride}`;

async function benchKernels(tf: Tf, args: Args, log: (s: string) => void): Promise<KernelRow[]> {
  const rows: KernelRow[] = [];
  const B = args.kernelBatch;
  const kernelModes = args.modes.filter((m) => m === 'stock' || m === 'fast');
  for (const { layer: l, count } of distinctLayers(args.models)) {
    const xs: [number, number, number, number] = [B, l.h, l.w, l.ci];
    const fs: [number, number, number, number] = [l.k, l.k, l.ci, l.co];
    const info = tf.backend_util.computeConv2DInfo(xs, fs, l.stride, 1, l.pad);
    const dys: [number, number, number, number] = [B, info.outHeight, info.outWidth, l.co];
    const flops = 2 * B * info.outHeight * info.outWidth * l.k * l.k * l.ci * l.co;
    const x = tf.randomNormal(xs) as tfType.Tensor4D;
    const w = tf.randomNormal(fs) as tfType.Tensor4D;
    const dy = tf.randomNormal(dys) as tfType.Tensor4D;
    const run = (name: string, inputs: Record<string, tfType.Tensor>, attrs: object) => () =>
      tf.engine().runKernel(name, inputs, attrs as never) as tfType.Tensor;
    const fwd = run('Conv2D', { x, filter: w }, { strides: l.stride, pad: l.pad, dataFormat: 'NHWC', dilations: 1 });
    const bpi = run('Conv2DBackpropInput', { dy, filter: w }, { inputShape: xs, strides: l.stride, pad: l.pad, dataFormat: 'NHWC' });
    const bpf = run('Conv2DBackpropFilter', { x, dy }, { strides: l.stride, pad: l.pad, dataFormat: 'NHWC', filterShape: fs });
    useKernels('stock');
    const row: KernelRow = { shape: shapeLabel(l), layer: l, batch: B, count, flops, forward: await timeKernel(tf, fwd, flops, args), backpropInput: {}, backpropFilter: {} };
    for (const m of kernelModes) {
      applyMode(m, args.tuning);
      row.backpropInput[m] = await timeKernel(tf, bpi, flops, args);
      row.backpropFilter[m] = await timeKernel(tf, bpf, flops, args);
    }
    useKernels('stock');
    tf.dispose([x, w, dy]);
    rows.push(row);
    const f = (t?: Timing) => (t ? t.gflops.toFixed(t.gflops < 10 ? 2 : 0) : '-');
    log(
      `  ${row.shape.padEnd(22)} fwd ${f(row.forward)}  bpInput ${f(row.backpropInput.stock)} -> ${f(row.backpropInput.fast)}  bpFilter ${f(row.backpropFilter.stock)} -> ${f(row.backpropFilter.fast)} GFLOP/s`,
    );
  }
  return rows;
}

interface StepRow {
  model: BenchModelName;
  batch: number;
  mode: string;
  steps: number;
  msPerStep: number;
  imgPerSec: number;
  finalLoss: number;
}

interface MemSample {
  step: number;
  numTensors: number;
  numBytes: number;
  numBytesInGPU: number | null;
  numBytesAllocatedInGPU: number | null;
}

function memSample(tf: Tf, step: number): MemSample {
  const m = tf.memory() as tfType.MemoryInfo & { numBytesInGPU?: number; numBytesAllocatedInGPU?: number };
  return { step, numTensors: m.numTensors, numBytes: m.numBytes, numBytesInGPU: m.numBytesInGPU ?? null, numBytesAllocatedInGPU: m.numBytesAllocatedInGPU ?? null };
}

/**
 * Runs `n` steps keeping at most one step in flight (reads the loss of step i after queuing step
 * i+1), so the device never idles while JS records the next step. Stops early after maxSeconds.
 */
async function runSteps(
  trainer: ReturnType<typeof makeTrainer>,
  n: number,
  maxSeconds: number,
  onSynced?: (step: number) => void,
): Promise<{ steps: number; ms: number; loss: number }> {
  const t0 = now();
  let pending: tfType.Scalar | null = null;
  let steps = 0;
  let loss = NaN;
  while (steps < n) {
    const l = trainer.step();
    steps++;
    if (pending) {
      loss = (await pending.data())[0];
      pending.dispose();
    }
    pending = l;
    if (onSynced || (now() - t0) / 1000 > maxSeconds) {
      loss = (await pending.data())[0];
      pending.dispose();
      pending = null;
      onSynced?.(steps);
      if ((now() - t0) / 1000 > maxSeconds) break;
    }
  }
  if (pending) {
    loss = (await pending.data())[0];
    pending.dispose();
  }
  return { steps, ms: now() - t0, loss };
}

async function benchSteps(tf: Tf, args: Args, log: (s: string) => void, onRow?: (rows: StepRow[]) => void): Promise<StepRow[]> {
  const rows: StepRow[] = [];
  for (const model of args.stepModels) {
    for (const batch of args.batches) {
      for (const mode of args.modes) {
        applyMode(mode, args.tuning);
        const m = buildModel(tf, model);
        const tr = makeTrainer(tf, m, batch);
        try {
          await runSteps(tr, args.warmup, Infinity);
          const r = await runSteps(tr, args.iters, args.maxSeconds);
          const msPerStep = r.ms / r.steps;
          const row: StepRow = { model, batch, mode, steps: r.steps, msPerStep, imgPerSec: (batch * 1000) / msPerStep, finalLoss: r.loss };
          rows.push(row);
          log(`  ${model.padEnd(9)} b${String(batch).padEnd(4)} ${mode.padEnd(6)} ${row.imgPerSec.toFixed(1).padStart(9)} img/s  (${msPerStep.toFixed(1)} ms/step over ${r.steps} steps, loss ${r.loss.toFixed(3)})`);
        } catch (e) {
          log(`  ${model} b${batch} ${mode}: FAILED ${e instanceof Error ? e.message : String(e)}`);
          rows.push({ model, batch, mode, steps: 0, msPerStep: NaN, imgPerSec: NaN, finalLoss: NaN });
        } finally {
          tr.dispose();
          m.dispose();
          useKernels('stock');
          onRow?.(rows);
        }
      }
    }
  }
  return rows;
}

interface MemoryReport {
  model: BenchModelName;
  batch: number;
  mode: string;
  steps: number;
  samples: MemSample[];
  tensorsFlat: boolean;
  gpuBytesFlat: boolean;
  flat: boolean;
  imgPerSec: number;
}

async function memoryCheck(tf: Tf, args: Args, log: (s: string) => void): Promise<MemoryReport> {
  applyMode(args.memMode, args.tuning);
  const m = buildModel(tf, args.memModel);
  const tr = makeTrainer(tf, m, args.memBatch);
  const samples: MemSample[] = [];
  const every = Math.max(1, Math.floor(args.steps / 20));
  try {
    await runSteps(tr, 3, Infinity);
    samples.push(memSample(tf, 0));
    let last = 0;
    const r = await runSteps(tr, args.steps, args.memMaxSeconds, (s) => {
      last = s;
      if (s % every === 0 || s === args.steps) samples.push(memSample(tf, s));
    });
    if (samples[samples.length - 1].step !== last) samples.push(memSample(tf, last));
    if (r.steps < args.steps) log(`  stopped after ${r.steps} of ${args.steps} steps (--mem-max-seconds ${args.memMaxSeconds})`);
    // Flat: the same number of live tensors at every sample, and the GPU bytes in use / allocated
    // by tfjs's buffer pool no larger at the end than at the first sample after warm-up.
    const t = samples.map((s) => s.numTensors);
    const tensorsFlat = t.every((v) => v === t[0]);
    const used = samples.map((s) => s.numBytesInGPU ?? s.numBytes);
    const alloc = samples.map((s) => s.numBytesAllocatedInGPU ?? s.numBytes);
    const gpuBytesFlat = used[used.length - 1] <= used[0] && alloc[alloc.length - 1] <= Math.max(...alloc.slice(0, 2));
    const rep: MemoryReport = {
      model: args.memModel,
      batch: args.memBatch,
      mode: args.memMode,
      steps: r.steps,
      samples,
      tensorsFlat,
      gpuBytesFlat,
      flat: tensorsFlat && gpuBytesFlat,
      imgPerSec: (args.memBatch * r.steps * 1000) / r.ms,
    };
    const mb = (b: number | null) => (b == null ? '-' : (b / 2 ** 20).toFixed(1));
    log(`  step  numTensors  MiB(tensors)  MiB(GPU in use)  MiB(GPU allocated)`);
    for (const s of samples) log(`  ${String(s.step).padStart(5)} ${String(s.numTensors).padStart(10)} ${mb(s.numBytes).padStart(13)} ${mb(s.numBytesInGPU).padStart(16)} ${mb(s.numBytesAllocatedInGPU).padStart(19)}`);
    log(`  ${rep.flat ? 'FLAT' : 'NOT FLAT'}: tensors ${tensorsFlat ? 'flat' : 'growing'}, GPU bytes ${gpuBytesFlat ? 'flat' : 'growing'} over ${r.steps} steps (${rep.imgPerSec.toFixed(1)} img/s)`);
    return rep;
  } finally {
    tr.dispose();
    m.dispose();
    useKernels('stock');
  }
}

function table(headers: string[], rows: string[][]): string {
  const w = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  return [line(headers), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const lines: string[] = [];
  const log = (s: string) => {
    lines.push(s);
    console.log(s);
  };
  const { tf, note } = await loadTf('webgpu', 'stock'); // each part below picks its kernels
  useKernels('fast', { tuning: args.tuning }); // a bad --tuning fails here, before any timing
  useKernels('stock');
  const info = await installNodeWebGPU();
  const software = info.adapter?.software ?? false;
  log(`# WebGPU training benchmark (tfjs ${tf.version.tfjs}), ${note}`);
  if (software) log('# SOFTWARE ADAPTER (no GPU): every number below is CPU emulation of WebGPU, not GPU performance.');
  log(`# args: ${JSON.stringify(args)}`);

  let kernels: KernelRow[] = [];
  let steps: StepRow[] = [];
  let memory: MemoryReport | null = null;
  const meta = { date: new Date().toISOString(), tfjs: tf.version.tfjs, backend: tf.getBackend(), note, adapter: info.adapter ?? null, software, args };
  // Written after every part, so a run cut short by a timeout still leaves what it measured.
  const save = () => writeFileSync(args.out, JSON.stringify({ meta, kernels, steps, memory, kernelStats: kernelStats(), log: lines }, null, 2));
  if (!args.skipKernels) {
    log(`\n## Per-kernel GFLOP/s at batch ${args.kernelBatch} (2·N·OH·OW·KH·KW·CI·CO per call; forward = tfjs's Conv2D, not replaced)`);
    kernels = await benchKernels(tf, args, log);
    save();
  }
  if (!args.skipSteps) {
    log('\n## Whole training step (bench/gpu-model.ts), images/s');
    steps = await benchSteps(tf, args, log, (rows) => {
      steps = rows;
      save();
    });
  }
  if (args.steps > 0) {
    log(`\n## Memory over ${args.steps} steps: ${args.memModel} b${args.memBatch} ${args.memMode}`);
    memory = await memoryCheck(tf, args, log);
    save();
  }

  const g = (t?: Timing) => (t ? t.gflops.toFixed(t.gflops < 10 ? 2 : 1) : '-');
  const x = (a?: Timing, b?: Timing) => (a && b ? `${(b.gflops / a.gflops).toFixed(1)}x` : '-');
  if (kernels.length) {
    log(`\n## Per-kernel GFLOP/s, batch ${args.kernelBatch}${software ? ' (SOFTWARE WebGPU)' : ''}`);
    log(
      table(
        ['shape (HxW Ci->Co k s)', 'layers', 'fwd', 'bpIn stock', 'bpIn fast', 'x', 'bpFilt stock', 'bpFilt fast', 'x'],
        kernels.map((r) => [
          r.shape,
          Object.entries(r.count)
            .map(([m, c]) => `${m.replace('resnet', 'r').replace('vgg16', 'v16')}:${c}`)
            .join(' '),
          g(r.forward),
          g(r.backpropInput.stock),
          g(r.backpropInput.fast),
          x(r.backpropInput.stock, r.backpropInput.fast),
          g(r.backpropFilter.stock),
          g(r.backpropFilter.fast),
          x(r.backpropFilter.stock, r.backpropFilter.fast),
        ]),
      ),
    );
  }
  if (steps.length) {
    log(`\n## Training images/s${software ? ' (SOFTWARE WebGPU)' : ''}`);
    const modes = args.modes;
    const keys = [...new Set(steps.map((s) => `${s.model} b${s.batch}`))];
    log(
      table(
        ['model batch', ...modes, ...(modes.includes('stock') && modes.includes('fast') ? ['fast/stock'] : [])],
        keys.map((k) => {
          const by = (m: string) => steps.find((s) => `${s.model} b${s.batch}` === k && s.mode === m);
          const cells = modes.map((m) => {
            const v = by(m)?.imgPerSec;
            return v == null || Number.isNaN(v) ? 'FAIL' : v.toFixed(1);
          });
          const st = by('stock')?.imgPerSec;
          const fa = by('fast')?.imgPerSec;
          return [k, ...cells, ...(modes.includes('stock') && modes.includes('fast') ? [st && fa ? `${(fa / st).toFixed(2)}x` : '-'] : [])];
        }),
      ),
    );
  }
  if (memory) log(`\nmemory: ${memory.flat ? 'FLAT' : 'NOT FLAT'} over ${memory.steps} steps (${memory.model} b${memory.batch} ${memory.mode}); tensors ${memory.samples[0].numTensors} -> ${memory.samples[memory.samples.length - 1].numTensors}`);

  save();
  console.log(`\nwrote ${args.out}`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  },
);
