import type { MatrixImage } from '../lrpet/matrix-image';

/** One layer's matrix M = diag(a)·W pictured just before and after one projection. */
export interface LayerMatrixImages {
  layer: string;
  /** Which projection of the run (1-based, as in the projection event) and the iteration it followed. */
  projection: number;
  iteration: number;
  /** The matrix view's size [O, I·kh·kw]. */
  shape: [number, number];
  rank: number;
  before: MatrixImage;
  after: MatrixImage;
}

/** What the images of the kept projections may take, together (the latest projection's are always kept). */
export const MATRIX_IMAGE_BUDGET_BYTES = 16 * 2 ** 20;

/**
 * The matrix images of a run's latest projections, kept outside the event stream: every layer's,
 * before and after, is up to 2 × 96 × 96 floats — too much to log at every projection (ResNet-56:
 * 1.4 MB a projection, its projection event ~75 kB; even 48×48 8-bit images, base64 in the event,
 * would add 181 kB to each), so the page asks for one layer's when it shows it. Older projections are
 * dropped once the kept ones would take more than the budget (ResNet-56: the latest 11).
 */
export class MatrixImageStore {
  private readonly kept: { projection: number; layers: Map<string, LayerMatrixImages>; bytes: number }[] = [];

  constructor(private readonly budgetBytes = MATRIX_IMAGE_BUDGET_BYTES) {}

  add(images: LayerMatrixImages[]): void {
    if (!images.length) return;
    const projection = images[0].projection;
    const bytes = images.reduce((s, i) => s + i.before.values.byteLength + i.after.values.byteLength, 0);
    this.kept.push({ projection, layers: new Map(images.map((i) => [i.layer, i])), bytes });
    let total = this.kept.reduce((s, k) => s + k.bytes, 0);
    while (this.kept.length > 1 && total > this.budgetBytes) total -= this.kept.shift()!.bytes;
  }

  /** One layer's images at a projection (the latest when not given); null when they are not kept. */
  get(layer: string, projection?: number): LayerMatrixImages | null {
    const entry = projection === undefined ? this.kept.at(-1) : [...this.kept].reverse().find((k) => k.projection === projection);
    return entry?.layers.get(layer) ?? null;
  }

  /** The projections whose images are kept, oldest first. */
  projections(): number[] {
    return this.kept.map((k) => k.projection);
  }
}
