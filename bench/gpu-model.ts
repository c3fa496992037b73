/**
 * THE BENCHMARK'S OWN MODEL AND TRAINING STEP — not the engine's (src/engine). Kept minimal and
 * self-contained so bench/gpu.ts does not depend on the engine's trainer, and mirrored one-to-one
 * by scripts/gpu/pytorch_bench.py so the images/s of both are comparable:
 *
 *  - CIFAR ResNet-20 / ResNet-56 (He et al. 2016, §4.2): 3×3 conv 16 → 3 stages of n basic blocks
 *    (16, 32, 64 channels; n = 3 or 9), BN after every conv, ReLU, option-A shortcuts (identity,
 *    or stride-2 subsampling with zero-padded channels), global average pool, dense 64 → 10.
 *  - CIFAR VGG-16 (the usual variant): 13 × (3×3 conv, BN, ReLU) with 2×2 max-pooling after each
 *    stage, dense 512 → 10.
 *  - BN in training mode (batch statistics via tf.moments, no running averages), softmax
 *    cross-entropy, SGD with momentum 0.9 and weight decay 5e-4 on all parameters
 *    (PyTorch's torch.optim.SGD update: buf = m·buf + (g + wd·w); w −= lr·buf).
 *  - Random CIFAR-shaped data (N×32×32×3, NHWC), generated once on the device and reused.
 *
 * The convolutions are called as the engine calls them: tf.conv2d(x, w (HWIO), stride, 1)
 * for 3×3 (numeric, symmetric padding).
 */
import type * as tfType from '@tensorflow/tfjs';

type Tf = typeof tfType;
type T4 = tfType.Tensor4D;

export type BenchModelName = 'resnet20' | 'resnet56' | 'vgg16';
export const BENCH_MODELS: BenchModelName[] = ['resnet20', 'resnet56', 'vgg16'];

/** One convolution layer of a model, as the per-kernel benchmark needs it. */
export interface ConvLayer {
  h: number;
  w: number;
  ci: number;
  co: number;
  k: number;
  stride: number;
  pad: number | 'valid';
}

const VGG16: (number | 'M')[] = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'];

/** The conv layers of a model at CIFAR resolution (input 32×32×3). */
export function convLayers(name: BenchModelName): ConvLayer[] {
  const out: ConvLayer[] = [];
  if (name === 'vgg16') {
    let h = 32;
    let c = 3;
    for (const v of VGG16) {
      if (v === 'M') h /= 2;
      else {
        out.push({ h, w: h, ci: c, co: v, k: 3, stride: 1, pad: 1 });
        c = v;
      }
    }
    return out;
  }
  const n = name === 'resnet20' ? 3 : 9;
  out.push({ h: 32, w: 32, ci: 3, co: 16, k: 3, stride: 1, pad: 1 });
  let h = 32;
  let c = 16;
  for (const width of [16, 32, 64]) {
    for (let b = 0; b < n; b++) {
      const stride = b === 0 && width !== 16 ? 2 : 1;
      out.push({ h, w: h, ci: c, co: width, k: 3, stride, pad: 1 });
      h /= stride;
      out.push({ h, w: h, ci: width, co: width, k: 3, stride: 1, pad: 1 });
      c = width;
    }
  }
  return out;
}

export interface BenchModel {
  name: BenchModelName;
  params: tfType.Variable[];
  forward(x: T4): tfType.Tensor2D;
  dispose(): void;
}

/** Deterministic He-normal conv weights, zero biases, BN γ = 1, β = 0. */
export function buildModel(tf: Tf, name: BenchModelName, seed = 1): BenchModel {
  const params: tfType.Variable[] = [];
  let s = seed;
  // Each initial value is disposed once its variable holds the data (variables survive tidy).
  const v = (init: tfType.Tensor, _label: string) => {
    const p = tf.tidy(() => tf.variable(tf.keep(init), true));
    init.dispose();
    params.push(p);
    return p;
  };
  const convW = (k: number, ci: number, co: number) => v(tf.randomNormal([k, k, ci, co], 0, Math.sqrt(2 / (k * k * ci)), 'float32', s++), 'conv') as unknown as T4;
  const bnP = (c: number) => ({ gamma: v(tf.ones([c]), 'gamma') as unknown as tfType.Tensor1D, beta: v(tf.zeros([c]), 'beta') as unknown as tfType.Tensor1D });
  const bn = (x: T4, p: { gamma: tfType.Tensor1D; beta: tfType.Tensor1D }): T4 => {
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    return tf.batchNorm4d(x, mean as tfType.Tensor1D, variance as tfType.Tensor1D, p.beta, p.gamma, 1e-5);
  };

  if (name === 'vgg16') {
    const layers: ({ w: T4; bn: ReturnType<typeof bnP> } | 'M')[] = [];
    let c = 3;
    for (const item of VGG16) {
      if (item === 'M') layers.push('M');
      else {
        layers.push({ w: convW(3, c, item), bn: bnP(item) });
        c = item;
      }
    }
    const dense = v(tf.randomNormal([512, 10], 0, Math.sqrt(1 / 512), 'float32', s++), 'dense') as unknown as tfType.Tensor2D;
    const bias = v(tf.zeros([10]), 'bias');
    return {
      name,
      params,
      forward(x) {
        let h = x;
        for (const l of layers) h = l === 'M' ? tf.maxPool(h, 2, 2, 'valid') : tf.relu(bn(tf.conv2d(h, l.w, 1, 1), l.bn));
        return tf.add(tf.matMul(tf.reshape(h, [h.shape[0], 512]), dense), bias);
      },
      dispose: () => tf.dispose(params),
    };
  }

  const n = name === 'resnet20' ? 3 : 9;
  const stem = { w: convW(3, 3, 16), bn: bnP(16) };
  const blocks: { stride: number; ci: number; co: number; w1: T4; bn1: ReturnType<typeof bnP>; w2: T4; bn2: ReturnType<typeof bnP> }[] = [];
  let c = 16;
  for (const width of [16, 32, 64]) {
    for (let b = 0; b < n; b++) {
      const stride = b === 0 && width !== 16 ? 2 : 1;
      blocks.push({ stride, ci: c, co: width, w1: convW(3, c, width), bn1: bnP(width), w2: convW(3, width, width), bn2: bnP(width) });
      c = width;
    }
  }
  const dense = v(tf.randomNormal([64, 10], 0, Math.sqrt(1 / 64), 'float32', s++), 'dense') as unknown as tfType.Tensor2D;
  const bias = v(tf.zeros([10]), 'bias');

  /** Option A: x[:, ::2, ::2, :] with the channels zero-padded (co − ci)/2 on each side. */
  const shortcutA = (x: T4, co: number): T4 => {
    const [bN, H, W, C] = x.shape;
    const sub = tf.reshape(tf.slice(tf.reshape(x, [(bN * H) / 2, 2, W / 2, 2 * C]), [0, 0, 0, 0], [(bN * H) / 2, 1, W / 2, C]), [bN, H / 2, W / 2, C]) as T4;
    const p = (co - C) / 2;
    return tf.pad(sub, [
      [0, 0],
      [0, 0],
      [0, 0],
      [p, p],
    ]);
  };

  return {
    name,
    params,
    forward(x) {
      let h = tf.relu(bn(tf.conv2d(x, stem.w, 1, 1), stem.bn));
      for (const b of blocks) {
        const o1 = tf.relu(bn(tf.conv2d(h, b.w1, b.stride, 1), b.bn1));
        const o2 = bn(tf.conv2d(o1, b.w2, 1, 1), b.bn2);
        const sc = b.stride === 1 && b.ci === b.co ? h : shortcutA(h, b.co);
        h = tf.relu(tf.add(o2, sc));
      }
      const pooled = tf.mean(h, [1, 2]) as tfType.Tensor2D;
      return tf.add(tf.matMul(pooled, dense), bias);
    },
    dispose: () => tf.dispose(params),
  };
}

export interface TrainerOptions {
  lr: number;
  momentum: number;
  weightDecay: number;
  seed: number;
}

export interface Trainer {
  /** Queues one training step on the device; returns its loss (caller disposes it). */
  step(): tfType.Scalar;
  dispose(): void;
}

export function makeTrainer(tf: Tf, model: BenchModel, batch: number, opts: Partial<TrainerOptions> = {}): Trainer {
  const { lr = 0.02, momentum = 0.9, weightDecay = 5e-4, seed = 7 } = opts;
  const x = tf.randomNormal([batch, 32, 32, 3], 0, 1, 'float32', seed) as T4;
  const labels = tf.tidy(() => tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32', seed + 1), 10));
  const bufs = model.params.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
  return {
    step() {
      return tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(labels, model.forward(x)) as tfType.Scalar, model.params);
        model.params.forEach((p, i) => {
          const g = tf.add(grads[p.name], tf.mul(p, weightDecay));
          const buf = tf.add(tf.mul(bufs[i], momentum), g);
          bufs[i].assign(buf);
          p.assign(tf.sub(p, tf.mul(buf, lr)));
        });
        return value;
      });
    },
    dispose() {
      tf.dispose([x, labels, ...bufs]);
    },
  };
}
