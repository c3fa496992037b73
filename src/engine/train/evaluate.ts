import type * as tfType from '@tensorflow/tfjs';
import { fillBatch } from '../data/batcher';
import type { CifarSplit } from '../data/cifar';
import { forward } from '../models/forward';
import type { ModelGraph } from '../models/graph';
import type { ModelParams } from '../models/params';
import type { Tf } from '../run/api';

const EVAL_BATCH = 250;

export interface EvalResult {
  loss: number;
  accuracy: number;
}

/** Test loss and accuracy of a graph in inference mode, in batches, every tensor freed. */
export function evaluate(tf: Tf, graph: ModelGraph, params: ModelParams, split: CifarSplit): Promise<EvalResult> {
  return evaluateLogits(tf, (x) => forward(tf, graph, params, x, false), split);
}

/** Test loss and accuracy of any forward pass (logits of an NHWC batch, called inside tf.tidy). */
export async function evaluateLogits(tf: Tf, logitsOf: (x: tfType.Tensor4D) => tfType.Tensor2D, split: CifarSplit): Promise<EvalResult> {
  const buf = new Float32Array(EVAL_BATCH * 3072);
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < split.count; start += EVAL_BATCH) {
    const n = Math.min(EVAL_BATCH, split.count - start);
    const idx = Array.from({ length: n }, (_, i) => start + i);
    fillBatch(split, idx, buf, null);
    const [l, c] = tf.tidy(() => {
      const x = tf.tensor4d(buf.subarray(0, n * 3072), [n, 32, 32, 3]);
      const labels = tf.tensor1d(split.labels.subarray(start, start + n), 'int32');
      const logits = logitsOf(x);
      const loss = tf.sum(tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 10), logits, undefined, undefined, tf.Reduction.NONE));
      const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32'));
      return [loss, hits];
    });
    const [lv, cv] = await Promise.all([l.data(), c.data()]);
    l.dispose();
    c.dispose();
    lossSum += lv[0];
    correct += cv[0];
  }
  return { loss: lossSum / split.count, accuracy: correct / split.count };
}
