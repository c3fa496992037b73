import type * as tfType from '@tensorflow/tfjs';
import { toVariable } from '../models/params';

type Tf = typeof tfType;

/**
 * SGD with momentum and weight decay in PyTorch's form: g ← g + wd·w (decayed variables only),
 * v ← μ·v + g, w ← w − lr·v. Buffers are variables so they can be read for checkpoints.
 */
export class SgdMomentum {
  readonly velocity = new Map<tfType.Variable, tfType.Variable>();
  constructor(
    private readonly tf: Tf,
    readonly variables: tfType.Variable[],
    private readonly decayed: Set<tfType.Variable>,
  ) {
    for (const v of variables) this.velocity.set(v, toVariable(tf, tf.zerosLike(v), false));
  }

  /** Applies one update; `grads` maps variable name → gradient (as tf.variableGrads returns). */
  apply(grads: Record<string, tfType.Tensor>, lr: number, momentum: number, weightDecay: number): void {
    const tf = this.tf;
    tf.tidy(() => {
      for (const v of this.variables) {
        let g = grads[v.name];
        if (!g) continue;
        if (weightDecay > 0 && this.decayed.has(v)) g = tf.add(g, tf.mul(v, weightDecay));
        const buf = this.velocity.get(v)!;
        const next = tf.add(tf.mul(buf, momentum), g);
        buf.assign(next);
        v.assign(tf.sub(v, tf.mul(next, lr)));
      }
    });
  }

  dispose(): void {
    for (const b of this.velocity.values()) b.dispose();
    this.velocity.clear();
  }
}
