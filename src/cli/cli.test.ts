import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, copyFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { decodeSafetensors, toFloat32 } from '../engine/weights/safetensors';
import { findDatasetDir } from '../node/dataset';
import { main } from './main';

const run = promisify(execFile);
const BIN = resolve(__dirname, '../../bin/lrpet.mjs');

async function lrpet(args: string[], env: NodeJS.ProcessEnv = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/**
 * The CLI's main() in this process, its output captured: what the bin runs, without a Node start and tsx's
 * compile (about a second of CPU each). The tests that train spawn the real command (bin/lrpet.mjs).
 */
async function lrpetHere(args: string[]) {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((stdout += String(s)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((stderr += String(s)), true));
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('lrpet flops', () => {
  it('prints the spec numbers as JSON', async () => {
    const r = await lrpetHere(['flops', '--model', 'resnet56', '--prune', '0.57', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.macsDense).toBe(125485696);
    expect(j.paramsCompact).toBe(394460);
    expect(Math.round(j.macsCompact / 1e4) / 100).toBe(56.06);
    expect(j.layers).toHaveLength(56);
    expect(j.layers[0]).toMatchObject({ name: 'stem/conv', shape: [16, 27], rank: 6 });
  });
  it('solves p for a FLOPs target and applies the VGG floors', async () => {
    const t = JSON.parse((await lrpetHere(['flops', '--model', 'resnet56', '--target-flops', '0.55', '--json'])).stdout);
    expect(t.macsReduction).toBeGreaterThanOrEqual(0.55);
    const v = JSON.parse((await lrpetHere(['flops', '--model', 'vgg16', '--prune', '0.99', '--rank-floors', '--json'])).stdout);
    expect(Math.round(v.macsCompact / 1e4) / 100).toBe(81.29);
  });
  it.each([
    [['flops', '--model', 'resnet99'], /unknown model 'resnet99'/],
    [['flops', '--model', 'resnet20', '--prune', '1'], /--prune must be in \[0, 1\)/],
    [['flops', '--model', 'resnet20', '--rank', 'stem/conv=40'], /rank 40 is impossible for layer 'stem\/conv'/],
    [['flops', '--model', 'resnet20', '--bogus'], /Unknown option '--bogus'/],
    [['frobnicate'], /unknown command/],
  ])('rejects bad arguments in one line: %j', async (args, message) => {
    const r = await lrpetHere(args);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('lrpet train and evaluate on the CIFAR-10 copy', () => {
  it('fails in one line on a missing folder and on a truncated file', async () => {
    const missing = await lrpet(['train', '--model', 'resnet8-tiny', '--data', '/nonexistent/cifar']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/dataset folder \/nonexistent\/cifar does not exist/);
    const dir = mkdtempSync(join(tmpdir(), 'cifar-bad-'));
    const real = findDatasetDir();
    copyFileSync(join(real, 'test_batch.bin'), join(dir, 'test_batch.bin'));
    writeFileSync(join(dir, 'data_batch_1.bin'), readFileSync(join(real, 'data_batch_1.bin')).subarray(0, 100000));
    const truncated = await lrpet(['train', '--model', 'resnet8-tiny', '--data', dir, '--backend', 'cpu']);
    expect(truncated.code).not.toBe(0);
    expect(truncated.stderr).toMatch(/data_batch_1\.bin: 100000 bytes is not a whole number of CIFAR-10 records/);
    expect(truncated.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('ends a diverging run after the NaN, with exit code 1 and the reason', async () => {
    const out = mkdtempSync(join(tmpdir(), 'lrpet-nan-'));
    const log = join(out, 'run.jsonl');
    const r = await lrpet([
      'train', '--model', 'resnet8-tiny', '--no-lrpet', '--lr', '1e30', '--epochs', '2', '--batch', '8',
      '--train-limit', '16', '--test-limit', '16', '--backend', 'webgpu', '--log', log,
    ]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/lrpet: the run ended with an error: the loss became NaN at iteration 2/);
    const events = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(events.at(-1)).toMatchObject({ type: 'state', state: 'stopped', iteration: 1 });
  }, 120_000);

  it('--max-seconds and SIGTERM stop a run after its step in flight, with the compact model built and the log complete', async () => {
    const out = mkdtempSync(join(tmpdir(), 'lrpet-stop-'));
    const args = ['train', '--model', 'resnet8-tiny', '--epochs', '400', '--batch', '8', '--train-limit', '64', '--test-limit', '16', '--backend', 'webgpu'];
    const limitedRun = lrpet([...args, '--max-seconds', '4', '--log', join(out, 'limited.jsonl')]);
    const signalled = execFile(process.execPath, [BIN, ...args, '--log', join(out, 'signalled.jsonl')]);
    const exited = new Promise<number | null>((done) => signalled.on('exit', (code) => done(code)));
    let stderr = '';
    signalled.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      // Once the first step is reported: the run is training.
      if (/^\s*step 1 /m.test(stderr) && !signalled.killed) signalled.kill('SIGTERM');
    });
    const limited = await limitedRun;
    expect(limited.code, limited.stderr).toBe(0);
    expect(limited.stderr).toMatch(/--max-seconds 4: stopping after the current step/);
    expect(await exited, stderr).toBe(0);
    expect(stderr).toMatch(/SIGTERM: stopping after the current step/);
    for (const name of ['limited', 'signalled']) {
      const events = readFileSync(join(out, `${name}.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      const steps = events.filter((e) => e.type === 'step');
      expect(steps.length, name).toBeGreaterThan(0);
      expect(steps.length, name).toBeLessThan(400 * 8);
      expect(events.find((e) => e.type === 'compact'), name).toBeDefined();
      expect(events.at(-1), name).toMatchObject({ type: 'state', state: 'stopped' });
    }
  }, 120_000);

  it('trains, logs every event as JSON lines, saves models that load and reproduce their accuracy', async () => {
    const out = mkdtempSync(join(tmpdir(), 'lrpet-run-'));
    mkdirSync(out, { recursive: true });
    const log = join(out, 'run.jsonl');
    const r = await lrpet([
      'train', '--model', 'resnet8-tiny', '--prune', '0.5', '--epochs', '2', '--batch', '16', '--interval', '4',
      '--train-limit', '64', '--test-limit', '100', '--seed', '4', '--backend', 'webgpu', '--log', log, '--save', join(out, 'models'),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const events = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const types = new Set(events.map((e) => e.type));
    for (const t of ['runStart', 'step', 'epoch', 'projection', 'compact']) expect(types).toContain(t);
    const compact = events.find((e) => e.type === 'compact');
    const ev = await lrpet(['evaluate', '--model-dir', join(out, 'models', 'compact'), '--test-limit', '100', '--backend', 'webgpu']);
    expect(ev.code, ev.stderr).toBe(0);
    expect(JSON.parse(ev.stdout).testAccuracy).toBeCloseTo(compact.testAccuracy, 3);
    const dense = await lrpet(['evaluate', '--model-dir', join(out, 'models', 'projected'), '--test-limit', '100', '--backend', 'webgpu']);
    expect(JSON.parse(dense.stdout).testAccuracy).toBeCloseTo(compact.denseTestAccuracy, 3);

    // The same models for PyTorch, with the official names (torch-parity tests load them in PyTorch).
    const projected = decodeSafetensors(readFileSync(join(out, 'models', 'projected.safetensors')));
    expect(projected.metadata).toMatchObject({ 'lrpet.model': 'resnet8-tiny', 'lrpet.variant': 'dense' });
    expect(projected.tensors.map((t) => t.name)).toContain('layer3.0.conv2.weight');
    const split = decodeSafetensors(readFileSync(join(out, 'models', 'compact.safetensors')));
    expect(split.tensors.map((t) => t.name)).toContain('layer3.0.conv2.N.weight');
    // And as ONNX files (src/node/onnx.test.ts checks their logits and the ONNX checker).
    for (const f of ['projected.onnx', 'compact.onnx']) expect(readFileSync(join(out, 'models', f)).byteLength, f).toBeGreaterThan(1000);

    // --init starts from those weights: with a learning rate of 1e-12 they come out as they went in (BN statistics move, weights do not).
    const again = join(out, 'again');
    const r2 = await lrpet([
      'train', '--model', 'resnet8-tiny', '--no-lrpet', '--epochs', '1', '--batch', '16', '--lr', '1e-12', '--no-augment',
      '--train-limit', '32', '--test-limit', '20', '--backend', 'webgpu', '--init', join(out, 'models', 'projected.safetensors'), '--log', join(out, 'again.jsonl'), '--save', again, '--quiet',
    ]);
    expect(r2.code, r2.stderr).toBe(0);
    const start = JSON.parse(readFileSync(join(out, 'again.jsonl'), 'utf8').split('\n')[0]);
    expect(start.config.init).toEqual({ name: 'projected.safetensors' });
    const after = decodeSafetensors(readFileSync(join(again, 'projected.safetensors')));
    for (const name of ['conv1.weight', 'layer2.0.conv1.weight', 'linear.bias']) {
      const a = toFloat32(projected.tensors.find((t) => t.name === name)!);
      const b = toFloat32(after.tensors.find((t) => t.name === name)!);
      expect(Math.max(...a.map((x, i) => Math.abs(x - b[i])))).toBeLessThan(1e-9);
    }

    // A file that does not fit: one line naming the file and what is wrong, nothing trained.
    const bad = await lrpet(['train', '--model', 'resnet8-tiny', '--epochs', '1', '--train-limit', '8', '--backend', 'cpu', '--init', join(out, 'models', 'compact.safetensors')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/compact\.safetensors: these weights do not fit resnet8-tiny: this is a compact \(split\) model's file/);
    expect(bad.stderr.trim().split('\n').filter((l) => l.startsWith('lrpet:'))).toHaveLength(1);
    const wrongModel = await lrpet(['train', '--model', 'resnet14-narrow', '--epochs', '1', '--train-limit', '8', '--backend', 'cpu', '--init', join(out, 'models', 'projected.safetensors'), '--quiet']);
    expect(wrongModel.stderr).toMatch(/these are resnet8-tiny's weights, not resnet14-narrow's/);
    const missing = await lrpet(['train', '--model', 'resnet8-tiny', '--init', join(out, 'nope.safetensors'), '--quiet']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--init: cannot read .*nope\.safetensors/);
  }, 600_000);
});

describe('lrpet bench-infer', () => {
  it('times a saved run’s dense and compact model and prints, per batch, both times, their ratio and the MAC ratio', async () => {
    const out = mkdtempSync(join(tmpdir(), 'lrpet-infer-'));
    const models = join(out, 'models');
    const tr = await lrpet([
      'train', '--model', 'resnet8-tiny', '--prune', '0.5', '--epochs', '1', '--batch', '16', '--train-limit', '16', '--test-limit', '16',
      '--backend', 'webgpu', '--quiet', '--save', models,
    ]);
    expect(tr.code, tr.stderr).toBe(0);
    const r = await lrpet(['bench-infer', '--model-dir', models, '--batch', '1,4', '--warmup', '1', '--iterations', '3', '--backend', 'webgpu', '--padded-ranks', 'always', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    // ONNX Runtime too (both runtimes by default), from the .onnx files --save wrote; and the padded ranks on tfjs.
    expect(j.ort).toMatchObject({ backend: 'onnxruntime', warmup: 1, iterations: 3, macsDense: j.macsDense, macsCompact: j.macsCompact });
    expect(j.ort.batches.map((b: { batch: number; speedup: number }) => b.batch)).toEqual([1, 4]);
    expect(j.paddedRanks.map((p: { multiple: number }) => p.multiple)).toEqual([8]); // ranks 4/8/16: only ×8 changes them
    expect(j.fastest).toHaveLength(2);
    const plan = JSON.parse((await lrpet(['flops', '--model', 'resnet8-tiny', '--prune', '0.5', '--json'])).stdout);
    expect(j).toMatchObject({ modelDir: models, backend: 'webgpu', denseSource: 'projected', warmup: 1, iterations: 3, macsDense: plan.macsDense, macsCompact: plan.macsCompact });
    expect(j.macRatio).toBeCloseTo(plan.macsDense / plan.macsCompact, 9);
    expect(j.batches.map((b: { batch: number }) => b.batch)).toEqual([1, 4]);
    for (const b of j.batches) {
      expect(b.dense.samples).toBe(3);
      expect(b.dense.medianMs).toBeGreaterThan(0);
      expect(b.compact.medianMs).toBeGreaterThan(0);
      expect(b.speedup).toBeCloseTo(b.dense.medianMs / b.compact.medianMs, 9);
      // On WebGPU the engine's fused forward of the compact model is a third column.
      expect(b.fusedSpeedup).toBeCloseTo(b.dense.medianMs / b.fused.medianMs, 9);
    }
    // The table for people (here on tfjs's CPU backend): one row per batch and the verdict against the MAC reduction.
    const t = await lrpet(['bench-infer', '--model-dir', models, '--batch', '2', '--warmup', '0', '--iterations', '1', '--backend', 'cpu', '--padded-ranks', 'never']);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/^TensorFlow\.js \(cpu\)$/m);
    expect(t.stdout).toMatch(/^ONNX Runtime$/m);
    const onlyOrt = await lrpet(['bench-infer', '--model-dir', models, '--batch', '2', '--warmup', '0', '--iterations', '1', '--runtime', 'ort', '--json']);
    expect(onlyOrt.code, onlyOrt.stderr).toBe(0);
    expect(Object.keys(JSON.parse(onlyOrt.stdout))).toEqual(['modelDir', 'ort']);
    expect(t.stdout).toMatch(/MACs 3\.17M → 1\.81M \(1\.75× fewer\)/);
    expect(t.stdout).toMatch(/^ +2 +[\d.]+ m?s \(IQR/m);
    expect(t.stdout).toMatch(/speed-up at batch 2: [\d.]+× = [\d.]+ of the 1\.75× MAC reduction/);
  }, 300_000);

  it.each([
    [['bench-infer'], /--model-dir is required/],
    [['bench-infer', '--model-dir', '/nonexistent/models'], /\/nonexistent\/models holds neither projected\/ and compact\/ \(what train --save writes\) nor projected\.safetensors and compact\.safetensors/],
    [['bench-infer', '--model-dir', '.', '--batch', '1,x'], /--batch takes batch sizes from 1 to 1024 separated by commas/],
    [['bench-infer', '--model-dir', '.', '--iterations', '0'], /--iterations must be an integer ≥ 1, got '0'/],
    [['bench-infer', '--model-dir', '.', '--runtime', 'tflite'], /--runtime must be one of tfjs, ort, both, got 'tflite'/],
  ])('rejects bad arguments in one line: %j', async (args, message) => {
    const r = await lrpetHere(args);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
