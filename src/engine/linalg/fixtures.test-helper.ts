/** Test-only helpers: deterministic random matrices with prescribed spectra. Not used by the engine. */

export class TestRng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
  }
  uniform(): number {
    // xorshift32
    let x = this.s;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.s = x;
    return (x + 0.5) / 4294967296;
  }
  normal(): number {
    return Math.sqrt(-2 * Math.log(this.uniform())) * Math.cos(2 * Math.PI * this.uniform());
  }
}

/** wt (K×O) with i.i.d. N(0, std²) entries. */
export function gaussianWt(rng: TestRng, K: number, O: number, std = 0.05): Float64Array {
  const a = new Float64Array(K * O);
  for (let i = 0; i < a.length; i++) a[i] = std * rng.normal();
  return a;
}

/** m×k matrix (row-major) with orthonormal columns (Gram–Schmidt twice on Gaussian columns). */
export function orthonormalColumns(rng: TestRng, m: number, k: number): Float64Array {
  const cols: Float64Array[] = [];
  for (let j = 0; j < k; j++) {
    const c = new Float64Array(m);
    for (let i = 0; i < m; i++) c[i] = rng.normal();
    for (let pass = 0; pass < 2; pass++) {
      for (const q of cols) {
        let d = 0;
        for (let i = 0; i < m; i++) d += c[i] * q[i];
        for (let i = 0; i < m; i++) c[i] -= d * q[i];
      }
    }
    let nrm = 0;
    for (let i = 0; i < m; i++) nrm += c[i] * c[i];
    nrm = Math.sqrt(nrm);
    for (let i = 0; i < m; i++) c[i] /= nrm;
    cols.push(c);
  }
  const out = new Float64Array(m * k);
  for (let j = 0; j < k; j++) for (let i = 0; i < m; i++) out[i * k + j] = cols[j][i];
  return out;
}

/**
 * wt (K×O) such that W = wtᵀ (O×K) has the given singular values (length n = min(O, K)) and random
 * singular vectors.
 */
export function wtWithSpectrum(rng: TestRng, K: number, O: number, sigma: ArrayLike<number>): Float64Array {
  const n = Math.min(K, O);
  const U = orthonormalColumns(rng, O, n);
  const V = orthonormalColumns(rng, K, n);
  const wt = new Float64Array(K * O);
  // wt[k][o] = W[o][k] = Σ_i U[o][i] σ_i V[k][i]
  for (let k = 0; k < K; k++) {
    for (let o = 0; o < O; o++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += U[o * n + i] * sigma[i] * V[k * n + i];
      wt[k * O + o] = s;
    }
  }
  return wt;
}

/** σ_i = top·10^(−decades·i/(n−1)). */
export function geometricSpectrum(n: number, decades: number, top = 1): Float64Array {
  const s = new Float64Array(n);
  for (let i = 0; i < n; i++) s[i] = top * Math.pow(10, n > 1 ? (-decades * i) / (n - 1) : 0);
  return s;
}

/** Random BN factors in [0.2, 2]; `dead` of them set to tiny values (1e-3, 1e-6, 0, …). */
export function bnScale(rng: TestRng, O: number, dead = 0): Float64Array {
  const a = new Float64Array(O);
  for (let j = 0; j < O; j++) a[j] = 0.2 + 1.8 * rng.uniform();
  const tiny = [1e-3, 1e-6, 0, 3e-4, 1e-8];
  for (let d = 0; d < dead; d++) a[(d * 7 + 3) % O] = tiny[d % tiny.length];
  return a;
}

/** Relative Frobenius distance ‖a − b‖/‖b‖. */
export function relFro(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / (den || 1));
}

/** max_i |a_i − b_i| / |b_i| over i < count. */
/**
 * Computes f() once on first use and returns the same value (or re-throws the same error) on
 * every later call, so that a missing prerequisite fails every test that needs it.
 */
export function memo<T>(f: () => T): () => T {
  let done = false;
  let value: T;
  let error: unknown = null;
  return () => {
    if (!done) {
      done = true;
      try {
        value = f();
      } catch (e) {
        error = e;
      }
    }
    if (error !== null) throw error;
    return value;
  };
}
