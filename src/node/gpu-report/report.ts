import type { EngineLogSummary } from './engine-log';
import type { ProfileSummary } from './profile';

// The results of one scripts/gpu/device-run.sh call: every stage's output merged into one JSON object
// (results.json) and written up as Markdown (summary.md). Inputs are the stages' own JSON files, read
// defensively: a stage that failed or was cut short leaves a file missing or partial, and the report
// says so instead of failing.

/** bench/gpu.ts: one kernel timing. */
export interface KernelTiming {
  ms: number;
  gflops: number;
  reps?: number;
}

export interface KernelRow {
  shape: string;
  batch: number;
  count?: Record<string, number>;
  forward: KernelTiming;
  backpropInput: Record<string, KernelTiming>;
  backpropFilter: Record<string, KernelTiming>;
}

export interface BenchStepRow {
  model: string;
  batch: number;
  mode: string;
  steps: number;
  imgPerSec: number | null;
}

export interface BenchJson {
  meta?: { tfjs?: string; note?: string; adapter?: { vendor?: string; description?: string } | null; software?: boolean };
  kernels?: KernelRow[];
  steps?: BenchStepRow[];
  memory?: { model: string; batch: number; mode: string; steps: number; flat: boolean; tensorsFlat: boolean; gpuBytesFlat: boolean; samples: { step: number; numTensors: number; numBytesInGPU: number | null }[] } | null;
}

export interface TorchBenchJson {
  meta?: { torch?: string; cuda?: string | null; cudnn?: number | null; device?: string; tf32?: boolean; channels_last?: boolean };
  steps?: { model: string; batch: number; steps: number; imgPerSec: number }[];
}

export interface ProfileJson {
  meta?: { timestampQuery?: boolean; note?: string; warmup?: number };
  rows?: { model: string; batch: number; mode: string; stepMs: number | null; profiledStepMs: number | null; profile: ProfileSummary | null; error?: string }[];
}

export interface TorchAccuracyJson {
  meta?: { torch?: string; device?: string; tf32?: boolean };
  config?: Record<string, unknown>;
  epochs?: { epoch: number; lr: number; trainLoss: number; trainAccuracy: number; testAccuracy: number; seconds: number }[];
  final?: { testAccuracy: number; projections: number; iterations: number };
  stoppedEarly?: boolean;
  seconds?: number;
}

export interface AccuracyPlan {
  epochs: number;
  reason: string;
  model?: string;
  prune?: number;
  trainImages?: number;
  testImages?: number;
  batch?: number;
  schedule?: string;
}

export interface StageRecord {
  stage: string;
  /** 'ok' | 'failed' | 'timeout' | 'skipped' */
  status: string;
  exit?: number | null;
  seconds?: number;
  note?: string;
}

/** What the report is made from; every part may be missing. */
export interface ReportInputs {
  env?: Record<string, unknown> | null;
  stages?: StageRecord[];
  engine?: Record<string, EngineLogSummary>;
  profile?: ProfileJson | null;
  bench?: BenchJson | null;
  benchExtra?: BenchJson | null;
  benchMemory?: BenchJson | null;
  torch?: TorchBenchJson | null;
  accuracyPlan?: AccuracyPlan | null;
  accuracyEngine?: EngineLogSummary | null;
  accuracyTorch?: TorchAccuracyJson | null;
  /** Files that were expected but missing or unreadable, with why. */
  problems?: string[];
}

export interface SideBySideRow {
  model: string;
  batch: number;
  /** lrpet train, fast kernels: batch / median step time, and with projections and tests included. */
  engine: number | null;
  engineWall: number | null;
  /** bench/gpu-model.ts's own model and step. */
  benchStock: number | null;
  benchFast: number | null;
  torch: number | null;
}

export interface Results extends ReportInputs {
  generatedAt: string;
  sideBySide: SideBySideRow[];
}

const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

export function buildResults(inputs: ReportInputs, generatedAt = new Date().toISOString()): Results {
  const keys: [string, number][] = [];
  const addKey = (model: string, batch: number | null) => {
    if (batch !== null && !keys.some(([m, b]) => m === model && b === batch)) keys.push([model, batch]);
  };
  for (const s of Object.values(inputs.engine ?? {})) if (s.model) addKey(s.model, s.batch);
  const benchSteps = [...(inputs.bench?.steps ?? []), ...(inputs.benchExtra?.steps ?? [])];
  for (const s of benchSteps) addKey(s.model, s.batch);
  for (const s of inputs.torch?.steps ?? []) addKey(s.model, s.batch);
  const sideBySide = keys.map(([model, batch]): SideBySideRow => {
    const engine = Object.values(inputs.engine ?? {}).find((s) => s.model === model && s.batch === batch);
    const bench = (mode: string) => num(benchSteps.find((s) => s.model === model && s.batch === batch && s.mode === mode)?.imgPerSec);
    return {
      model,
      batch,
      engine: num(engine?.steps.imagesPerSec),
      engineWall: num(engine?.steps.wallImagesPerSec),
      benchStock: bench('stock'),
      benchFast: bench('fast'),
      torch: num(inputs.torch?.steps?.find((s) => s.model === model && s.batch === batch)?.imgPerSec),
    };
  });
  return { generatedAt, ...inputs, sideBySide };
}

/**
 * How many epochs of the accuracy run fit `budgetSeconds` of the engine, from the speeds its ResNet-20
 * b128 run measured: each epoch trains `trainImages` and tests `testImages`, and the end adds two tests
 * (the projected and the compact model), building the compact model, compiling and loading. 0 epochs
 * when not even one fits (the stage is then skipped, and says why).
 */
export function planAccuracy(
  speed: EngineLogSummary | null | undefined,
  o: { budgetSeconds: number; trainImages: number; testImages: number; maxEpochs: number; startupSeconds?: number },
): { epochs: number; reason: string } {
  const ips = num(speed?.steps.imagesPerSec);
  const evalIps = num(speed?.evaluation.imagesPerSec);
  if (!speed || ips === null || evalIps === null) return { epochs: 0, reason: 'no engine speed measured (the ResNet-20 engine stage failed or timed no test)' };
  const test = o.testImages / evalIps;
  const projection = (num(speed.projections.ms.median) ?? 0) / 1000;
  const epoch = o.trainImages / ips + test + projection;
  const fixed = 2 * test + (num(speed.compactBuildMs) ?? 0) / 1000 + (num(speed.steps.firstStepMs) ?? 0) / 1000 + (o.startupSeconds ?? 8);
  // 10% margin: the speed run's steps were timed on another batch of the same data.
  const fits = Math.floor((o.budgetSeconds / 1.1 - fixed) / epoch);
  const epochs = Math.max(0, Math.min(o.maxEpochs, fits));
  const why = `one epoch ≈ ${epoch.toFixed(1)} s (${ips.toFixed(0)} img/s training, ${evalIps.toFixed(0)} img/s testing), fixed ≈ ${fixed.toFixed(1)} s, budget ${o.budgetSeconds} s`;
  return { epochs, reason: epochs > 0 ? `${epochs} epoch${epochs > 1 ? 's' : ''}: ${why}` : `not even one epoch fits: ${why}` };
}

// ---------------------------------------------------------------------------------------------------
// Markdown

const dash = '–';
const fmt = (x: number | null | undefined, digits = 0): string => {
  if (x === null || x === undefined || !Number.isFinite(x)) return dash;
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
};
/** 3 significant digits, thousands separated. */
const sig = (x: number | null | undefined): string => {
  if (x === null || x === undefined || !Number.isFinite(x)) return dash;
  const a = Math.abs(x);
  return fmt(x, a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3);
};
const pct = (x: number | null | undefined, digits = 1) => (x === null || x === undefined || !Number.isFinite(x) ? dash : `${(x * 100).toFixed(digits)}%`);
const mib = (b: number | null | undefined) => (b === null || b === undefined || !Number.isFinite(b) ? dash : (b / 2 ** 20).toFixed(1));
const ratio = (a: number | null, b: number | null) => (a !== null && b !== null && b > 0 ? `${(a / b).toFixed(a / b >= 10 ? 0 : 1)}×` : dash);

function table(head: string[], rows: string[][], align?: ('l' | 'r')[]): string[] {
  const a = align ?? head.map((_, i) => (i === 0 ? 'l' : 'r'));
  const cell = (c: string) => c.replace(/\|/g, '\\|');
  return [`| ${head.map(cell).join(' | ')} |`, `|${a.map((x) => (x === 'l' ? ':---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)];
}

function stagesSection(r: Results): string[] {
  if (!r.stages?.length) return [];
  return [
    '## Stages',
    '',
    ...table(
      ['stage', 'status', 'seconds', 'note'],
      r.stages.map((s) => [s.stage, s.status === 'ok' ? 'ok' : `**${s.status}**${s.exit !== undefined && s.exit !== null && s.status !== 'skipped' ? ` (exit ${s.exit})` : ''}`, fmt(s.seconds), s.note ?? '']),
      ['l', 'l', 'r', 'l'],
    ),
    '',
  ];
}

function engineSection(r: Results): string[] {
  const runs = Object.entries(r.engine ?? {});
  const out = ['## 1. The engine itself: `lrpet train` on CIFAR-10', ''];
  if (!runs.length) return [...out, 'Not measured (the engine stages produced no log: see the stages above and device-run.log).', ''];
  const first = runs[0][1];
  out.push(
    `Real CIFAR-10 (decoded from the JPEG pack on the device), LRPET on (p = ${sig(first.prune)}), a projection every ${first.interval ?? 'epoch'} steps, ` +
      `${first.trainSize ?? dash} training and ${first.testSize ?? dash} test images, the engine's fast kernels, backend ${first.backend ?? dash}. ` +
      'Step images/s: batch / median step time (from filling the batch to the loss read back; the first step, which compiles the kernels, apart). ' +
      'Wall images/s: the images of all steps after the first / the time between the first and the last step, projections and tests included.',
    '',
  );
  out.push(
    ...table(
      ['model', 'batch', 'steps', 'step img/s', 'wall img/s', 'step ms (p10–p90)', 'first step ms', 'projection ms (n)', 'test ms (images, img/s)', 'compact build ms', 'ended'],
      runs.map(([, s]) => [
        s.model ?? dash,
        fmt(s.batch),
        fmt(s.steps.lastIteration),
        sig(s.steps.imagesPerSec),
        sig(s.steps.wallImagesPerSec),
        `${sig(s.steps.stepMs.median)} (${sig(s.steps.stepMs.p10)}–${sig(s.steps.stepMs.p90)})`,
        sig(s.steps.firstStepMs),
        `${sig(s.projections.ms.median)} (${s.projections.count})`,
        `${sig(s.evaluation.ms)} (${fmt(s.evaluation.images)}, ${sig(s.evaluation.imagesPerSec)})`,
        sig(s.compactBuildMs),
        `${s.ended ?? '**cut off** (no end state)'}${s.errors.length ? `; ${s.errors.join('; ')}` : ''}`,
      ]),
    ),
    '',
    'Memory (tfjs counters in the step events: live tensors, their bytes, the GPU buffers in use and allocated by tfjs\'s pool), first step → last step:',
    '',
    ...table(
      ['model', 'tensors', 'tensor MiB', 'GPU MiB in use', 'GPU MiB allocated', 'max allocated MiB', 'tensor count flat'],
      runs.map(([, s]) => {
        const a = s.memory.start;
        const b = s.memory.end;
        return [
          s.model ?? dash,
          `${fmt(a?.numTensors)} → ${fmt(b?.numTensors)}`,
          `${mib(a?.numBytes)} → ${mib(b?.numBytes)}`,
          `${mib(a?.gpuBytesInUse)} → ${mib(b?.gpuBytesInUse)}`,
          `${mib(a?.gpuBytesAllocated)} → ${mib(b?.gpuBytesAllocated)}`,
          mib(s.memory.maxGpuBytesAllocated),
          s.memory.tensorsFlat === null ? dash : s.memory.tensorsFlat ? 'yes' : '**NO**',
        ];
      }),
    ),
    '',
  );
  return out;
}

function profileSection(r: Results): string[] {
  const rows = r.profile?.rows ?? [];
  const out = ['## 2. Where one engine training step spends its GPU time', ''];
  if (!rows.length) return [...out, 'Not measured (see the stages above).', ''];
  const ts = r.profile?.meta?.timestampQuery;
  out.push(
    `tf.profile around one step of the engine's run loop (after ${r.profile?.meta?.warmup ?? '?'} warm-up steps); each kernel's GPU time is the sum of its WGSL programs' timestamp queries` +
      (ts === false ? ' — **the adapter had no timestamp-query: every GPU time reads 0**' : '') +
      '. Profiling runs every kernel in its own timed pass, so the profiled step is slower than a normal one; the shares are what counts. ' +
      'GPU busy = summed GPU time / unprofiled step time: far below 100% means the step waits on JavaScript and dispatch, not on the GPU.',
    '',
  );
  out.push(
    ...table(
      ['model', 'batch', 'kernels', 'step ms', 'profiled step ms', 'GPU ms', 'GPU busy', 'kernel calls', 'dispatches'],
      rows.map((x) => [
        x.model,
        fmt(x.batch),
        x.mode,
        sig(x.stepMs),
        sig(x.profiledStepMs),
        sig(x.profile?.gpuMs),
        x.profile && x.stepMs ? pct(x.profile.gpuMs / x.stepMs, 0) : dash,
        fmt(x.profile?.kernelCalls),
        fmt(x.profile?.dispatches),
      ]),
    ),
    '',
  );
  for (const x of rows) {
    if (!x.profile) {
      out.push(`${x.model} b${x.batch} ${x.mode}: no profile${x.error ? ` (${x.error})` : ''}.`, '');
      continue;
    }
    out.push(`**${x.model} b${x.batch}, ${x.mode} kernels** — by op family, then the top kernels and WGSL programs:`, '');
    out.push(...table(['op family', 'GPU ms', 'share', 'calls'], x.profile.byFamily.map((k) => [k.name, sig(k.ms), pct(k.share), fmt(k.calls)])), '');
    out.push(...table(['tfjs kernel', 'GPU ms', 'share', 'calls'], x.profile.byKernel.slice(0, 10).map((k) => [k.name, sig(k.ms), pct(k.share), fmt(k.calls)])), '');
    out.push(...table(['WGSL program', 'GPU ms', 'share', 'dispatches'], x.profile.byProgram.slice(0, 8).map((k) => [k.name, sig(k.ms), pct(k.share), fmt(k.calls)])), '');
  }
  return out;
}

function kernelSection(r: Results): string[] {
  const ks = r.bench?.kernels ?? [];
  const out = ['## 3. Conv kernels: GFLOP/s of the three passes, stock tfjs vs ours', ''];
  if (!ks.length) return [...out, 'Not measured (see the stages above).', ''];
  out.push(
    `bench/gpu.ts at batch ${ks[0].batch}, 2·N·OH·OW·KH·KW·CI·CO flops per call, the same shapes for all three passes. Forward is tfjs's own Conv2D in both modes (not replaced).`,
    '',
  );
  const g = (t?: KernelTiming) => sig(t?.gflops);
  const x = (a?: KernelTiming, b?: KernelTiming) => ratio(num(b?.gflops), num(a?.gflops));
  out.push(
    ...table(
      ['shape (H×W Ci→Co k s)', 'layers', 'forward', 'bp-input stock', 'bp-input fast', '×', 'bp-filter stock', 'bp-filter fast', '×'],
      ks.map((k) => [
        k.shape,
        Object.entries(k.count ?? {})
          .map(([m, c]) => `${m}:${c}`)
          .join(' '),
        g(k.forward),
        g(k.backpropInput.stock),
        g(k.backpropInput.fast),
        x(k.backpropInput.stock, k.backpropInput.fast),
        g(k.backpropFilter.stock),
        g(k.backpropFilter.fast),
        x(k.backpropFilter.stock, k.backpropFilter.fast),
      ]),
    ),
    '',
  );
  return out;
}

function sideBySideSection(r: Results): string[] {
  const out = ['## 4. Training images/s side by side, same card', ''];
  if (!r.sideBySide.length) return [...out, 'Nothing measured.', ''];
  const t = r.torch?.meta;
  out.push(
    'engine: `lrpet train` (above); bench stock/fast: bench/gpu.ts\'s own model and SGD step with tfjs\'s kernels / ours (random data); ' +
      `PyTorch: scripts/gpu/pytorch_bench.py, ${t ? `${t.torch ?? '?'} on ${t.device ?? '?'}, fp32 ${t.tf32 ? 'with TF32' : 'TF32 off'}` : 'not measured'} (random data, option-A shortcuts).`,
    '',
    ...table(
      ['model', 'batch', 'engine', 'engine (wall)', 'bench stock', 'bench fast', 'PyTorch', 'PyTorch / engine'],
      r.sideBySide.map((s) => [s.model, fmt(s.batch), sig(s.engine), sig(s.engineWall), sig(s.benchStock), sig(s.benchFast), sig(s.torch), ratio(s.torch, s.engine)]),
    ),
    '',
  );
  const mem = r.benchMemory?.memory ?? r.bench?.memory;
  if (mem) {
    const a = mem.samples[0];
    const b = mem.samples[mem.samples.length - 1];
    out.push(
      `Memory check (bench model, ${mem.model} b${mem.batch} ${mem.mode}, ${mem.steps} steps): **${mem.flat ? 'FLAT' : 'NOT FLAT'}**; tensors ${a?.numTensors} → ${b?.numTensors}, GPU MiB in use ${mib(a?.numBytesInGPU)} → ${mib(b?.numBytesInGPU)}.`,
      '',
    );
  }
  return out;
}

function accuracySection(r: Results): string[] {
  const out = ['## 5. Accuracy: the engine and the PyTorch LRPET reference on the same schedule', ''];
  const plan = r.accuracyPlan;
  if (!plan) return [...out, 'Not run.', ''];
  if (plan.epochs <= 0) return [...out, `Skipped: ${plan.reason}.`, ''];
  const e = r.accuracyEngine;
  const t = r.accuracyTorch;
  out.push(
    `${plan.model ?? 'resnet20'}, LRPET p = ${plan.prune ?? '?'}, ${plan.epochs} epoch${plan.epochs > 1 ? 's' : ''} of ${fmt(plan.trainImages)} training images at batch ${plan.batch ?? '?'}, ` +
      `${plan.schedule ?? 'step'} schedule, a projection every epoch, tested on ${fmt(plan.testImages)} images; one seed each, so differences of a point or two are noise. Plan: ${plan.reason}.`,
    '',
  );
  const epochs = Math.max(e?.epochs.length ?? 0, t?.epochs?.length ?? 0);
  const rows: string[][] = [];
  for (let i = 0; i < epochs; i++) rows.push([String(i + 1), pct(e?.epochs[i]?.testAccuracy, 2), pct(t?.epochs?.[i]?.testAccuracy, 2)]);
  rows.push(['final (projected = compact)', pct(e?.compact?.testAccuracy, 2), pct(t?.final?.testAccuracy, 2)]);
  out.push(...table(['epoch', 'engine test acc', 'PyTorch test acc'], rows), '');
  const notes: string[] = [];
  if (e && e.ended !== 'finished') notes.push(`the engine run ended '${e.ended ?? 'without an end state'}' after ${e.epochs.length} of ${plan.epochs} epochs`);
  if (!e) notes.push('the engine run left no log');
  if (t?.stoppedEarly) notes.push('the PyTorch run hit its time limit');
  if (!t) notes.push('the PyTorch run left no result');
  if (t?.meta) notes.push(`PyTorch ${t.meta.torch ?? '?'} on ${t.meta.device ?? '?'}`);
  if (notes.length) out.push(`Notes: ${notes.join('; ')}.`, '');
  return out;
}

export function renderMarkdown(r: Results): string {
  const env = r.env ?? {};
  const software = r.bench?.meta?.software || /software adapter/.test(String(r.profile?.meta?.note ?? ''));
  const lines = [
    `# GPU run: ${String(env.gpu ?? 'unknown device')}`,
    '',
    `Generated ${r.generatedAt} by scripts/gpu/report.ts from one call of scripts/gpu/device-run.sh${env.quick ? ' (**QUICK=1: tiny sizes, a dry run — not a measurement**)' : ''}. ` +
      `Every number below is what that call measured; nothing is estimated.`,
    '',
  ];
  if (software) lines.push('**SOFTWARE WebGPU adapter (no GPU): these are CPU-emulation numbers, not GPU performance.**', '');
  const facts: [string, unknown][] = [
    // The scripts load tfjs with stock kernels and pick theirs per part: the note's kernel mode says nothing.
    ['WebGPU', String(r.profile?.meta?.note ?? r.bench?.meta?.note ?? '').replace(/, (stock|fast) kernels$/, '')],
    ['tfjs', r.bench?.meta?.tfjs],
    ['driver', env.driver],
    ['PyTorch', r.torch?.meta ? `${r.torch.meta.torch} (CUDA ${r.torch.meta.cuda ?? 'none'}, cuDNN ${r.torch.meta.cudnn ?? 'none'}) on ${r.torch.meta.device}` : undefined],
    ['node', env.node],
    ['commit', env.commit],
  ];
  const known = facts.filter(([, v]) => v !== undefined && v !== null && v !== '');
  if (known.length) lines.push(...known.map(([k, v]) => `- ${k}: ${String(v)}`), '');
  if (r.problems?.length) lines.push('Missing or unreadable outputs:', '', ...r.problems.map((p) => `- ${p}`), '');
  lines.push(...stagesSection(r), ...engineSection(r), ...profileSection(r), ...kernelSection(r), ...sideBySideSection(r), ...accuracySection(r));
  return `${lines.join('\n').trimEnd()}\n`;
}
