/**
 * The compact model where it runs (README › Benchmarks, issue 17's table): ResNet-56 at p = 0.57 and
 * VGG-16-BN with the official rank floors, ranks rounded up to multiples of 1, 4 and 8 (the rankMultiple
 * setting), batch 1 and 128, dense vs compact
 *  - on the engine's WebGPU path: the exported graph models (tf.loadGraphModel) and the engine's fused
 *    forward of the compact model (the fused split convolution);
 *  - on ONNX Runtime (onnxruntime-node, CPU): the same models as ONNX files;
 * each speed-up next to the MAC ratio, all in one run on one machine. Random weights (speed does not depend
 * on them). Not part of npm test: on a software renderer batch 128 takes long.
 *
 *   npx tsx bench/deploy.ts [--models resnet56,vgg16] [--multiples 1,4,8] [--batches 1,128]
 *                           [--warmup 1] [--iterations 3] [--iterations-large 2] [--out bench/results/deploy-DATE]
 *
 * --iterations-large applies from batch 32 on. Writes OUT.json (every timing) and OUT.md (the table)
 * after every row, so a cut-off run keeps what it measured.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { benchInference, type InferenceBody } from '../src/engine/infer/bench';
import { exportGraphModel } from '../src/engine/export/graph-model';
import { compactFixture } from '../src/engine/testing/compact-fixture';
import { benchOrt } from '../src/node/ort-bench';
import { loadTf } from '../src/node/webgpu-node';

const { values: a } = parseArgs({
  options: {
    models: { type: 'string', default: 'resnet56,vgg16' },
    multiples: { type: 'string', default: '1,4,8' },
    batches: { type: 'string', default: '1,128' },
    warmup: { type: 'string', default: '1' },
    iterations: { type: 'string', default: '3' },
    'iterations-large': { type: 'string', default: '2' },
    out: { type: 'string', default: `bench/results/deploy-${new Date().toISOString().slice(0, 10)}` },
  },
});
const list = (s: string) => s.split(',').map((x) => x.trim());
const MODELS = { resnet56: { prune: 0.57, rankFloors: false, label: 'ResNet-56, p = 0.57' }, vgg16: { prune: 0.99, rankFloors: true, label: 'VGG-16-BN, rank floors' } } as const;

interface Row {
  model: string;
  multiple: number;
  batch: number;
  splitRanks: number[];
  macRatio: number;
  tfjs: InferenceBody['batches'][number];
  ort: InferenceBody['batches'][number];
}

const { tf, note } = await loadTf('webgpu');
const started = new Date();
const meta = {
  started: started.toISOString(),
  machine: `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}`,
  webgpu: note,
  loadAverageAtStart: loadavg().map((x) => Number(x.toFixed(2))),
  warmup: Number(a.warmup),
  iterations: Number(a.iterations),
  iterationsLarge: Number(a['iterations-large']),
};
const rows: Row[] = [];
let ortDevice = '';

const ms = (t: { medianMs: number }) => (t.medianMs >= 10_000 ? `${(t.medianMs / 1000).toFixed(1)} s` : `${t.medianMs.toFixed(t.medianMs >= 100 ? 0 : 1)} ms`);
const x = (s: number, mac: number) => `${s.toFixed(2)}× (${(s / mac).toFixed(2)})`;

function write(): void {
  mkdirSync(dirname(a.out!), { recursive: true });
  writeFileSync(`${a.out}.json`, `${JSON.stringify({ ...meta, ortDevice, loadAverageNow: loadavg(), rows }, null, 1)}\n`);
  const lines = [
    `Measured ${meta.started.slice(0, 16).replace('T', ' ')} UTC on ${meta.machine}; tfjs WebGPU: ${meta.webgpu}; ONNX Runtime: ${ortDevice}.`,
    `Median of ${meta.iterations} timed calls at batch 1, ${meta.iterationsLarge} at batch ≥ 32, after ${meta.warmup} warm-up call; dense and compact calls interleaved. Load average at the start ${meta.loadAverageAtStart.join(' / ')}.`,
    'Speed-up = dense median / compact median; in brackets its fraction of the MAC ratio (target at batch 128: ≥ 0.8 for the best setting; at batch 1: ≥ 1, never slower).',
    '',
    '| model | ranks × | split ranks | MAC ratio | batch | WebGPU dense (graph) | compact graph | speed-up | compact fused | speed-up | ORT dense | ORT compact | speed-up |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => {
      const ranks = [...new Set(r.splitRanks)].join('/');
      const f = r.tfjs.fused!;
      return `| ${MODELS[r.model as keyof typeof MODELS].label} | ${r.multiple} | ${ranks} | ${r.macRatio.toFixed(2)}× | ${r.batch} | ${ms(r.tfjs.dense)} | ${ms(r.tfjs.compact)} | ${x(r.tfjs.speedup, r.macRatio)} | ${ms(f)} | ${x(r.tfjs.fusedSpeedup!, r.macRatio)} | ${ms(r.ort.dense)} | ${ms(r.ort.compact)} | ${x(r.ort.speedup, r.macRatio)} |`;
    }),
  ];
  writeFileSync(`${a.out}.md`, `${lines.join('\n')}\n`);
}

for (const model of list(a.models!) as (keyof typeof MODELS)[]) {
  for (const multiple of list(a.multiples!).map(Number)) {
    const m = MODELS[model];
    const fx = await compactFixture(tf, model, { prune: m.prune, rankFloors: m.rankFloors, rankMultiple: multiple });
    const models = { dense: await exportGraphModel(fx.plan.graph, fx.params), compact: await exportGraphModel(fx.compact.graph, fx.compact.params), denseSource: 'projected' as const };
    fx.dispose();
    for (const batch of list(a.batches!).map(Number)) {
      const iterations = batch >= 32 ? meta.iterationsLarge : meta.iterations;
      const label = `${model} ×${multiple} batch ${batch}`;
      const progress = (p: { label: string; done: number; total: number }) => process.stderr.write(`\r${label}: ${p.label} (${p.done}/${p.total})\u001b[K`);
      const t = await benchInference(tf, models, { batches: [batch], warmup: meta.warmup, iterations, fused: true, paddedRanks: 'never', device: note, onProgress: progress });
      const o = await benchOrt(models, { batches: [batch], warmup: meta.warmup, iterations, onProgress: progress });
      ortDevice = o.device ?? '';
      rows.push({ model, multiple, batch, splitRanks: t.splitRanks, macRatio: t.macRatio, tfjs: t.batches[0], ort: o.batches[0] });
      process.stderr.write(`\r${label}: graph ${x(t.batches[0].speedup, t.macRatio)}, fused ${x(t.batches[0].fusedSpeedup!, t.macRatio)}, ORT ${x(o.batches[0].speedup, t.macRatio)}\u001b[K\n`);
      write();
    }
  }
}
console.log(`wrote ${a.out}.json and ${a.out}.md (${((Date.now() - started.getTime()) / 60000).toFixed(1)} min)`);
