/**
 * Inference speed, dense vs compact (issue 12): ResNet-56 at p = 0.57 (2.24× fewer MACs) as exported
 * TensorFlow.js graph models, timed with the engine's own routine (src/engine/infer/bench.ts: warm-up,
 * then dense and compact calls alternating, each from predict() to the logits read back), at batch 1
 * and 128 on the backend in use. Speed does not depend on the weights' values, so both models get
 * random ones. Beside the two models it times:
 *  - the compact model with its ranks rounded up to a multiple of 4 (zero-padded factors compute the
 *    same function): tfjs's WebGPU conv and matmul kernels take their vec4 path only when the channel
 *    counts are multiples of 4, and ResNet-56's ranks at p = 0.57 are 6, 13 and 27;
 *  - with --profile, where the time goes: tfjs's per-dispatch GPU timings (tf.time's kernel timings,
 *    WebGPU timestamp queries) grouped by kernel, for each model at one batch size.
 *
 *   npx tsx bench/inference.ts [--model resnet56] [--prune 0.57] [--batches 1,128] [--warmup 1] [--iterations 3]
 *                              [--no-padded] [--profile] [--profile-batch 32] [--backend auto|webgpu|cpu] [--json out.json]
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import type * as tfType from '@tensorflow/tfjs';
import type { ModelName } from '../src/engine/config';
import { exportGraphModel } from '../src/engine/export/graph-model';
import { benchInference, loadExported, type InferenceBody } from '../src/engine/infer/bench';
import { inferenceTable } from '../src/engine/infer/report';
import { disposeParams, initParams } from '../src/engine/models/params';
import type { ModelGraph } from '../src/engine/models/graph';
import { compactGraph, plannedCompactLayers, type CompactLayer } from '../src/engine/models/split';
import { planModel } from '../src/engine/plan';
import type { ExportedModel } from '../src/engine/run/api';
import { loadTf } from '../src/node/webgpu-node';

type Tf = typeof tfType;

export interface InferenceBenchArgs {
  model: ModelName;
  prune: number;
  batches: number[];
  warmup: number;
  iterations: number;
  padded: boolean;
  profile: boolean;
  profileBatch: number;
  backend: 'auto' | 'webgpu' | 'cpu';
}

export const DEFAULT_INFERENCE_ARGS: InferenceBenchArgs = {
  model: 'resnet56',
  prune: 0.57,
  batches: [1, 128],
  warmup: 1,
  iterations: 3,
  padded: true,
  profile: false,
  profileBatch: 32,
  backend: 'auto',
};

async function exported(tf: Tf, graph: ModelGraph, seed: number): Promise<ExportedModel> {
  const params = initParams(tf, graph, seed);
  try {
    return await exportGraphModel(graph, params);
  } finally {
    disposeParams(params);
  }
}

const roundUp = (x: number, m: number) => Math.ceil(x / m) * m;

/** Per-kernel GPU time of one call of a model (tf.time; WebGPU timestamp queries), summed by kernel name. */
async function profileModel(tf: Tf, m: ExportedModel, batch: number): Promise<{ kernelMs: number; byKernel: Map<string, { ms: number; dispatches: number }> }> {
  const model = await loadExported(tf, m);
  const x = tf.randomNormal([batch, 32, 32, 3]);
  try {
    const warm = model.predict(x) as tfType.Tensor;
    await warm.data();
    warm.dispose();
    let y: tfType.Tensor | null = null;
    const info = await tf.time(() => {
      y = model.predict(x) as tfType.Tensor;
    });
    await (y as tfType.Tensor | null)?.data();
    (y as tfType.Tensor | null)?.dispose();
    const extra = (info as unknown as { getExtraProfileInfo?: () => string }).getExtraProfileInfo?.() ?? '';
    const byKernel = new Map<string, { ms: number; dispatches: number }>();
    for (const item of extra.split(', ').filter(Boolean)) {
      const cut = item.lastIndexOf(': ');
      const name = item.slice(0, cut);
      const e = byKernel.get(name) ?? { ms: 0, dispatches: 0 };
      e.ms += Number(item.slice(cut + 2));
      e.dispatches++;
      byKernel.set(name, e);
    }
    return { kernelMs: Number(info.kernelMs), byKernel };
  } finally {
    x.dispose();
    model.dispose();
  }
}

export interface InferenceBenchResult {
  note: string;
  compact: InferenceBody;
  padded: InferenceBody | null;
  ranks: { compact: number[]; padded: number[] };
  profile: { batch: number; models: Record<string, { kernelMs: number; byKernel: Record<string, { ms: number; dispatches: number }> }> } | null;
}

export async function runInferenceBench(a: InferenceBenchArgs, log: (line: string) => void = console.log): Promise<InferenceBenchResult> {
  const { tf, note } = await loadTf(a.backend);
  log(`inference: ${a.model} p = ${a.prune} on ${note}`);
  const plan = planModel(a.model, { prune: a.prune, target: null, rankOverrides: {}, rankFloors: false, projectDense: false });
  const layers = plannedCompactLayers(plan.layers);
  const paddedLayers: CompactLayer[] = layers.map((l) => (l.split ? { ...l, rank: roundUp(l.rank, 4) } : l));
  const dense = await exported(tf, plan.graph, 1);
  const compact = await exported(tf, compactGraph(plan.graph, layers), 2);
  const padded = await exported(tf, compactGraph(plan.graph, paddedLayers), 3);
  const t0 = Date.now();
  const progress = (p: { label: string; done: number; total: number }) =>
    process.stderr.write(`\r  ${p.label} (${p.done}/${p.total}, ${((Date.now() - t0) / 1000).toFixed(0)} s)\u001b[K`);
  // Padded ranks are timed below as their own run (×4 only); the fused forward is a column of each.
  const opts = { batches: a.batches, warmup: a.warmup, iterations: a.iterations, device: note, paddedRanks: 'never' as const, onProgress: progress };
  const ranks = (ls: CompactLayer[]) => [...new Set(ls.filter((l) => l.split).map((l) => l.rank))];
  const result: InferenceBenchResult = { note, compact: await benchInference(tf, { dense, compact, denseSource: 'architecture' }, opts), padded: null, ranks: { compact: ranks(layers), padded: ranks(paddedLayers) }, profile: null };
  process.stderr.write('\r\u001b[K');
  log(`dense vs compact (ranks ${result.ranks.compact.join('/')}):`);
  for (const line of inferenceTable(result.compact)) log(`  ${line}`);
  if (a.padded) {
    result.padded = await benchInference(tf, { dense, compact: padded, denseSource: 'architecture' }, opts);
    process.stderr.write('\r\u001b[K');
    log(`dense vs compact with ranks rounded up to a multiple of 4 (${result.ranks.padded.join('/')}; same function, zero-padded factors):`);
    for (const line of inferenceTable(result.padded)) log(`  ${line}`);
  }
  if (a.profile) {
    const models: Record<string, ExportedModel> = { dense, compact, ...(a.padded ? { 'compact, ranks ×4': padded } : {}) };
    const prof: NonNullable<InferenceBenchResult['profile']> = { batch: a.profileBatch, models: {} };
    for (const [name, m] of Object.entries(models)) {
      log(`  profiling ${name} at batch ${a.profileBatch}…`);
      const p = await profileModel(tf, m, a.profileBatch);
      prof.models[name] = { kernelMs: p.kernelMs, byKernel: Object.fromEntries(p.byKernel) };
    }
    result.profile = prof;
    const kernels = [...new Set(Object.values(prof.models).flatMap((m) => Object.keys(m.byKernel)))];
    const names = Object.keys(prof.models);
    const total = (k: string) => Math.max(...names.map((n) => prof.models[n].byKernel[k]?.ms ?? 0));
    kernels.sort((x, y) => total(y) - total(x));
    log(`GPU time per kernel at batch ${a.profileBatch} (ms, dispatches; tf.time kernel timings):`);
    log(`  ${'kernel'.padEnd(36)}${names.map((n) => n.padStart(22)).join('')}`);
    for (const k of kernels) {
      log(`  ${k.padEnd(36)}${names.map((n) => { const e = prof.models[n].byKernel[k]; return (e ? `${e.ms.toFixed(1)} (${e.dispatches})` : '–').padStart(22); }).join('')}`);
    }
    log(`  ${'all kernels'.padEnd(36)}${names.map((n) => prof.models[n].kernelMs.toFixed(1).padStart(22)).join('')}`);
  }
  return result;
}

function parseCliArgs(argv: string[]): InferenceBenchArgs & { json: string | null } {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      prune: { type: 'string' },
      batches: { type: 'string' },
      warmup: { type: 'string' },
      iterations: { type: 'string' },
      'no-padded': { type: 'boolean' },
      profile: { type: 'boolean' },
      'profile-batch': { type: 'string' },
      backend: { type: 'string' },
      json: { type: 'string' },
    },
  });
  const d = DEFAULT_INFERENCE_ARGS;
  return {
    model: (values.model ?? d.model) as ModelName,
    prune: Number(values.prune ?? d.prune),
    batches: values.batches ? values.batches.split(',').map(Number) : d.batches,
    warmup: Number(values.warmup ?? d.warmup),
    iterations: Number(values.iterations ?? d.iterations),
    padded: !values['no-padded'],
    profile: !!values.profile,
    profileBatch: Number(values['profile-batch'] ?? d.profileBatch),
    backend: (values.backend ?? d.backend) as InferenceBenchArgs['backend'],
    json: values.json ?? null,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const a = parseCliArgs(process.argv.slice(2));
  const r = await runInferenceBench(a);
  if (a.json) writeFileSync(a.json, JSON.stringify(r, null, 2));
  process.exit(0);
}
