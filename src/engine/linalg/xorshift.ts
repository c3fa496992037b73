/**
 * Fills out[0 … len) with Marsaglia's xorshift32 sequence from the uint32 `state` (non-zero),
 * each value mapped to s / 2³¹ − 1 ∈ (−1, 1): cheap, deterministic numbers for start vectors and
 * test data (not for anything statistical).
 */
export function xorshiftUniform(out: Float32Array | Float64Array, len: number, state: number): void {
  let s = state >>> 0;
  for (let i = 0; i < len; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s / 2147483648 - 1;
  }
}
