import { useEffect, useRef, useState } from 'react';
import type { ProjectionEvent } from '../../engine/events';
import type { LayerMatrixImages } from '../../engine/run/matrix-images';
import type { MatrixImage } from '../../engine/lrpet/matrix-image';
import { fmtNum } from '../state/format';
import { absQuantile, divergingPixels } from './heat';
import './matrix-images.css';

/** Asks the worker for a layer's images at a projection (1-based index); null when it does not hold them. */
export type LoadMatrixImages = (layer: string, projection: number) => Promise<LayerMatrixImages | null>;

const MAX_W = 210;
const MAX_H = 130;
/** A matrix of few rows (8 filters × 72) is drawn at least this high: its rows stretched, else it is a sliver. */
const MIN_H = 64;

/** One image, one canvas pixel per pixel, shown as wide as fits with square pixels, or with taller ones for few rows. */
function MatrixCanvas({ image, scale, label, testId }: { image: MatrixImage; scale: number; label: string; testId: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (!ctx) return;
    ctx.putImageData(new ImageData(divergingPixels(image.values, scale), image.cols, image.rows), 0, 0);
  }, [image, scale]);
  const width = Math.min(MAX_W, image.cols * 8);
  const height = Math.min(MAX_H, Math.max(MIN_H, (image.rows * width) / image.cols));
  return (
    <figure className="matrix-image">
      <canvas
        ref={ref}
        width={image.cols}
        height={image.rows}
        style={{ width: Math.round(width), height: Math.round(height) }}
        role="img"
        aria-label={label}
        data-testid={testId}
      />
      <figcaption>{label}</figcaption>
    </figure>
  );
}

type Loaded = { key: string; images: LayerMatrixImages | null };

/**
 * The chosen layer's matrix M = diag(a)·W just before and after one projection, on one colour scale.
 * The images live in the worker (they are not in the event log): fetched for the layer and projection
 * shown; a stored or imported run, or a projection too old to be kept, gets a note instead.
 */
export function MatrixImages({ projection, layer, load }: { projection: ProjectionEvent | null; layer: string | null; load: LoadMatrixImages }) {
  const key = projection && layer ? `${layer}@${projection.index}:${projection.iteration}` : null;
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  useEffect(() => {
    if (!key || !projection || !layer) return;
    let current = true;
    load(layer, projection.index).then(
      // A kept projection with the same number but another iteration belongs to another run: not this one's.
      (images) => current && setLoaded({ key, images: images && images.iteration === projection.iteration ? images : null }),
      () => current && setLoaded({ key, images: null }),
    );
    return () => {
      current = false;
    };
  }, [key, projection, layer, load]);
  if (!key) return null;
  const fresh = loaded?.key === key;
  // While the next ones load, the last ones stay (no jump in the layout).
  const images = loaded ? loaded.images : undefined;
  if (images === undefined) return <div className="matrix-images pending" data-testid="matrix-images" data-state="loading" />;
  if (images === null) {
    return (
      <div className="matrix-images note muted" data-testid="matrix-images" data-state={fresh ? 'missing' : 'loading'}>
        No matrix picture for this projection: the page keeps them only for the latest projections of a run trained since it was opened (not for stored or imported
        runs).
      </div>
    );
  }
  const scale = absQuantile([images.before.values, images.after.values], 0.99);
  const [O, K] = images.shape;
  const [by, bx] = images.before.block;
  return (
    <div className="matrix-images" data-testid="matrix-images" data-state={fresh ? 'shown' : 'loading'} data-layer={images.layer} data-projection={images.projection}>
      <div className="matrix-pair">
        <MatrixCanvas image={images.before} scale={scale} label="before" testId="matrix-before" />
        <MatrixCanvas image={images.after} scale={scale} label={`after (rank ≤ ${images.rank})`} testId="matrix-after" />
      </div>
      <div className="matrix-legend">
        <span>−{fmtNum(scale, 2)}</span>
        <span className="ramp diverging" />
        <span>+{fmtNum(scale, 2)}</span>
        <span className="muted">
          M = diag(a)·W, {O}×{K}
          {by * bx > 1 ? `, mean of ${by}×${bx} blocks` : ''}
        </span>
      </div>
    </div>
  );
}
