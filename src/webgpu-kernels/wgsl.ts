/** Shared WGSL snippets. */

/**
 * `divFast(a, d, inv)` = floor(a / d) for 0 ≤ a < 2^22 and d ≥ 1, given inv = f32(1/d): one f32
 * multiply and one correction step instead of a full 32-bit integer division (which GPUs emulate
 * in ~20 instructions). The estimate is off by at most one in that range: |a/d · ε| < 0.5.
 */
export const DIV_FAST_WGSL = /* wgsl */ `
fn divFast(a : i32, d : i32, inv : f32) -> i32 {
  var q = i32(f32(a) * inv);
  let r = a - q * d;
  if (r < 0) {
    q -= 1;
  } else if (r >= d) {
    q += 1;
  }
  return q;
}
`;

/** Largest dividend divFast is exact for. */
export const DIV_FAST_LIMIT = 1 << 22;
