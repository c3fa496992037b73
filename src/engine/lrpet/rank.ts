/** Spec §2: r = max(1, floor(n − n·p)), in double precision exactly as written. */
export function rankForPrune(n: number, p: number): number {
  if (!(p >= 0 && p < 1)) throw new RangeError(`prune ratio p must be in [0, 1), got ${p}`);
  return Math.max(1, Math.floor(n - n * p));
}

/** The official VGG-16 floors: at least 18 for the first conv, 43 for every other conv (never above n). */
export function vggRankFloor(convIndex: number, n: number): number {
  return Math.min(n, convIndex === 0 ? 18 : 43);
}

/**
 * A rank rounded up to a multiple of `multiple` (the rankMultiple setting), never above n: GPU kernels
 * vectorise channel counts that are multiples of 4. multiple = 1 leaves the rank as it is.
 */
export function roundRankUp(rank: number, n: number, multiple: number): number {
  if (!(Number.isInteger(multiple) && multiple >= 1)) throw new RangeError(`a rank multiple must be an integer ≥ 1, got ${multiple}`);
  return Math.min(n, Math.ceil(rank / multiple) * multiple);
}
