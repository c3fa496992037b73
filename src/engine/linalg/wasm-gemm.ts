/** Generated wasm SIMD (f64x2) matrix-product kernels; the dispatch is in dispatch.ts. */
import { F64, Fn, I32, laneBytes, V128, type Lanes } from './wasm-asm';

/**
 * Writes a rows × cols block of C (element (i, j) at c + i·ldc + j·laneBytes): `value(k)` pushes
 * the value of element k = i·cols + j; with the `accumulate` flag set it is added to what is there.
 */
function storeBlock(f: Fn, c: number, ldc: number, rows: number, cols: number, accumulate: number, lanes: Lanes, value: (k: number) => void): void {
  const bytes = laneBytes(lanes);
  f.onFlag(accumulate, (add) => {
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        f.addr(c, ldc, i);
        value(i * cols + j);
        if (add) f.addr(c, ldc, i).ld(lanes, bytes * j).addL(lanes);
        f.st(lanes, bytes * j);
      }
    }
  });
}

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
  const [t, end2, endU, jb] = f.locals(I32, 4);
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
  for (let i = 0; i < mi; i++) f.addr(A, LDA, i).set(pa[i]);

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

  f.forEach(jb, NB, () => {
    for (let j = 0; j < nj; j++) f.addr(B, LDB, j).set(pb[j]);
    for (const a of acc) f.vZero().set(a);
    f.i32(0).set(t);
    // unrolled main loop while t + 16·unroll <= end2  (i.e. t < endU, signed)
    if (unroll > 1) f.forStep(t, endU, 16 * unroll, () => { for (let u = 0; u < unroll; u++) pairBody(16 * u); }, true);
    // remaining pairs one at a time
    f.forStep(t, end2, 16, () => pairBody(0));
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
    // reduce the two lanes and store (or add to what is there)
    storeBlock(f, C, LDC, mi, nj, ACC, 'f64', (k) => f.get(acc[k]).lane(0).get(acc[k]).lane(1).fadd());
    f.get(C).i32(8 * nj).add().set(C);
    f.get(B).get(LDB).i32(nj).mul().add().set(B);
  });
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
  const [jb, cnt, pb] = f.locals(I32, 3);
  const pa = f.locals(I32, contig ? 1 : mi);
  const acc = f.locals(V128, mi * njp);
  const va = f.locals(V128, mi);
  const vb = f.local(V128);
  f.forEach(jb, NB, () => {
    for (let i = 0; i < pa.length; i++) f.addr(A, AIS, i).set(pa[i]);
    f.get(B).set(pb);
    for (const x of acc) f.vZero().set(x);
    // for (cnt = p; cnt > 0; cnt--)
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
    storeBlock(f, C, LDC, mi, njp, ACC, 'f64x2', (k) => f.get(acc[k]));
    f.get(B).i32(16 * njp).add().set(B);
    f.get(C).i32(16 * njp).add().set(C);
  });
  return f;
}
