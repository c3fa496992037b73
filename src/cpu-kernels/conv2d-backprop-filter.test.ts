import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../engine/rng';
import { cpuKernelCalls, useCpuKernels } from './index';

// Shapes of the models' convolutions (3×3 stride 1 and 2 with 'same' padding, 1×1 shortcuts and split halves),
// odd sizes, explicit and 'valid' padding (tfjs has no gradient of a dilated convolution).
const CASES: { x: [number, number, number, number]; f: [number, number, number, number]; stride: number; pad: 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]] }[] = [
  { x: [4, 8, 8, 3], f: [3, 3, 3, 8], stride: 1, pad: 'same' },
  { x: [3, 9, 7, 5], f: [3, 3, 5, 6], stride: 2, pad: 'same' },
  { x: [2, 8, 8, 16], f: [1, 1, 16, 32], stride: 2, pad: 'valid' },
  { x: [2, 6, 6, 4], f: [3, 1, 4, 2], stride: 1, pad: 'valid' },
  { x: [2, 7, 7, 3], f: [3, 3, 3, 4], stride: 1, pad: [[0, 0], [2, 0], [1, 1], [0, 0]] },
];

function randomTensor(shape: number[], rng: Rng): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => rng.next() * 2 - 1), shape);
}

/** The filter gradient of sum(conv2d(x, f) · dy), through tfjs's gradient machinery. */
function filterGrad(x: tf.Tensor4D, f: tf.Tensor4D, dy: tf.Tensor4D, c: (typeof CASES)[number]): Float32Array {
  return tf.tidy(() => {
    const g = tf.grad((w: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, w as tf.Tensor4D, c.stride, c.pad), dy)));
    return g(f).dataSync() as Float32Array;
  });
}

describe("the CPU backend's filter gradient (Conv2DBackpropFilter)", () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
    await tf.ready();
  });
  afterAll(() => useCpuKernels('fast'));

  it("equals tfjs's own kernel (both sum in float64) and a float64 sum in the test, with no tensor left", () => {
    const rng = new Rng(9);
    for (const c of CASES) {
      const x = randomTensor(c.x, rng) as tf.Tensor4D;
      const f = randomTensor(c.f, rng) as tf.Tensor4D;
      const outShape = tf.tidy(() => tf.conv2d(x, f, c.stride, c.pad).shape);
      const dy = randomTensor(outShape, rng) as tf.Tensor4D;
      useCpuKernels('stock');
      const stock = filterGrad(x, f, dy, c);
      useCpuKernels('fast');
      const before = tf.memory().numTensors;
      const ran = cpuKernelCalls().fast;
      const fast = filterGrad(x, f, dy, c);
      expect(cpuKernelCalls().fast).toBe(ran + 1);
      expect(tf.memory().numTensors).toBe(before);
      // The same sums in another order, each rounded once to float32: equal to a few float32 ulps.
      const scale = Math.max(...stock.map(Math.abs));
      const diff = Math.max(...fast.map((v, i) => Math.abs(v - stock[i])));
      expect(diff / scale, JSON.stringify(c)).toBeLessThanOrEqual(1e-6);
      // An independent float64 reference: the definition, by finite sums over the padded input.
      const ref = referenceGrad(x.dataSync() as Float32Array, dy.dataSync() as Float32Array, c, outShape);
      expect(Math.max(...fast.map((v, i) => Math.abs(v - ref[i]))) / scale, JSON.stringify(c)).toBeLessThanOrEqual(1e-6);
      tf.dispose([x, f, dy]);
    }
  });
});

/** dW[fh, fw, ci, co] = Σ x[b, oh·s + fh − padTop, ow·s + fw − padLeft, ci] · dy[b, oh, ow, co], in float64. */
function referenceGrad(x: Float32Array, dy: Float32Array, c: (typeof CASES)[number], out: number[]): Float64Array {
  const [B, H, W, CI] = c.x;
  const [FH, FW, , CO] = c.f;
  const [, OH, OW] = out;
  let top = 0;
  let left = 0;
  if (c.pad === 'same') {
    // TensorFlow's SAME: total padding so that OH = ceil(H / s), the odd pixel at the bottom/right.
    top = Math.floor(Math.max((OH - 1) * c.stride + FH - H, 0) / 2);
    left = Math.floor(Math.max((OW - 1) * c.stride + FW - W, 0) / 2);
  } else if (Array.isArray(c.pad)) {
    top = c.pad[1][0];
    left = c.pad[2][0];
  }
  const g = new Float64Array(FH * FW * CI * CO);
  for (let b = 0; b < B; b++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++)
        for (let fh = 0; fh < FH; fh++)
          for (let fw = 0; fw < FW; fw++) {
            const ih = oh * c.stride + fh - top;
            const iw = ow * c.stride + fw - left;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            for (let ci = 0; ci < CI; ci++)
              for (let co = 0; co < CO; co++) g[((fh * FW + fw) * CI + ci) * CO + co] += x[((b * H + ih) * W + iw) * CI + ci] * dy[((b * OH + oh) * OW + ow) * CO + co];
          }
  return g;
}
