import { IMAGE_BYTES, type CifarDataset, type CifarSplit } from '../data/cifar';
import { Rng } from '../rng';

/** A learnable synthetic CIFAR-shaped dataset for tests: each class tints one colour channel and one image region. */
export function syntheticDataset(train: number, test: number, seed = 7): CifarDataset {
  const rng = new Rng(seed);
  const split = (count: number): CifarSplit => {
    const images = new Uint8Array(count * IMAGE_BYTES);
    const labels = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      const label = rng.int(10);
      labels[i] = label;
      const channel = label % 3;
      const quadrant = Math.floor(label / 3);
      for (let c = 0; c < 3; c++) {
        for (let p = 0; p < 1024; p++) {
          const y = p >> 5;
          const x = p & 31;
          const inRegion = ((y < 16 ? 0 : 2) + (x < 16 ? 0 : 1)) === quadrant;
          const base = 60 + rng.int(60);
          images[i * IMAGE_BYTES + c * 1024 + p] = Math.min(255, base + (c === channel ? 80 : 0) + (inRegion ? 60 : 0));
        }
      }
    }
    return { images, labels, count };
  };
  return { train: split(train), test: split(test), source: 'synthetic' };
}
