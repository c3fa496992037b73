/**
 * The hot loops, in WebAssembly SIMD (f64x2) where the runtime has it and in plain JavaScript
 * otherwise, plus the workspace that holds their operands:
 *  - gemmNT: C = A·Bᵀ, every entry a dot product of two contiguous rows (Gram of short-fat rows);
 *  - gemmNN: C (+)= A·B with B's rows contiguous, vectorised along C's columns (Gram WAᵀWA,
 *    the projection products);
 *  - triPass / applyReflector: the fused pass of the Householder tridiagonalisation and the
 *    back-transformation of eigenvectors (eigen.ts);
 *  - fillScaledWasm / copyOut: float32 ⇄ float64 conversion of the weights.
 *
 * The wasm module is generated at runtime by the code below (see wasm-asm.ts): no build step, no
 * binary in the repository. On the benchmark machine the wasm path is ≈ 3× (ResNet-56) to 5×
 * (VGG-16) faster than the JS fallback. Operands must live in the workspace (views on the wasm memory) to use the
 * wasm path; anything else silently takes the JS path.
 */
import { assemble, F64, Fn, I32, V128 } from './wasm-asm';

export type Backend = 'auto' | 'wasm' | 'js';

type NtKernel = (a: number, b: number, c: number, nb: number, p: number, lda: number, ldb: number, ldc: number, accumulate: number) => void;
type TriKernel = (a: number, vp: number, wp: number, v: number, y: number, count: number, vpi: number, wpi: number, vi: number) => number;
type NnKernel = (a: number, ais: number, ass: number, b: number, ldb: number, c: number, ldc: number, p: number, nb: number, accumulate: number) => void;
type FillKernel = (src: number, dst: number, scale: number, K: number, O: number, ld: number) => number;
type ToF32Kernel = (src: number, dst: number, K: number, O: number, ld: number) => void;
type TriPassKernel = (a: number, n: number, k: number, vp: number, wp: number, v: number, y: number) => void;
type ReflKernel = (v: number, z: number, len: number, kv: number, zs: number, tau: number) => void;

interface WasmKernels {
  mem: WebAssembly.Memory;
  /** mem.buffer, cached (the getter is slow); refreshed after every grow. */
  buffer: ArrayBuffer;
  nt: Record<'k24' | 'k21' | 'k14' | 'k11', NtKernel>;
  nn: Record<'c42' | 'r42' | 'x12', NnKernel>;
  tri: TriKernel;
  triPass: TriPassKernel;
  refl: ReflKernel;
  fill: FillKernel;
  tof32: ToF32Kernel;
}

/** Block shape of the main wasm kernel: MI rows of A against NJ rows of B. */
const MI = 2;
const NJ = 4;

/**
 * Generates a kernel computing an mi×nj block of C = A·Bᵀ, repeated for nb consecutive column
 * blocks (B and C advance by nj rows / nj columns each time). Vectorised along the inner dimension
 * with f64x2 accumulators (two partial sums per entry), unrolled by `unroll` pairs.
 * Params (all i32, byte addresses/strides): a, b, c, nb, p (inner length, elements), lda, ldb, ldc,
 * accumulate (non-zero: C += A·Bᵀ instead of C = A·Bᵀ).
 */
export function genNt(name: string, mi: number, nj: number, unroll: number): Fn {
  const f = new Fn(name, [I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const [A, B, C, NB, P, LDA, LDB, LDC, ACC] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const t = f.local(I32);
  const end2 = f.local(I32);
  const endU = f.local(I32);
  const jb = f.local(I32);
  const pa = f.locals(I32, mi);
  const pb = f.locals(I32, nj);
  const acc = f.locals(V128, mi * nj);
  const va = f.locals(V128, mi);
  const vb = f.local(V128);
  const ta = f.locals(F64, mi);
  const tb = f.local(F64);

  // end2 = (p >> 1) << 4: bytes covered by whole pairs; endU = end2 - 16·(unroll-1)
  f.get(P).i32(1).shrU().i32(4).shl().set(end2);
  f.get(end2).i32(16 * (unroll - 1)).sub().set(endU);
  for (let i = 0; i < mi; i++) {
    f.get(A);
    if (i > 0) f.get(LDA).i32(i).mul().add();
    f.set(pa[i]);
  }

  const pairBody = (off: number): void => {
    for (let i = 0; i < mi; i++) f.get(pa[i]).get(t).add().vLoad(off).set(va[i]);
    for (let j = 0; j < nj; j++) {
      f.get(pb[j]).get(t).add().vLoad(off).set(vb);
      for (let i = 0; i < mi; i++) {
        const k = i * nj + j;
        f.get(acc[k]).get(va[i]).get(vb).vmul().vadd().set(acc[k]);
      }
    }
  };

  f.block().loop();
  f.get(jb).get(NB).geU().brIf(1);
  for (let j = 0; j < nj; j++) {
    f.get(B);
    if (j > 0) f.get(LDB).i32(j).mul().add();
    f.set(pb[j]);
  }
  for (const a of acc) f.vZero().set(a);
  f.i32(0).set(t);
  if (unroll > 1) {
    // unrolled main loop while t + 16·unroll <= end2  (i.e. t < endU, signed)
    f.block();
    f.get(t).get(endU).geS().brIf(0);
    f.loop();
    for (let u = 0; u < unroll; u++) pairBody(16 * u);
    f.get(t).i32(16 * unroll).add().tee(t).get(endU).ltS().brIf(0);
    f.end().end();
  }
  // remaining pairs one at a time
  f.block();
  f.get(t).get(end2).geU().brIf(0);
  f.loop();
  pairBody(0);
  f.get(t).i32(16).add().tee(t).get(end2).ltU().brIf(0);
  f.end().end();
  // odd inner length: the last element goes into lane 0
  f.get(P).i32(1).and().if();
  for (let i = 0; i < mi; i++) f.get(pa[i]).get(end2).add().f64Load().set(ta[i]);
  for (let j = 0; j < nj; j++) {
    f.get(pb[j]).get(end2).add().f64Load().set(tb);
    for (let i = 0; i < mi; i++) {
      const k = i * nj + j;
      f.get(acc[k]).get(acc[k]).lane(0).get(ta[i]).get(tb).fmul().fadd().replaceLane(0).set(acc[k]);
    }
  }
  f.end();
  // reduce and store (or add to what is there)
  const store = (accumulate: boolean): void => {
    for (let i = 0; i < mi; i++) {
      for (let j = 0; j < nj; j++) {
        const k = i * nj + j;
        f.get(C);
        if (i > 0) f.get(LDC).i32(i).mul().add();
        f.get(acc[k]).lane(0).get(acc[k]).lane(1).fadd();
        if (accumulate) {
          f.get(C);
          if (i > 0) f.get(LDC).i32(i).mul().add();
          f.f64Load(8 * j).fadd();
        }
        f.f64Store(8 * j);
      }
    }
  };
  f.get(ACC).if();
  store(true);
  f.else();
  store(false);
  f.end();
  f.get(C).i32(8 * nj).add().set(C);
  f.get(B).get(LDB).i32(nj).mul().add().set(B);
  f.get(jb).i32(1).add().set(jb);
  f.br(0);
  f.end().end();
  return f;
}

/**
 * C (+)= A·B for B with contiguous rows ("NN"/"TN" product, vectorised along the columns j):
 *   C[i][j] = Σ_s A(i, s)·B[s][j],   A(i, s) at byte address a + i·ais + s·ass.
 * mi rows of C times 2·njp columns per block; nb column blocks (B and C advance 16·njp bytes).
 * With contig the rows of A are 8 bytes apart (ais = 8, e.g. A = the transpose of a row-major
 * matrix) and a single pointer with constant offsets is used.
 * Params (i32): a, ais, ass, b, ldb, c, ldc (bytes), p (inner count), nb, accumulate.
 */
export function genNN(name: string, mi: number, njp: number, contig: boolean): Fn {
  const f = new Fn(name, [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const [A, AIS, ASS, B, LDB, C, LDC, P, NB, ACC] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const jb = f.local(I32);
  const cnt = f.local(I32);
  const pb = f.local(I32);
  const pa = f.locals(I32, contig ? 1 : mi);
  const acc = f.locals(V128, mi * njp);
  const va = f.locals(V128, mi);
  const vb = f.local(V128);
  f.block().loop();
  f.get(jb).get(NB).geU().brIf(1);
  for (let i = 0; i < pa.length; i++) {
    f.get(A);
    if (i > 0) f.get(AIS).i32(i).mul().add();
    f.set(pa[i]);
  }
  f.get(B).set(pb);
  for (const x of acc) f.vZero().set(x);
  f.get(P).set(cnt);
  f.block();
  f.get(cnt).eqz().brIf(0);
  f.loop();
  for (let i = 0; i < mi; i++) {
    if (contig) f.get(pa[0]).vLoadSplat(8 * i).set(va[i]);
    else f.get(pa[i]).vLoadSplat().set(va[i]);
  }
  for (let q = 0; q < njp; q++) {
    f.get(pb).vLoad(16 * q).set(vb);
    for (let i = 0; i < mi; i++) {
      const k = i * njp + q;
      f.get(acc[k]).get(va[i]).get(vb).vmul().vadd().set(acc[k]);
    }
  }
  for (const x of pa) f.get(x).get(ASS).add().set(x);
  f.get(pb).get(LDB).add().set(pb);
  f.get(cnt).i32(1).sub().tee(cnt).brIf(0);
  f.end().end();
  const store = (accumulate: boolean): void => {
    for (let i = 0; i < mi; i++) {
      for (let q = 0; q < njp; q++) {
        const k = i * njp + q;
        f.get(C);
        if (i > 0) f.get(LDC).i32(i).mul().add();
        f.get(acc[k]);
        if (accumulate) {
          f.get(C);
          if (i > 0) f.get(LDC).i32(i).mul().add();
          f.vLoad(16 * q).vadd();
        }
        f.vStore(16 * q);
      }
    }
  };
  f.get(ACC).if();
  store(true);
  f.else();
  store(false);
  f.end();
  f.get(B).i32(16 * njp).add().set(B);
  f.get(C).i32(16 * njp).add().set(C);
  f.get(jb).i32(1).add().set(jb);
  f.br(0);
  f.end().end();
  return f;
}

/**
 * One row of the fused tridiagonalisation step (see eigen.ts), for j in [0, count):
 *   a[j] -= vpi·wp[j] + wpi·vp[j];  y[j] += a[j]·vi;  acc += a[j]·v[j];   returns acc.
 * Params: a, vp, wp, v, y (i32 byte addresses), count (i32), vpi, wpi, vi (f64).
 */
function genTriRow(): Fn {
  const f = new Fn('tri', [I32, I32, I32, I32, I32, I32, F64, F64, F64], [F64]);
  const [A, VP, WP, V, Y, N, VPI, WPI, VI] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const t = f.local(I32);
  const end2 = f.local(I32);
  const svp = f.local(V128);
  const swp = f.local(V128);
  const sv = f.local(V128);
  const accv = f.local(V128);
  const x = f.local(V128);
  const s = f.local(F64);
  const xs = f.local(F64);
  f.get(VPI).splat().set(svp);
  f.get(WPI).splat().set(swp);
  f.get(VI).splat().set(sv);
  f.get(N).i32(1).shrU().i32(4).shl().set(end2);
  f.vZero().set(accv);
  f.block();
  f.get(t).get(end2).geU().brIf(0);
  f.loop();
  // x = a - vpi·wp - wpi·vp
  f.get(A).get(t).add().vLoad()
    .get(svp).get(WP).get(t).add().vLoad().vmul().vsub()
    .get(swp).get(VP).get(t).add().vLoad().vmul().vsub().set(x);
  f.get(A).get(t).add().get(x).vStore();
  // y += x·vi
  f.get(Y).get(t).add().get(Y).get(t).add().vLoad().get(x).get(sv).vmul().vadd().vStore();
  // acc += x·v
  f.get(accv).get(x).get(V).get(t).add().vLoad().vmul().vadd().set(accv);
  f.get(t).i32(16).add().tee(t).get(end2).ltU().brIf(0);
  f.end().end();
  f.get(accv).lane(0).get(accv).lane(1).fadd().set(s);
  f.get(N).i32(1).and().if();
  f.get(A).get(end2).add().f64Load()
    .get(VPI).get(WP).get(end2).add().f64Load().fmul().fsub()
    .get(WPI).get(VP).get(end2).add().f64Load().fmul().fsub().set(xs);
  f.get(A).get(end2).add().get(xs).f64Store();
  f.get(Y).get(end2).add().get(Y).get(end2).add().f64Load().get(xs).get(VI).fmul().fadd().f64Store();
  f.get(s).get(xs).get(V).get(end2).add().f64Load().fmul().fadd().set(s);
  f.end();
  f.get(s);
  return f;
}

/**
 * The whole fused pass of one tridiagonalisation step k over rows i = k+1 … n−1 (see eigen.ts):
 *   a_ii −= 2·vp_i·wp_i;  y_i += a_ii·v_i + tri(row i right of the diagonal).
 * Params (i32): a (matrix base, row stride n), n, k, vp, wp, v, y (vector bases, element j at +8j).
 */
function genTriPass(triIndex: number): Fn {
  const f = new Fn('triPass', [I32, I32, I32, I32, I32, I32, I32]);
  const [A, N, K, VP, WP, V, Y] = [0, 1, 2, 3, 4, 5, 6];
  const i = f.local(I32);
  const off = f.local(I32);
  const ri = f.local(I32);
  const vpi = f.local(F64);
  const wpi = f.local(F64);
  const vi = f.local(F64);
  const aii = f.local(F64);
  f.get(K).i32(1).add().set(i);
  f.block().loop();
  f.get(i).get(N).geU().brIf(1);
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
  f.get(i).i32(1).add().set(i);
  f.br(0);
  f.end().end();
  return f;
}

/**
 * Applies one Householder reflector H = I − τ·u uᵀ, u = (1, v[0 … len−1]), to kv vectors:
 * for each q, z_q = Z + q·zs (byte address of the vector's first affected element):
 *   s = τ·(z_q[0] + Σ v[j]·z_q[1+j]);  z_q[0] −= s;  z_q[1+j] −= s·v[j].
 * Params: v, z (i32 byte addresses), len, kv, zs (i32), tau (f64).
 */
function genRefl(): Fn {
  const f = new Fn('refl', [I32, I32, I32, I32, I32, F64]);
  const [VV, Z, LEN, KV, ZS, TAU] = [0, 1, 2, 3, 4, 5];
  const q = f.local(I32);
  const zq = f.local(I32);
  const t = f.local(I32);
  const end2 = f.local(I32);
  const acc = f.local(V128);
  const sv = f.local(V128);
  const s = f.local(F64);
  f.get(LEN).i32(1).shrU().i32(4).shl().set(end2);
  f.block().loop();
  f.get(q).get(KV).geU().brIf(1);
  f.get(Z).get(q).get(ZS).mul().add().set(zq);
  // dot
  f.vZero().set(acc);
  f.i32(0).set(t);
  f.block();
  f.get(t).get(end2).geU().brIf(0);
  f.loop();
  f.get(acc).get(VV).get(t).add().vLoad().get(zq).get(t).add().vLoad(8).vmul().vadd().set(acc);
  f.get(t).i32(16).add().tee(t).get(end2).ltU().brIf(0);
  f.end().end();
  f.get(acc).lane(0).get(acc).lane(1).fadd().get(zq).f64Load().fadd().set(s);
  f.get(LEN).i32(1).and().if();
  f.get(s).get(VV).get(end2).add().f64Load().get(zq).get(end2).add().f64Load(8).fmul().fadd().set(s);
  f.end();
  f.get(s).get(TAU).fmul().set(s);
  f.get(zq).get(zq).f64Load().get(s).fsub().f64Store();
  // axpy
  f.get(s).splat().set(sv);
  f.i32(0).set(t);
  f.block();
  f.get(t).get(end2).geU().brIf(0);
  f.loop();
  f.get(zq).get(t).add().get(zq).get(t).add().vLoad(8).get(sv).get(VV).get(t).add().vLoad().vmul().vsub().vStore(8);
  f.get(t).i32(16).add().tee(t).get(end2).ltU().brIf(0);
  f.end().end();
  f.get(LEN).i32(1).and().if();
  f.get(zq).get(end2).add().get(zq).get(end2).add().f64Load(8).get(s).get(VV).get(end2).add().f64Load().fmul().fsub().f64Store(8);
  f.end();
  f.get(q).i32(1).add().set(q);
  f.br(0);
  f.end().end();
  return f;
}

/**
 * dst (f64, K rows of stride ld) = src (f32, K×O) · diag(scale), columns O … ld−1 zeroed;
 * returns Σ dst². Params (i32): src, dst, scale (byte addresses; scale = 0 means all ones),
 * K, O, ld (elements).
 */
function genFill(): Fn {
  const f = new Fn('fill', [I32, I32, I32, I32, I32, I32], [F64]);
  const [SRC, DST, SC, K, O, LD] = [0, 1, 2, 3, 4, 5];
  const k = f.local(I32);
  const o = f.local(I32);
  const ps = f.local(I32);
  const pd = f.local(I32);
  const o2 = f.local(I32);
  const x = f.local(V128);
  const acc = f.local(V128);
  const xs = f.local(F64);
  const es = f.local(F64);
  f.get(O).i32(1).shrU().i32(1).shl().set(o2);
  f.vZero().set(acc);
  f.block().loop();
  f.get(k).get(K).geU().brIf(1);
  f.get(SRC).get(k).get(O).mul().i32(2).shl().add().set(ps);
  f.get(DST).get(k).get(LD).mul().i32(3).shl().add().set(pd);
  f.i32(0).set(o);
  // pairs
  f.block();
  f.get(o).get(o2).geU().brIf(0);
  f.loop();
  f.get(ps).get(o).i32(2).shl().add().vLoadSplat().promoteLow().set(x);
  f.get(SC).if();
  f.get(x).get(SC).get(o).i32(3).shl().add().vLoad().vmul().set(x);
  f.end();
  f.get(pd).get(o).i32(3).shl().add().get(x).vStore();
  f.get(acc).get(x).get(x).vmul().vadd().set(acc);
  f.get(o).i32(2).add().tee(o).get(o2).ltU().brIf(0);
  f.end().end();
  // odd last column
  f.get(O).i32(1).and().if();
  f.get(ps).get(o2).i32(2).shl().add().f32Load().f64PromoteF32().set(xs);
  f.get(SC).if();
  f.get(xs).get(SC).get(o2).i32(3).shl().add().f64Load().fmul().set(xs);
  f.end();
  f.get(pd).get(o2).i32(3).shl().add().get(xs).f64Store();
  f.get(es).get(xs).get(xs).fmul().fadd().set(es);
  f.end();
  // zero padding O … ld−1
  f.get(O).set(o);
  f.block();
  f.get(o).get(LD).geU().brIf(0);
  f.loop();
  f.get(pd).get(o).i32(3).shl().add().f64Const(0).f64Store();
  f.get(o).i32(1).add().tee(o).get(LD).ltU().brIf(0);
  f.end().end();
  f.get(k).i32(1).add().set(k);
  f.br(0);
  f.end().end();
  f.get(acc).lane(0).get(acc).lane(1).fadd().get(es).fadd();
  return f;
}

/**
 * dst (f32, K×O dense) = src (f64, K rows of stride ld), rounded to nearest.
 * Params (i32): src, dst (byte addresses), K, O, ld.
 */
function genToF32(): Fn {
  const f = new Fn('tof32', [I32, I32, I32, I32, I32]);
  const [SRC, DST, K, O, LD] = [0, 1, 2, 3, 4];
  const k = f.local(I32);
  const o = f.local(I32);
  const ps = f.local(I32);
  const pd = f.local(I32);
  const o2 = f.local(I32);
  f.get(O).i32(1).shrU().i32(1).shl().set(o2);
  f.block().loop();
  f.get(k).get(K).geU().brIf(1);
  f.get(SRC).get(k).get(LD).mul().i32(3).shl().add().set(ps);
  f.get(DST).get(k).get(O).mul().i32(2).shl().add().set(pd);
  f.i32(0).set(o);
  f.block();
  f.get(o).get(o2).geU().brIf(0);
  f.loop();
  f.get(pd).get(o).i32(2).shl().add()
    .get(ps).get(o).i32(3).shl().add().vLoad().demoteZero()
    .vStore64Lane(0);
  f.get(o).i32(2).add().tee(o).get(o2).ltU().brIf(0);
  f.end().end();
  f.get(O).i32(1).and().if();
  f.get(pd).get(o2).i32(2).shl().add().get(ps).get(o2).i32(3).shl().add().f64Load().f32DemoteF64().f32Store();
  f.end();
  f.get(k).i32(1).add().set(k);
  f.br(0);
  f.end().end();
  return f;
}

/** Optional phase timing (for the benchmark / profiling): milliseconds accumulated per phase. */
let phaseTimes: Record<string, number> | null = null;
let phaseStart = 0;
export function setPhaseTimes(t: Record<string, number> | null): void {
  phaseTimes = t;
}
/** Adds the time since the previous mark to `name` (no-op unless setPhaseTimes was given a record). */
export function mark(name: string | null): void {
  if (!phaseTimes) return;
  const now = performance.now();
  if (name) phaseTimes[name] = (phaseTimes[name] ?? 0) + now - phaseStart;
  phaseStart = now;
}

let wasmState: WasmKernels | null | undefined;
let backend: Backend = 'auto';

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const fns = [genNt('k24', MI, NJ, 1), genNt('k21', MI, 1, 1), genNt('k14', 1, NJ, 1), genNt('k11', 1, 1, 1), genTriRow()];
  fns.push(
    genTriPass(fns.length - 1), // calls `tri` by its function index
    genRefl(),
    genNN('c42', 4, 2, true), genNN('r42', 4, 2, false), genNN('x12', 1, 2, true),
    genFill(), genToF32(),
  );
  return assemble(fns, 1);
}

function kernelsFrom(inst: WebAssembly.Instance, mem: WebAssembly.Memory): WasmKernels {
  const ex = inst.exports as unknown as Record<string, NtKernel & NnKernel & TriKernel & TriPassKernel & ReflKernel & FillKernel & ToF32Kernel>;
  return {
    mem,
    buffer: mem.buffer,
    nt: { k24: ex.k24, k21: ex.k21, k14: ex.k14, k11: ex.k11 },
    nn: { c42: ex.c42, r42: ex.r42, x12: ex.x12 },
    tri: ex.tri,
    triPass: ex.triPass,
    refl: ex.refl,
    fill: ex.fill,
    tof32: ex.tof32,
  };
}

/** Synchronous compile on first use (fine in workers and Node; see initLinalg for browser main threads). */
function loadWasm(): WasmKernels | null {
  if (wasmState !== undefined) return wasmState;
  wasmState = null;
  try {
    if (typeof WebAssembly !== 'object') return null;
    const bytes = moduleBytes();
    if (!WebAssembly.validate(bytes)) return null;
    const mem = new WebAssembly.Memory({ initial: 16 });
    wasmState = kernelsFrom(new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { mem } }), mem);
  } catch {
    wasmState = null;
  }
  return wasmState;
}

/**
 * Compiles the wasm kernels asynchronously. Optional: the first call compiles them synchronously
 * anyway, which browsers refuse on the main thread for modules of this size (the code then falls
 * back to JavaScript); awaiting this first makes the wasm path available there too.
 * Resolves to the backend that calls will use.
 */
export async function initKernels(): Promise<'wasm' | 'js'> {
  if (wasmState === undefined && typeof WebAssembly === 'object') {
    try {
      const bytes = moduleBytes();
      if (WebAssembly.validate(bytes)) {
        const mem = new WebAssembly.Memory({ initial: 16 });
        const inst = await WebAssembly.instantiate(await WebAssembly.compile(bytes), { env: { mem } });
        if (wasmState === undefined) wasmState = kernelsFrom(inst, mem);
      }
    } catch {
      // leave it to loadWasm (which falls back to JS)
    }
  }
  return activeBackend();
}

/**
 * Chooses the implementation of the hot loops: 'auto' (default) uses WebAssembly SIMD where the
 * runtime has it, 'js' forces plain JavaScript, 'wasm' forces wasm (throws if unavailable).
 */
export function setBackend(b: Backend): void {
  if (b === 'wasm' && !loadWasm()) throw new Error('WebAssembly SIMD is not available in this runtime');
  backend = b;
}

/**
 * Drops the kernels' memory (the wasm memory only grows: after a 512×4608 projection it holds
 * ≈ 45 MB). The next call re-creates it. Views from earlier calls must not be used afterwards.
 */
export function releaseWorkspace(): void {
  wasmState = undefined;
  jsBuffer = null;
}

/** The implementation the next call will use. */
export function activeBackend(): 'wasm' | 'js' {
  return backend !== 'js' && loadWasm() ? 'wasm' : 'js';
}

function wasmIfActive(): WasmKernels | null {
  return backend === 'js' ? null : loadWasm();
}

let jsBuffer: ArrayBuffer | null = null;
/** Bytes left unused at the start of the memory (keeps address 0 free). */
const SCRATCH_BYTES = 64;

/**
 * Float64 buffers for one top-level operation, in the wasm memory when wasm is active (so the
 * kernels can use them) and in a reused ArrayBuffer otherwise. Buffers are 16-byte aligned and
 * their initial contents are undefined. Adding a buffer may move the memory: call views() again
 * after add(); contents are preserved. A later operation reuses the same memory.
 */
export class Arena {
  private readonly offsets: number[] = [];
  private readonly sizes: number[] = [];
  private top = SCRATCH_BYTES;
  private readonly wasm = wasmIfActive();

  /** Reserves n doubles; returns the buffer's index in views(). */
  add(n: number): number {
    this.offsets.push(this.top);
    this.sizes.push(n);
    this.top += Math.ceil((n * 8) / 16) * 16;
    return this.offsets.length - 1;
  }

  views(): Float64Array[] {
    const total = this.top;
    let buffer: ArrayBuffer;
    if (this.wasm) {
      const have = this.wasm.buffer.byteLength;
      if (have < total) {
        this.wasm.mem.grow(Math.ceil((total - have) / 65536));
        this.wasm.buffer = this.wasm.mem.buffer;
      }
      buffer = this.wasm.buffer;
    } else {
      if (!jsBuffer || jsBuffer.byteLength < total) {
        const next = new ArrayBuffer(Math.max(total, jsBuffer ? jsBuffer.byteLength * 2 : 0));
        if (jsBuffer) new Uint8Array(next).set(new Uint8Array(jsBuffer));
        jsBuffer = next;
      }
      buffer = jsBuffer;
    }
    return this.sizes.map((n, i) => new Float64Array(buffer, this.offsets[i], n));
  }
}

/** Convenience: one arena with the given sizes, returned as views. */
export function workspace(sizes: number[]): Float64Array[] {
  const ar = new Arena();
  for (const s of sizes) ar.add(s);
  return ar.views();
}

function onWasm(w: WasmKernels, a: Float64Array, b: Float64Array, c: Float64Array): boolean {
  const buf = w.buffer;
  return a.buffer === buf && b.buffer === buf && c.buffer === buf;
}

/**
 * C[i·ldc + j] = Σ_t A[i·lda + t]·B[j·ldb + t] for i < m, j < q, t < p.
 * With sym (A and B the same rows, m = q) only j ≥ i is computed and then mirrored.
 */
export function gemmNT(
  A: Float64Array, lda: number,
  B: Float64Array, ldb: number,
  C: Float64Array, ldc: number,
  m: number, q: number, p: number,
  sym = false,
): void {
  const w = wasmIfActive();
  if (w && onWasm(w, A, B, C)) gemmNTwasm(w, A, lda, B, ldb, C, ldc, m, q, p, sym);
  else gemmNTjs(A, lda, B, ldb, C, ldc, m, q, p, sym);
  if (sym) {
    for (let i = 0; i < m; i++) for (let j = i + 1; j < q; j++) C[j * ldc + i] = C[i * ldc + j];
  }
}

/** Bytes of B kept per inner-dimension chunk of gemmNN (≈ half the L2 of current x86 cores). */
let nnBudget = 262144;
export function setNnBudget(bytes: number): void {
  nnBudget = bytes;
}

/**
 * C (+)= A·B with B's rows contiguous: C[i·ldc + j] = Σ_s A[i·ais + s·ass]·B[s·ldb + j] for
 * i < m, s < p and j < q, where q must be a multiple of 4 (B and C must have that many readable /
 * writable columns; pad them). symBlocks: only column blocks j ≥ (i rounded down to 4) are
 * computed (for a Gram AᵀA with B = A, m = q; the lower triangle is then incomplete).
 */
export function gemmNN(
  A: Float64Array, ais: number, ass: number,
  B: Float64Array, ldb: number,
  C: Float64Array, ldc: number,
  m: number, q: number, p: number,
  accumulate: boolean,
  symBlocks = false,
): void {
  if (q % 4 !== 0) throw new Error('gemmNN: q must be a multiple of 4');
  const w = wasmIfActive();
  if (w && onWasm(w, A, B, C)) {
    // chunk the inner dimension so that a chunk of B stays in L2 while the row blocks sweep it
    let chunk = p;
    if (p * q * 8 > nnBudget) chunk = Math.max(16, Math.floor(nnBudget / (q * 8)));
    const { c42, r42, x12 } = w.nn;
    const k4 = ais === 1 ? c42 : r42;
    for (let s0 = 0; s0 < p; s0 += chunk) {
      const pc = Math.min(chunk, p - s0);
      const acc = accumulate || s0 > 0 ? 1 : 0;
      const a0 = A.byteOffset + s0 * ass * 8;
      const b0 = B.byteOffset + s0 * ldb * 8;
      let i = 0;
      for (; i + 4 <= m; i += 4) {
        const j0 = symBlocks ? i : 0;
        k4(a0 + i * ais * 8, ais * 8, ass * 8, b0 + j0 * 8, ldb * 8, C.byteOffset + (i * ldc + j0) * 8, ldc * 8, pc, (q - j0) >> 2, acc);
      }
      for (; i < m; i++) {
        const j0 = symBlocks ? i & ~3 : 0;
        x12(a0 + i * ais * 8, 8, ass * 8, b0 + j0 * 8, ldb * 8, C.byteOffset + (i * ldc + j0) * 8, ldc * 8, pc, (q - j0) >> 2, acc);
      }
    }
    return;
  }
  let chunk = p;
  if (p * q * 8 > nnBudget) chunk = Math.max(16, Math.floor(nnBudget / (q * 8)));
  for (let s0 = 0; s0 < p; s0 += chunk) {
    const s1 = Math.min(p, s0 + chunk);
    const acc = accumulate || s0 > 0;
    let i = 0;
    for (; i + 2 <= m; i += 2) nnJs2(A, ais, ass, B, ldb, C, ldc, i, symBlocks ? i & ~3 : 0, q, s0, s1, acc);
    if (i < m) nnJs1(A, ais, ass, B, ldb, C, ldc, i, symBlocks ? i & ~3 : 0, q, s0, s1, acc);
  }
}

/** JS gemmNN: rows i, i+1 of C, columns j0 … q−1 (q − j0 a multiple of 4), inner range [s0, s1). */
function nnJs2(
  A: Float64Array, ais: number, ass: number, B: Float64Array, ldb: number, C: Float64Array, ldc: number,
  i: number, j0: number, q: number, s0: number, s1: number, acc: boolean,
): void {
  const c0 = i * ldc;
  const c1 = c0 + ldc;
  for (let j = j0; j < q; j += 4) {
    let x00 = 0, x01 = 0, x02 = 0, x03 = 0, x10 = 0, x11 = 0, x12 = 0, x13 = 0;
    let ia = i * ais + s0 * ass;
    let ib = s0 * ldb + j;
    for (let s = s0; s < s1; s++, ia += ass, ib += ldb) {
      const a0 = A[ia];
      const a1 = A[ia + ais];
      const b0 = B[ib];
      const b1 = B[ib + 1];
      const b2 = B[ib + 2];
      const b3 = B[ib + 3];
      x00 += a0 * b0; x01 += a0 * b1; x02 += a0 * b2; x03 += a0 * b3;
      x10 += a1 * b0; x11 += a1 * b1; x12 += a1 * b2; x13 += a1 * b3;
    }
    if (acc) {
      C[c0 + j] += x00; C[c0 + j + 1] += x01; C[c0 + j + 2] += x02; C[c0 + j + 3] += x03;
      C[c1 + j] += x10; C[c1 + j + 1] += x11; C[c1 + j + 2] += x12; C[c1 + j + 3] += x13;
    } else {
      C[c0 + j] = x00; C[c0 + j + 1] = x01; C[c0 + j + 2] = x02; C[c0 + j + 3] = x03;
      C[c1 + j] = x10; C[c1 + j + 1] = x11; C[c1 + j + 2] = x12; C[c1 + j + 3] = x13;
    }
  }
}

/** JS gemmNN for a single row i. */
function nnJs1(
  A: Float64Array, ais: number, ass: number, B: Float64Array, ldb: number, C: Float64Array, ldc: number,
  i: number, j0: number, q: number, s0: number, s1: number, acc: boolean,
): void {
  const c0 = i * ldc;
  for (let j = j0; j < q; j += 4) {
    let x0 = 0, x1 = 0, x2 = 0, x3 = 0;
    let ia = i * ais + s0 * ass;
    let ib = s0 * ldb + j;
    for (let s = s0; s < s1; s++, ia += ass, ib += ldb) {
      const a = A[ia];
      x0 += a * B[ib];
      x1 += a * B[ib + 1];
      x2 += a * B[ib + 2];
      x3 += a * B[ib + 3];
    }
    if (acc) {
      C[c0 + j] += x0; C[c0 + j + 1] += x1; C[c0 + j + 2] += x2; C[c0 + j + 3] += x3;
    } else {
      C[c0 + j] = x0; C[c0 + j + 1] = x1; C[c0 + j + 2] = x2; C[c0 + j + 3] = x3;
    }
  }
}

function gemmNTwasm(
  w: WasmKernels,
  A: Float64Array, lda: number,
  B: Float64Array, ldb: number,
  C: Float64Array, ldc: number,
  m: number, q: number, p: number,
  sym: boolean,
): void {
  const { k24, k21, k14, k11 } = w.nt;
  const la = lda * 8;
  const lb = ldb * 8;
  const lc = ldc * 8;
  const c0 = C.byteOffset;
  // chunk the inner dimension so that q rows × chunk doubles of B stay in L2 (≈ 256 KiB)
  let chunk = p;
  if (q * p * 8 > nnBudget) chunk = Math.max(64, Math.floor(nnBudget / (q * 8) / 16) * 16);
  for (let t0 = 0; t0 < p || t0 === 0; t0 += chunk) {
    const pc = Math.min(chunk, p - t0);
    const accum = t0 > 0 ? 1 : 0;
    const a0 = A.byteOffset + t0 * 8;
    const b0 = B.byteOffset + t0 * 8;
    let i = 0;
    for (; i + MI <= m; i += MI) {
      const j0 = sym ? i : 0;
      const nb = Math.floor((q - j0) / NJ);
      const ap = a0 + i * la;
      if (nb > 0) k24(ap, b0 + j0 * lb, c0 + i * lc + j0 * 8, nb, pc, la, lb, lc, accum);
      const j1 = j0 + nb * NJ;
      if (j1 < q) k21(ap, b0 + j1 * lb, c0 + i * lc + j1 * 8, q - j1, pc, la, lb, lc, accum);
    }
    for (; i < m; i++) {
      const j0 = sym ? i : 0;
      const nb = Math.floor((q - j0) / NJ);
      const ap = a0 + i * la;
      if (nb > 0) k14(ap, b0 + j0 * lb, c0 + i * lc + j0 * 8, nb, pc, la, lb, lc, accum);
      const j1 = j0 + nb * NJ;
      if (j1 < q) k11(ap, b0 + j1 * lb, c0 + i * lc + j1 * 8, q - j1, pc, la, lb, lc, accum);
    }
    if (p === 0) break;
  }
}

function gemmNTjs(
  A: Float64Array, lda: number,
  B: Float64Array, ldb: number,
  C: Float64Array, ldc: number,
  m: number, q: number, p: number,
  sym: boolean,
): void {
  let i = 0;
  for (; i + 2 <= m; i += 2) {
    const a0 = i * lda;
    const a1 = a0 + lda;
    let j = sym ? i : 0;
    for (; j + 4 <= q; j += 4) {
      const b0 = j * ldb;
      const b1 = b0 + ldb;
      const b2 = b1 + ldb;
      const b3 = b2 + ldb;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      for (let t = 0; t < p; t++) {
        const x0 = A[a0 + t];
        const x1 = A[a1 + t];
        const y0 = B[b0 + t];
        const y1 = B[b1 + t];
        const y2 = B[b2 + t];
        const y3 = B[b3 + t];
        s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
        s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
      }
      const c0 = i * ldc + j;
      const c1 = c0 + ldc;
      C[c0] = s00; C[c0 + 1] = s01; C[c0 + 2] = s02; C[c0 + 3] = s03;
      C[c1] = s10; C[c1 + 1] = s11; C[c1 + 2] = s12; C[c1 + 3] = s13;
    }
    for (; j < q; j++) {
      const b0 = j * ldb;
      let s0 = 0, s1 = 0;
      for (let t = 0; t < p; t++) {
        const y = B[b0 + t];
        s0 += A[a0 + t] * y;
        s1 += A[a1 + t] * y;
      }
      C[i * ldc + j] = s0;
      C[(i + 1) * ldc + j] = s1;
    }
  }
  for (; i < m; i++) {
    const a0 = i * lda;
    for (let j = sym ? i : 0; j < q; j++) {
      const b0 = j * ldb;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let t = 0;
      for (; t + 4 <= p; t += 4) {
        s0 += A[a0 + t] * B[b0 + t];
        s1 += A[a0 + t + 1] * B[b0 + t + 1];
        s2 += A[a0 + t + 2] * B[b0 + t + 2];
        s3 += A[a0 + t + 3] * B[b0 + t + 3];
      }
      for (; t < p; t++) s0 += A[a0 + t] * B[b0 + t];
      C[i * ldc + j] = s0 + s1 + (s2 + s3);
    }
  }
}

/**
 * The fused pass of tridiagonalisation step k (see eigen.ts) over rows k+1 … n−1 of the n×n
 * matrix a: apply the pending rank-2 update (vp, wp) and accumulate y = A v.
 */
export function triPass(a: Float64Array, n: number, k: number, vp: Float64Array, wp: Float64Array, v: Float64Array, y: Float64Array): void {
  const w = wasmIfActive();
  if (w && onWasm(w, a, vp, wp) && onWasm(w, a, v, y)) {
    w.triPass(a.byteOffset, n, k, vp.byteOffset, wp.byteOffset, v.byteOffset, y.byteOffset);
    return;
  }
  for (let i = k + 1; i < n; i++) {
    const ri = i * n;
    const vpi = vp[i];
    const wpi = wp[i];
    const vi = v[i];
    const aii = a[ri + i] - 2 * vpi * wpi;
    a[ri + i] = aii;
    let acc = 0;
    for (let j = i + 1; j < n; j++) {
      const x = a[ri + j] - vpi * wp[j] - wpi * vp[j];
      a[ri + j] = x;
      y[j] += x * vi;
      acc += x * v[j];
    }
    y[i] += aii * vi + acc;
  }
}

/**
 * Applies reflector r of a tridiagonalisation (u = e_{r+1} + a[r·n + r+2 …], factor tau) to the
 * kv vectors stored as rows of z (row stride n): z_q ← (I − τ u uᵀ) z_q.
 */
export function applyReflector(a: Float64Array, n: number, r: number, tau: number, z: Float64Array, kv: number): void {
  const w = wasmIfActive();
  const len = n - r - 2;
  if (w && onWasm(w, a, z, z)) {
    w.refl(a.byteOffset + (r * n + r + 2) * 8, z.byteOffset + (r + 1) * 8, len, kv, n * 8, tau);
    return;
  }
  const rr = r * n + r + 2;
  for (let q = 0; q < kv; q++) {
    const zr = q * n + r + 1;
    let s = z[zr];
    for (let j = 0; j < len; j++) s += a[rr + j] * z[zr + 1 + j];
    s *= tau;
    if (s === 0) continue;
    z[zr] -= s;
    for (let j = 0; j < len; j++) z[zr + 1 + j] -= s * a[rr + j];
  }
}

/**
 * WA (K rows, stride ld) = wt·diag(scale) with zero padding columns; returns Σ WA². `stage` is a
 * workspace buffer of at least ⌈K·O/2⌉ doubles used to bring float32 input into wasm memory.
 * Returns null when the wasm path does not apply (the caller then fills in JavaScript).
 */
export function fillScaledWasm(
  wt: Float32Array | Float64Array, K: number, O: number, scale: Float64Array | null, scaleBuf: Float64Array,
  WA: Float64Array, ld: number, stage: Float64Array,
): number | null {
  const w = wasmIfActive();
  if (!w || !(wt instanceof Float32Array) || !onWasm(w, WA, stage, scaleBuf)) return null;
  new Float32Array(stage.buffer, stage.byteOffset, K * O).set(wt);
  if (scale) scaleBuf.set(scale);
  return w.fill(stage.byteOffset, WA.byteOffset, scale ? scaleBuf.byteOffset : 0, K, O, ld);
}

/** out (K×O dense) = rows of T (stride ld); uses `stage` (≥ ⌈K·O/2⌉ doubles) for float32 output. */
export function copyOut(out: Float32Array | Float64Array, T: Float64Array, K: number, O: number, ld: number, stage: Float64Array): void {
  const w = wasmIfActive();
  if (out instanceof Float32Array && w && onWasm(w, T, stage, stage)) {
    w.tof32(T.byteOffset, stage.byteOffset, K, O, ld);
    out.set(new Float32Array(stage.buffer, stage.byteOffset, K * O));
    return;
  }
  if (ld === O) {
    out.set(T.subarray(0, K * O));
    return;
  }
  for (let k = 0; k < K; k++) out.set(T.subarray(k * ld, k * ld + O), k * O);
}
