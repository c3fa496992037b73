/**
 * Browser side of e2e/fused.spec.ts (bundled with esbuild, served from http://127.0.0.1): the fused split
 * convolution on Chromium's WebGPU. Publishes its outcome on window.__fused.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { deployRunner, FUSED_SPLIT_CONV } from '../../src/engine/deploy/forward';
import { splitPairs } from '../../src/engine/deploy/model';
import { readGraphModel } from '../../src/engine/deploy/read-graph-model';
import { exportGraphModel } from '../../src/engine/export/graph-model';
import { Rng } from '../../src/engine/rng';
import { randomCompactModel } from '../../src/engine/testing/compact-fixture';
import { maxRelDiff } from '../../src/engine/testing/compare';
import { fusedReference } from '../../src/webgpu-kernels/fused-reference';
import { registerFusedSplitConv } from '../../src/webgpu-kernels/fused-split-conv';

interface Outcome {
  done: boolean;
  error?: string;
  adapter?: string;
  sweep: { label: string; error: number }[];
  models: { model: string; splits: number; fusedVsOps: number; fusedKernels: number; opsMs: number; fusedMs: number }[];
}

declare global {
  interface Window {
    __fused: Outcome;
  }
}

const logEl = document.getElementById('log')!;
const outcome: Outcome = { done: false, sweep: [], models: [] };
window.__fused = outcome;
const log = (line: string) => {
  logEl.textContent += `\n${line}`;
};

async function sweep(): Promise<void> {
  const rng = new Rng(3);
  const rand = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  for (const s of [
    { c: 3, o: 7, k: 3, stride: 1, h: 7, relu: true },
    { c: 5, o: 6, k: 3, stride: 2, h: 8, relu: false },
  ]) {
    const n = Math.min(s.o, s.c * s.k * s.k);
    for (let r = 1; r <= n; r++) {
      const pad = (s.k - 1) / 2;
      const shape: [number, number, number, number] = [2, s.h, s.h, s.c];
      const [x, b, m, bias] = [rand(2 * s.h * s.h * s.c), rand(s.k * s.k * s.c * r), rand(r * s.o), rand(s.o)];
      const y = tf.tidy(
        () =>
          tf.engine().runKernel(
            FUSED_SPLIT_CONV,
            { x: tf.tensor4d(x, shape), basis: tf.tensor4d(b, [s.k, s.k, s.c, r]), mix: tf.tensor2d(m, [r, s.o]), bias: tf.tensor1d(bias) } as never,
            { stride: s.stride, pad, relu: s.relu } as never,
          ) as tf.Tensor,
      );
      const got = (await y.data()) as Float32Array;
      y.dispose();
      const label = `c ${s.c} o ${s.o} k ${s.k} stride ${s.stride} r ${r}${s.relu ? ' relu' : ''}`;
      outcome.sweep.push({ label, error: maxRelDiff(got, fusedReference(x, shape, b, s.k, r, m, bias, s.stride, pad, s.relu)) });
      log(`${label}: ${outcome.sweep.at(-1)!.error.toExponential(2)}`);
    }
  }
}

async function timeIt(f: () => tf.Tensor, runs: number): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const y = tf.tidy(f);
    await y.data();
    y.dispose();
    ms.push(performance.now() - t0);
  }
  return ms.sort((a, b) => a - b)[Math.floor(ms.length / 2)];
}

async function model(name: 'resnet56' | 'vgg16', opts: object): Promise<void> {
  const compact = randomCompactModel(tf, name, opts);
  const deploy = readGraphModel(await exportGraphModel(compact.graph, compact.params));
  compact.dispose();
  const runner = deployRunner(tf, deploy);
  const x = tf.randomNormal([1, 32, 32, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
  const ops = tf.tidy(() => runner.predict(x, 'ops'));
  const fused = tf.tidy(() => runner.predict(x, 'fused'));
  const fusedVsOps = maxRelDiff((await fused.data()) as Float32Array, (await ops.data()) as Float32Array);
  tf.dispose([ops, fused]);
  const info = await tf.profile(() => tf.tidy(() => runner.predict(x, 'fused')));
  (info.result as tf.Tensor).dispose();
  // One warm (compiled) call each, for the record: which path is faster on this renderer.
  const opsMs = await timeIt(() => runner.predict(x, 'ops'), 1);
  const fusedMs = await timeIt(() => runner.predict(x, 'fused'), 1);
  const r = { model: name, splits: splitPairs(deploy.graph).length, fusedVsOps, fusedKernels: info.kernels.filter((k) => k.name === FUSED_SPLIT_CONV).length, opsMs, fusedMs };
  outcome.models.push(r);
  log(JSON.stringify(r));
  x.dispose();
  runner.dispose();
}

async function main(): Promise<void> {
  if (!('gpu' in navigator) || !navigator.gpu) throw new Error('navigator.gpu is missing: WebGPU is not available in this browser');
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new Error('navigator.gpu.requestAdapter() returned null: no WebGPU adapter');
  outcome.adapter = `${adapter.info.vendor} ${adapter.info.architecture} ${adapter.info.description}`.trim();
  if (!(await tf.setBackend('webgpu'))) throw new Error("tf.setBackend('webgpu') failed");
  await tf.ready();
  registerFusedSplitConv();
  log(`adapter: ${outcome.adapter}`);
  await sweep();
  await model('resnet56', {});
  await model('vgg16', { prune: 0.99, rankFloors: true });
}

main()
  .catch((e: unknown) => {
    outcome.error = e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e);
    log(`ERROR: ${outcome.error}`);
  })
  .finally(() => {
    outcome.done = true;
    log('done');
  });
