/** Generated wasm SIMD float32 ⇄ float64 conversions of the weights (in and out of the workspace). */
import { F64, Fn, I32, V128, type Lanes } from './wasm-asm';

/**
 * dst (f64, K rows of stride ld) = src (f32, K×O) · diag(scale), columns O … ld−1 zeroed;
 * returns Σ dst². Params (i32): src, dst, scale (byte addresses; scale = 0 means all ones),
 * K, O, ld (elements).
 */
export function genFill(): Fn {
  const f = new Fn('fill', [I32, I32, I32, I32, I32, I32], [F64]);
  const [SRC, DST, SC, K, O, LD] = [0, 1, 2, 3, 4, 5];
  const [k, o, ps, pd, o2] = f.locals(I32, 5);
  const [x, acc] = f.locals(V128, 2);
  const [xs, es] = f.locals(F64, 2);
  // x = src[col] as f64 · scale[col];  dst[col] = x;  sum += x²   (col a local)
  const column = (col: number, lanes: Lanes, x: number, sum: number): void => {
    f.get(ps).get(col).i32(2).shl().add();
    if (lanes === 'f64x2') f.vLoadSplat().promoteLow(); // two f32 → two f64
    else f.f32Load().f64PromoteF32();
    f.set(x);
    f.get(SC).if();
    f.get(x).get(SC).get(col).i32(3).shl().add().ld(lanes).mulL(lanes).set(x);
    f.end();
    f.get(pd).get(col).i32(3).shl().add().get(x).st(lanes);
    f.get(sum).get(x).get(x).mulL(lanes).addL(lanes).set(sum);
  };
  f.get(O).i32(1).shrU().i32(1).shl().set(o2);
  f.vZero().set(acc);
  f.forEach(k, K, () => {
    f.get(SRC).get(k).get(O).mul().i32(2).shl().add().set(ps);
    f.get(DST).get(k).get(LD).mul().i32(3).shl().add().set(pd);
    f.i32(0).set(o);
    // pairs, then the odd last column
    f.forStep(o, o2, 2, () => column(o, 'f64x2', x, acc));
    f.get(O).i32(1).and().if();
    column(o2, 'f64', xs, es);
    f.end();
    // zero padding O … ld−1
    f.get(O).set(o);
    f.forStep(o, LD, 1, () => f.get(pd).get(o).i32(3).shl().add().f64Const(0).f64Store());
  });
  f.get(acc).lane(0).get(acc).lane(1).fadd().get(es).fadd();
  return f;
}

/**
 * dst (f32, K×O dense) = src (f64, K rows of stride ld), rounded to nearest.
 * Params (i32): src, dst (byte addresses), K, O, ld.
 */
export function genToF32(): Fn {
  const f = new Fn('tof32', [I32, I32, I32, I32, I32]);
  const [SRC, DST, K, O, LD] = [0, 1, 2, 3, 4];
  const [k, o, ps, pd, o2] = f.locals(I32, 5);
  f.get(O).i32(1).shrU().i32(1).shl().set(o2);
  f.forEach(k, K, () => {
    f.get(SRC).get(k).get(LD).mul().i32(3).shl().add().set(ps);
    f.get(DST).get(k).get(O).mul().i32(2).shl().add().set(pd);
    f.i32(0).set(o);
    f.forStep(o, o2, 2, () => {
      f.get(pd).get(o).i32(2).shl().add()
        .get(ps).get(o).i32(3).shl().add().vLoad().demoteZero()
        .vStore64Lane(0);
    });
    f.get(O).i32(1).and().if();
    f.get(pd).get(o2).i32(2).shl().add().get(ps).get(o2).i32(3).shl().add().f64Load().f32DemoteF64().f32Store();
    f.end();
  });
  return f;
}
