/**
 * A small picture of a layer's BN-merged matrix M = diag(a)·W (O × K, one row per output filter),
 * for showing its low-rank structure: the signed mean of each block of by × bx entries. Averaging is
 * Q·M·P with averaging matrices Q and P, so the picture's rank is at most M's — a projected layer's
 * picture is still of rank ≤ r (its rows combinations of r patterns), which |M| would not keep.
 */
export interface MatrixImage {
  /** Pixels (row-major, rows × cols): means of blocks of the matrix. */
  values: Float32Array;
  rows: number;
  cols: number;
  /** The block of matrix entries behind one pixel: [rows, cols] (the last row and column of blocks may be smaller). */
  block: [number, number];
}

/** The largest side of a picture. */
export const MATRIX_IMAGE_MAX = 96;

/**
 * The picture of M = diag(scale)·W, W[o][k] = wt[k·O + o] (the engine's K×O layout of a conv kernel),
 * at most `max` × `max` pixels: blocks of ⌈O/max⌉ × ⌈K/max⌉ entries.
 */
export function matrixImage(wt: ArrayLike<number>, K: number, O: number, scale: ArrayLike<number> | null, max = MATRIX_IMAGE_MAX): MatrixImage {
  if (!(Number.isInteger(K) && Number.isInteger(O) && K > 0 && O > 0) || wt.length !== K * O) throw new Error(`matrixImage: a ${O}×${K} matrix needs ${O * K} values, not ${wt.length}`);
  if (scale && scale.length !== O) throw new Error(`matrixImage: ${scale.length} scale factors for ${O} rows`);
  if (!(Number.isInteger(max) && max >= 1)) throw new Error(`matrixImage: max must be a whole number ≥ 1, not ${max}`);
  const by = Math.ceil(O / max);
  const bx = Math.ceil(K / max);
  const rows = Math.ceil(O / by);
  const cols = Math.ceil(K / bx);
  const sums = new Float64Array(rows * cols);
  const rowOf = new Int32Array(O);
  for (let o = 0; o < O; o++) rowOf[o] = Math.floor(o / by) * cols;
  for (let k = 0; k < K; k++) {
    const c = Math.floor(k / bx);
    const base = k * O;
    for (let o = 0; o < O; o++) sums[rowOf[o] + c] += (scale ? scale[o] : 1) * wt[base + o];
  }
  const values = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const h = Math.min(by, O - r * by);
    for (let c = 0; c < cols; c++) values[r * cols + c] = sums[r * cols + c] / (h * Math.min(bx, K - c * bx));
  }
  return { values, rows, cols, block: [by, bx] };
}
