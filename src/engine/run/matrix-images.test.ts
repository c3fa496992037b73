import { describe, expect, it } from 'vitest';
import { MatrixImageStore, type LayerMatrixImages } from './matrix-images';

describe('MatrixImageStore', () => {
  const images = (projection: number, layers: string[], side: number): LayerMatrixImages[] =>
    layers.map((layer) => {
      const img = { values: new Float32Array(side * side).fill(projection), rows: side, cols: side, block: [1, 1] as [number, number] };
      return { layer, projection, iteration: projection * 10, shape: [side, side], rank: 1, before: img, after: img };
    });

  it('answers for the latest projection or a kept one, and drops the oldest beyond its budget', () => {
    // Each projection: 2 layers × 2 images × 16 floats × 4 bytes = 256 bytes; a budget of 600 keeps two.
    const store = new MatrixImageStore(600);
    expect(store.get('a')).toBeNull();
    for (const p of [1, 2, 3]) store.add(images(p, ['a', 'b'], 4));
    expect(store.projections()).toEqual([2, 3]);
    expect(store.get('b')?.projection).toBe(3);
    expect(store.get('a', 2)?.iteration).toBe(20);
    expect(store.get('a', 1)).toBeNull();
    expect(store.get('c', 3)).toBeNull();
  });

  it('always keeps the latest projection, even over the budget', () => {
    const store = new MatrixImageStore(10);
    store.add(images(1, ['a'], 4));
    store.add(images(2, ['a'], 4));
    expect(store.projections()).toEqual([2]);
    expect(store.get('a')?.before.values[0]).toBe(2);
  });
});
