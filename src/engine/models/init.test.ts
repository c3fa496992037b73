import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from './builders';
import { weightNodes } from './graph';
import { disposeParams, initParams } from './params';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

function moments(values: Float32Array): { mean: number; std: number } {
  let s = 0;
  for (const v of values) s += v;
  const mean = s / values.length;
  let q = 0;
  for (const v of values) q += (v - mean) ** 2;
  return { mean, std: Math.sqrt(q / values.length) };
}

/**
 * A sample of N independent normal draws has a standard deviation within about σ·(1 ± 1/√(2N)) and a
 * mean within about ±σ/√N (one standard error each); the checks allow 5 standard errors, so they fail
 * only for a wrong σ (the closest wrong one here, fan-in where fan-out is due, is off by ≥ √2) or a
 * broken generator. The RNG is seeded, so the test is deterministic anyway.
 */
function expectNormal(name: string, values: Float32Array, sigma: number): void {
  const { mean, std } = moments(values);
  const n = values.length;
  expect(Math.abs(std / sigma - 1), `${name}: std ${std} vs ${sigma} (${n} values)`).toBeLessThan(5 / Math.sqrt(2 * n));
  expect(Math.abs(mean) / sigma, `${name}: mean ${mean}`).toBeLessThan(5 / Math.sqrt(n));
}

describe("VGG initialisation: the official code's", () => {
  it.each(['vgg16', 'vgg-tiny'] as const)('%s: conv weights N(0, √(2/(9·out))), classifier N(0, 0.01), biases 0, BN γ=1 β=0', (model) => {
    const graph = buildModel(model);
    const params = initParams(tf, graph, 1234);
    let convs = 0;
    for (const node of weightNodes(graph)) {
      const w = params.weights.get(node.name)!;
      const kernel = w.kernel.dataSync() as Float32Array;
      if (node.op === 'conv') {
        convs++;
        expectNormal(node.name, kernel, Math.sqrt(2 / (node.kernel * node.kernel * node.outChannels)));
      } else {
        expectNormal(node.name, kernel, 0.01);
      }
      expect(w.bias, node.name).not.toBeNull();
      expect(Array.from(w.bias!.dataSync()).every((b) => b === 0), `${node.name} bias`).toBe(true);
    }
    expect(convs).toBe(model === 'vgg16' ? 13 : 3);
    for (const [name, bn] of params.bn) {
      expect(Array.from(bn.gamma.dataSync()).every((g) => g === 1), name).toBe(true);
      expect(Array.from(bn.beta.dataSync()).every((b) => b === 0), name).toBe(true);
    }
    disposeParams(params);
  });
});

describe("ResNet initialisation: the official code's", () => {
  it('conv and linear weights Kaiming-normal fan-in, the linear bias uniform(±1/√fan_in) as PyTorch leaves it', () => {
    const graph = buildModel('resnet20');
    const params = initParams(tf, graph, 99);
    for (const node of weightNodes(graph)) {
      const w = params.weights.get(node.name)!;
      const fanIn = node.op === 'conv' ? node.kernel * node.kernel * node.inChannels : node.inFeatures;
      expectNormal(node.name, w.kernel.dataSync() as Float32Array, Math.sqrt(2 / fanIn));
      if (node.op === 'conv') expect(w.bias, node.name).toBeNull();
    }
    const fc = params.weights.get('fc')!.bias!.dataSync();
    // 10 values of uniform(±1/8): all inside, not all zero, not all of one sign (probability 2⁻⁹ for a fair draw).
    expect(Array.from(fc).every((b) => Math.abs(b) <= 1 / 8)).toBe(true);
    expect(new Set(Array.from(fc).map(Math.sign))).toEqual(new Set([1, -1]));
    disposeParams(params);
  });

  it('is the same for the same seed and differs for another', () => {
    const graph = buildModel('vgg-tiny');
    const a = initParams(tf, graph, 5);
    const b = initParams(tf, graph, 5);
    const c = initParams(tf, graph, 6);
    const first = (p: typeof a) => Array.from(p.weights.get('conv2')!.kernel.dataSync().slice(0, 8));
    expect(first(a)).toEqual(first(b));
    expect(first(a)).not.toEqual(first(c));
    for (const p of [a, b, c]) disposeParams(p);
  });
});
