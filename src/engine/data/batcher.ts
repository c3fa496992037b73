import { Rng } from '../rng';
import { CIFAR_MEAN, CIFAR_STD, IMAGE_BYTES, type CifarSplit } from './cifar';

const SIZE = 32;
const PAD = 4;

/** Lookup tables: uint8 value → normalised float, per channel. */
const NORM: Float32Array[] = [0, 1, 2].map((c) => {
  const t = new Float32Array(256);
  for (let v = 0; v < 256; v++) t[v] = (v / 255 - CIFAR_MEAN[c]) / CIFAR_STD[c];
  return t;
});

/**
 * Writes `indices`' images into `out` as normalised NHWC float32. With `rng`, each image gets a random
 * 32×32 crop of the image padded by 4 black pixels (black is padded before normalising, as torchvision
 * does) and a horizontal flip half the time.
 */
export function fillBatch(split: CifarSplit, indices: ArrayLike<number>, out: Float32Array, rng: Rng | null): void {
  const zero = [NORM[0][0], NORM[1][0], NORM[2][0]];
  for (let b = 0; b < indices.length; b++) {
    const src = indices[b] * IMAGE_BYTES;
    const dst = b * IMAGE_BYTES;
    let dx = 0;
    let dy = 0;
    let flip = false;
    if (rng) {
      dy = rng.int(2 * PAD + 1) - PAD;
      dx = rng.int(2 * PAD + 1) - PAD;
      flip = rng.next() < 0.5;
    }
    for (let y = 0; y < SIZE; y++) {
      const sy = y + dy;
      for (let x = 0; x < SIZE; x++) {
        const sx0 = flip ? SIZE - 1 - x : x;
        const sx = sx0 + dx;
        const o = dst + (y * SIZE + x) * 3;
        if (sy < 0 || sy >= SIZE || sx < 0 || sx >= SIZE) {
          out[o] = zero[0];
          out[o + 1] = zero[1];
          out[o + 2] = zero[2];
        } else {
          const p = src + sy * SIZE + sx;
          out[o] = NORM[0][split.images[p]];
          out[o + 1] = NORM[1][split.images[p + 1024]];
          out[o + 2] = NORM[2][split.images[p + 2048]];
        }
      }
    }
  }
}

/** Seeded epoch order; the state (rng + position) is plain numbers so a run can be checkpointed. */
export class EpochOrder {
  order: Uint32Array;
  constructor(
    readonly count: number,
    readonly rng: Rng,
  ) {
    this.order = new Uint32Array(count);
    this.reshuffle();
  }
  reshuffle(): void {
    for (let i = 0; i < this.count; i++) this.order[i] = i;
    this.rng.shuffle(this.order);
  }
}

export function stepsPerEpoch(count: number, batchSize: number): number {
  return Math.ceil(count / batchSize);
}
