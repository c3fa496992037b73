import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportGraphModel } from '../export/graph-model';
import { loadExported } from '../infer/bench';
import { graphModelCosts, ModelFileError } from '../infer/model-costs';
import { forward } from '../models/forward';
import { compactFixture } from '../testing/compact-fixture';
import { maxRelDiff } from '../testing/compare';
import { deployRunner, fusedForwardAvailable } from './forward';
import { splitPairs } from './model';
import { deployToGraphModel, padRanks } from './pad-ranks';
import { readGraphModel } from './read-graph-model';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

describe.each([
  ['resnet8-tiny', { prune: 0.6 }],
  ['vgg-tiny', { prune: 0.5 }],
  ['resnet8-tiny', { prune: 0.5, projectDense: true }],
] as const)('deploy model of %s %j', (model, opts) => {
  it('reads a graph model back with BN folded: the same logits, graph and costs; padded ranks compute the same function', async () => {
    const before = tf.memory().numTensors;
    const fx = await compactFixture(tf, model, opts);
    const x = tf.randomNormal([3, 32, 32, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    for (const [graph, params] of [
      [fx.plan.graph, fx.params],
      [fx.compact.graph, fx.compact.params],
    ] as const) {
      const exported = await exportGraphModel(graph, params);
      const deploy = readGraphModel(exported);
      expect(deploy.graph.nodes.some((n) => n.op === 'bn')).toBe(false);
      expect(deploy.graph.nodes.filter((n) => n.op !== 'bn').map((n) => n.name)).toEqual(graph.nodes.filter((n) => n.op !== 'bn').map((n) => n.name));
      const ref = tf.tidy(() => forward(tf, graph, params, x, false));
      const runner = deployRunner(tf, deploy);
      const y = tf.tidy(() => runner.predict(x, 'ops'));
      expect(maxRelDiff(y.dataSync(), ref.dataSync())).toBeLessThanOrEqual(1e-5);
      // Written back as a graph model, it has the same MACs (the folded BN shifts become conv biases) and predicts the same.
      const again = await deployToGraphModel(tf, deploy);
      const bnChannels = graph.nodes.reduce((s, n) => s + (n.op === 'bn' ? n.channels : 0), 0);
      const biasesBefore = graph.nodes.reduce((s, n) => s + (n.op === 'conv' && n.bias && graph.nodes.some((b) => b.op === 'bn' && b.input === n.name) ? n.outChannels : 0), 0);
      expect(graphModelCosts(again.modelJson)).toEqual({ macs: graphModelCosts(exported.modelJson).macs, params: graphModelCosts(exported.modelJson).params + bnChannels - biasesBefore });
      const loaded = await loadExported(tf, again);
      const z = loaded.predict(x) as tf.Tensor;
      expect(maxRelDiff(z.dataSync(), ref.dataSync())).toBeLessThanOrEqual(1e-5);
      for (const multiple of [4, 8]) {
        const padded = padRanks(deploy, multiple);
        const pairs = splitPairs(padded.graph);
        expect(pairs.length).toBe(splitPairs(deploy.graph).length);
        for (const p of pairs) {
          const mix = padded.graph.nodes.find((n) => n.name === p.mix)!;
          const n = mix.op === 'conv' ? Math.min(mix.outChannels, (padded.graph.nodes.find((q) => q.name === p.basis) as { inChannels: number; kernel: number }).inChannels * 9) : 0;
          expect(p.rank % multiple === 0 || p.rank === n).toBe(true);
        }
        const pr = deployRunner(tf, padded);
        const py = tf.tidy(() => pr.predict(x, 'ops'));
        expect(maxRelDiff(py.dataSync(), ref.dataSync()), `padded ×${multiple}`).toBeLessThanOrEqual(1e-5);
        py.dispose();
        pr.dispose();
      }
      tf.dispose([ref, y, z]);
      loaded.dispose();
      runner.dispose();
    }
    x.dispose();
    fx.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(fusedForwardAvailable(tf)).toBe(false); // the CPU backend has no fused kernel: the engine uses plain ops there
  });
});

describe('readGraphModel', () => {
  it('says which node it cannot read', async () => {
    const fx = await compactFixture(tf, 'resnet8-tiny', { prune: 0.5 });
    const exported = await exportGraphModel(fx.compact.graph, fx.compact.params);
    fx.dispose();
    const json = structuredClone(exported.modelJson) as { modelTopology: { node: { name: string; op: string }[] } };
    json.modelTopology.node.find((n) => n.op === 'Relu')!.op = 'Sigmoid';
    expect(() => readGraphModel({ ...exported, modelJson: json })).toThrow(ModelFileError);
    expect(() => readGraphModel({ ...exported, modelJson: json })).toThrow(/Sigmoid 'stem\/relu': this op is not part of the models this project exports/);
    expect(() => readGraphModel({ ...exported, weights: exported.weights.slice(0, 100) })).toThrow(/weights.bin is too short/);
  });
});
