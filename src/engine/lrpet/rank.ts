/** Spec §2: r = max(1, floor(n − n·p)), in double precision exactly as written. */
export function rankForPrune(n: number, p: number): number {
  if (!(p >= 0 && p < 1)) throw new RangeError(`prune ratio p must be in [0, 1), got ${p}`);
  return Math.max(1, Math.floor(n - n * p));
}

/** The official VGG-16 floors: at least 18 for the first conv, 43 for every other conv (never above n). */
export function vggRankFloor(convIndex: number, n: number): number {
  return Math.min(n, convIndex === 0 ? 18 : 43);
}
