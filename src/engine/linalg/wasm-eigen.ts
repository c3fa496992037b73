/**
 * Generated wasm SIMD kernels of the symmetric eigensolver (eigen.ts): the fused pass of the
 * Householder tridiagonalisation and the back-transformation by one reflector.
 */
import { F64, Fn, I32, V128, type Lanes } from './wasm-asm';

/**
 * One row of the fused tridiagonalisation step (see eigen.ts), for j in [0, count):
 *   a[j] -= vpi·wp[j] + wpi·vp[j];  y[j] += a[j]·vi;  acc += a[j]·v[j];   returns acc.
 * Params: a, vp, wp, v, y (i32 byte addresses), count (i32), vpi, wpi, vi (f64).
 */
export function genTriRow(): Fn {
  const f = new Fn('tri', [I32, I32, I32, I32, I32, I32, F64, F64, F64], [F64]);
  const [A, VP, WP, V, Y, N, VPI, WPI, VI] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [t, end2] = f.locals(I32, 2);
  const [svp, swp, sv, accv, x] = f.locals(V128, 5);
  const [s, xs] = f.locals(F64, 2);
  // x = a − vpi·wp − wpi·vp;  a = x;  y += x·vi;  acc += x·v   (at byte offset `at`)
  const update = (at: number, lanes: Lanes, vpi: number, wpi: number, vi: number, x: number, acc: number): void => {
    f.get(A).get(at).add().ld(lanes)
      .get(vpi).get(WP).get(at).add().ld(lanes).mulL(lanes).subL(lanes)
      .get(wpi).get(VP).get(at).add().ld(lanes).mulL(lanes).subL(lanes).set(x);
    f.get(A).get(at).add().get(x).st(lanes);
    f.get(Y).get(at).add().get(Y).get(at).add().ld(lanes).get(x).get(vi).mulL(lanes).addL(lanes).st(lanes);
    f.get(acc).get(x).get(V).get(at).add().ld(lanes).mulL(lanes).addL(lanes).set(acc);
  };
  f.get(VPI).splat().set(svp);
  f.get(WPI).splat().set(swp);
  f.get(VI).splat().set(sv);
  f.get(N).i32(1).shrU().i32(4).shl().set(end2);
  f.vZero().set(accv);
  f.forStep(t, end2, 16, () => update(t, 'f64x2', svp, swp, sv, x, accv));
  f.get(accv).lane(0).get(accv).lane(1).fadd().set(s);
  // odd count: the last element
  f.get(N).i32(1).and().if();
  update(end2, 'f64', VPI, WPI, VI, xs, s);
  f.end();
  f.get(s);
  return f;
}

/**
 * The whole fused pass of one tridiagonalisation step k over rows i = k+1 … n−1 (see eigen.ts):
 *   a_ii −= 2·vp_i·wp_i;  y_i += a_ii·v_i + tri(row i right of the diagonal).
 * Params (i32): a (matrix base, row stride n), n, k, vp, wp, v, y (vector bases, element j at +8j).
 */
export function genTriPass(triIndex: number): Fn {
  const f = new Fn('triPass', [I32, I32, I32, I32, I32, I32, I32]);
  const [A, N, K, VP, WP, V, Y] = [0, 1, 2, 3, 4, 5, 6];
  const [i, off, ri] = f.locals(I32, 3);
  const [vpi, wpi, vi, aii] = f.locals(F64, 4);
  f.get(K).i32(1).add().set(i);
  f.forEach(i, N, () => {
    f.get(i).i32(3).shl().set(off);
    f.get(VP).get(off).add().f64Load().set(vpi);
    f.get(WP).get(off).add().f64Load().set(wpi);
    f.get(V).get(off).add().f64Load().set(vi);
    // ri = a + (i·n + i)·8
    f.get(A).get(i).get(N).mul().get(i).add().i32(3).shl().add().set(ri);
    f.get(ri).f64Load().get(vpi).get(wpi).fmul().get(vpi).get(wpi).fmul().fadd().fsub().set(aii);
    f.get(ri).get(aii).f64Store();
    // y_i += a_ii·v_i + tri(...)
    f.get(Y).get(off).add();
    f.get(Y).get(off).add().f64Load().get(aii).get(vi).fmul().fadd();
    f.get(ri).i32(8).add()
      .get(VP).get(off).add().i32(8).add()
      .get(WP).get(off).add().i32(8).add()
      .get(V).get(off).add().i32(8).add()
      .get(Y).get(off).add().i32(8).add()
      .get(N).get(i).sub().i32(1).sub()
      .get(vpi).get(wpi).get(vi)
      .call(triIndex);
    f.fadd().f64Store();
  });
  return f;
}

/**
 * Applies one Householder reflector H = I − τ·u uᵀ, u = (1, v[0 … len−1]), to kv vectors:
 * for each q, z_q = Z + q·zs (byte address of the vector's first affected element):
 *   s = τ·(z_q[0] + Σ v[j]·z_q[1+j]);  z_q[0] −= s;  z_q[1+j] −= s·v[j].
 * Params: v, z (i32 byte addresses), len, kv, zs (i32), tau (f64).
 */
export function genRefl(): Fn {
  const f = new Fn('refl', [I32, I32, I32, I32, I32, F64]);
  const [VV, Z, LEN, KV, ZS, TAU] = [0, 1, 2, 3, 4, 5];
  const [q, zq, t, end2] = f.locals(I32, 4);
  const [acc, sv] = f.locals(V128, 2);
  const s = f.local(F64);
  // acc += v·z_q[1 …]   and   z_q[1 …] −= c·v   (at byte offset `at`)
  const dot = (at: number, lanes: Lanes, acc: number): void => {
    f.get(acc).get(VV).get(at).add().ld(lanes).get(zq).get(at).add().ld(lanes, 8).mulL(lanes).addL(lanes).set(acc);
  };
  const axpy = (at: number, lanes: Lanes, c: number): void => {
    f.get(zq).get(at).add().get(zq).get(at).add().ld(lanes, 8).get(c).get(VV).get(at).add().ld(lanes).mulL(lanes).subL(lanes).st(lanes, 8);
  };
  f.get(LEN).i32(1).shrU().i32(4).shl().set(end2);
  f.forEach(q, KV, () => {
    f.get(Z).get(q).get(ZS).mul().add().set(zq);
    f.vZero().set(acc);
    f.i32(0).set(t);
    f.forStep(t, end2, 16, () => dot(t, 'f64x2', acc));
    f.get(acc).lane(0).get(acc).lane(1).fadd().get(zq).f64Load().fadd().set(s);
    f.get(LEN).i32(1).and().if();
    dot(end2, 'f64', s);
    f.end();
    f.get(s).get(TAU).fmul().set(s);
    f.get(zq).get(zq).f64Load().get(s).fsub().f64Store();
    f.get(s).splat().set(sv);
    f.i32(0).set(t);
    f.forStep(t, end2, 16, () => axpy(t, 'f64x2', sv));
    f.get(LEN).i32(1).and().if();
    axpy(end2, 'f64', s);
    f.end();
  });
  return f;
}
