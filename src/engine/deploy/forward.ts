import type * as tfType from '@tensorflow/tfjs';
import type { Tf } from '../run/api';
import { splitPairs, type DeployModel } from './model';
import { plainNode } from '../models/forward';

/**
 * The engine's own forward pass of a deploy model (BN folded, deploy/model.ts). 'fused': every split
 * layer (its k×k conv to r channels, its 1×1 conv back, the bias and the ReLU that follows) is one
 * dispatch of the fused split convolution (webgpu-kernels/fused-split-conv.ts), which the page or Node
 * registers on tfjs's webgpu backend; 'ops': plain tfjs ops, two convs a split layer (any backend).
 */

/** The kernel name the fused split convolution is registered under (webgpu-kernels/fused-split-conv.ts). */
export const FUSED_SPLIT_CONV = 'LrpetFusedSplitConv';

export type CompactForwardMode = 'fused' | 'ops';

/** Whether the fused split convolution can run on the backend in use (registered for it). */
export const fusedForwardAvailable = (tf: Tf): boolean => tf.getKernel(FUSED_SPLIT_CONV, tf.getBackend()) !== undefined;

/**
 * How the engine runs a compact model (its test evaluations): fused where the kernel is registered
 * (WebGPU), where it measured faster than plain ops (README › Benchmarks); plain ops elsewhere.
 */
export const compactForwardMode = (tf: Tf): CompactForwardMode => (fusedForwardAvailable(tf) ? 'fused' : 'ops');

interface TensorWeights {
  kernel: tfType.Tensor;
  bias: tfType.Tensor | null;
}

/** A deploy model's weights on the backend, ready to run; dispose() frees them. */
export interface DeployRunner {
  readonly model: DeployModel;
  /** Logits [N, classes] of an NHWC batch (call inside tf.tidy, or dispose the result). */
  predict(x: tfType.Tensor4D, mode: CompactForwardMode): tfType.Tensor2D;
  dispose(): void;
}

export function deployRunner(tf: Tf, model: DeployModel): DeployRunner {
  const weights = new Map<string, TensorWeights>();
  for (const node of model.graph.nodes) {
    if (node.op !== 'conv' && node.op !== 'dense') continue;
    const w = model.weights.get(node.name)!;
    const shape = node.op === 'conv' ? [node.kernel, node.kernel, node.inChannels, node.outChannels] : [node.inFeatures, node.outFeatures];
    weights.set(node.name, { kernel: tf.tensor(w.kernel, shape), bias: w.bias ? tf.tensor1d(w.bias) : null });
  }
  // A split layer's halves as the fused kernel takes them: mix [r, O] and a bias (zeros when it has none).
  const fusedParts = new Map<string, { mix: tfType.Tensor2D; bias: tfType.Tensor1D }>();
  for (const pair of splitPairs(model.graph)) {
    const mix = weights.get(pair.mix)!;
    const outC = mix.kernel.shape[3]!;
    fusedParts.set(pair.mix, { mix: tf.reshape(mix.kernel, [pair.rank, outC]), bias: mix.bias ? (tf.clone(mix.bias) as tfType.Tensor1D) : tf.zeros([outC]) });
  }
  const graph = model.graph;
  const users = (name: string) => graph.nodes.filter((n) => ('inputs' in n ? n.inputs.includes(name) : n.input === name));
  /** The ReLU that alone consumes a split layer's output: fused into it. */
  const fusedRelu = new Map<string, string>();
  for (const mix of fusedParts.keys()) {
    const next = users(mix);
    if (next.length === 1 && next[0].op === 'relu') fusedRelu.set(mix, next[0].name);
  }

  return {
    model,
    predict(x, mode) {
      const fused = mode === 'fused';
      const values = new Map<string, tfType.Tensor>([['input', x]]);
      const get = (name: string) => values.get(name) ?? (() => { throw new Error(`deploy graph ${graph.name}: '${name}' is not computed yet`); })();
      const skip = new Set<string>();
      for (const node of graph.nodes) {
        if (skip.has(node.name)) continue;
        let out: tfType.Tensor;
        switch (node.op) {
          case 'conv': {
            const parts = fused && node.name.endsWith('/basis') ? fusedParts.get(node.name.slice(0, -'/basis'.length)) : undefined;
            if (parts) {
              const mixName = node.name.slice(0, -'/basis'.length);
              const relu = fusedRelu.get(mixName);
              const inputs = { x: get(node.input), basis: weights.get(node.name)!.kernel, mix: parts.mix, bias: parts.bias };
              out = tf.engine().runKernel(FUSED_SPLIT_CONV, inputs as never, { stride: node.stride, pad: node.pad, relu: relu !== undefined } as never) as tfType.Tensor;
              // The basis output is never materialised; the mix (and its ReLU) are this one result.
              values.set(mixName, out);
              skip.add(mixName);
              if (relu) {
                values.set(relu, out);
                skip.add(relu);
              }
              break;
            }
            out = plainNode(tf, node, get, (name) => weights.get(name)!);
            break;
          }
          case 'bn':
            throw new Error(`deploy graph ${graph.name}: BatchNorm '${node.name}' is not folded`);
          default:
            out = plainNode(tf, node, get, (name) => weights.get(name)!);
        }
        values.set(node.name, out);
      }
      return get(graph.output) as tfType.Tensor2D;
    },
    dispose() {
      for (const w of weights.values()) {
        w.kernel.dispose();
        w.bias?.dispose();
      }
      for (const p of fusedParts.values()) {
        p.mix.dispose();
        p.bias.dispose();
      }
      weights.clear();
      fusedParts.clear();
    },
  };
}
