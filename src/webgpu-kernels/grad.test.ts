/**
 * The fast kernels are transparent: gradients of a small conv net (conv 3×3 / stride 2 / 1×1,
 * batch-norm statistics, ReLU, residual add, global mean, dense) through tf.variableGrads on
 * webgpu with our kernels match the stock webgpu kernels and tfjs's CPU backend.
 * Error = max|g − g_ref| / max|g_ref| per variable.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type * as tfType from '@tensorflow/tfjs';
import { loadTf } from '../node/webgpu-node';
import { kernelStats, useKernels } from './index';
import { randomData, relMaxError } from './reference';

let tf: typeof tfType;

beforeAll(async () => {
  tf = (await loadTf('webgpu', 'stock')).tf;
  expect(tf.getBackend()).toBe('webgpu');
});

const SHAPES: Record<string, number[]> = {
  w1: [3, 3, 3, 8],
  w2: [3, 3, 8, 16],
  w3: [1, 1, 8, 16],
  gamma: [8],
  beta: [8],
  dense: [16, 10],
};

async function gradients(backend: 'webgpu' | 'cpu'): Promise<Record<string, Float32Array>> {
  await tf.setBackend(backend);
  const vars: Record<string, tfType.Variable> = {};
  let seed = 11;
  for (const [name, shape] of Object.entries(SHAPES)) {
    const size = shape.reduce((a, b) => a * b, 1);
    const init = name === 'gamma' ? new Float32Array(size).fill(1) : randomData(size, seed++).map((v) => v * 0.5);
    vars[name] = tf.variable(tf.tensor(init, shape), true, `grad_test_${name}_${backend}`);
  }
  const x = tf.tensor4d(randomData(6 * 9 * 9 * 3, 3), [6, 9, 9, 3]);
  const labels = tf.oneHot(tf.tensor1d([0, 3, 5, 9, 1, 2], 'int32'), 10);
  const { grads, value } = tf.variableGrads(() => {
    const h1 = tf.conv2d(x, vars.w1 as tfType.Tensor4D, 1, 1);
    const { mean, variance } = tf.moments(h1, [0, 1, 2]) as { mean: tfType.Tensor1D; variance: tfType.Tensor1D };
    const bn = tf.relu(tf.batchNorm4d(h1, mean, variance, vars.beta as tfType.Tensor1D, vars.gamma as tfType.Tensor1D, 1e-5)) as tfType.Tensor4D;
    const a = tf.relu(tf.conv2d(bn, vars.w2 as tfType.Tensor4D, 2, 'same'));
    const b = tf.conv2d(bn, vars.w3 as tfType.Tensor4D, 2, 'valid');
    const pooled = tf.mean(tf.add(a, b), [1, 2]);
    const logits = tf.matMul(pooled as tfType.Tensor2D, vars.dense as tfType.Tensor2D);
    return tf.losses.softmaxCrossEntropy(labels, logits) as tfType.Scalar;
  });
  const out: Record<string, Float32Array> = { loss: (await value.data()) as Float32Array };
  for (const [name, v] of Object.entries(vars)) out[name] = (await grads[v.name].data()) as Float32Array;
  tf.dispose([x, labels, value, ...Object.values(grads), ...Object.values(vars)]);
  return out;
}

describe('gradients through the fast kernels', () => {
  it('match stock webgpu and the CPU backend (tf.variableGrads)', async () => {
    useKernels('stock');
    const stock = await gradients('webgpu');
    useKernels('fast');
    const before = kernelStats();
    const fast = await gradients('webgpu');
    const after = kernelStats();
    useKernels('stock');
    const cpu = await gradients('cpu');
    await tf.setBackend('webgpu');
    for (const k of ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'Mean', 'Sum', 'grad:FusedBatchNorm', 'grad:Mean']) {
      expect(after[k].fast, `${k} ran`).toBeGreaterThan(before[k]?.fast ?? 0);
    }
    const lines: string[] = [];
    for (const name of Object.keys(cpu)) {
      const eFastCpu = relMaxError(fast[name], cpu[name]);
      const eStockCpu = relMaxError(stock[name], cpu[name]);
      const eFastStock = relMaxError(fast[name], stock[name]);
      lines.push(`${name.padEnd(6)} fast-cpu ${eFastCpu.toExponential(2)} stock-cpu ${eStockCpu.toExponential(2)} fast-stock ${eFastStock.toExponential(2)}`);
      expect.soft(eFastCpu, `${name}: fast vs cpu`).toBeLessThanOrEqual(1e-4);
      expect.soft(eFastStock, `${name}: fast vs stock`).toBeLessThanOrEqual(1e-4);
    }
    console.log(['gradient check (max|g-ref|/max|ref|):', ...lines].join('\n'));
  });
});
