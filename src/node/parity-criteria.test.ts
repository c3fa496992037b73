import { describe, expect, it } from 'vitest';
import { LOGITS_REL_FLOOR, PARITY_FLOOR, PARITY_K, logitsParity, lossParity, spectrumParity, type Spectra } from './parity-criteria';

// The parity tests' criteria (parity-criteria.ts) on synthetic numbers. The boundaries use values
// exact in binary (sums of powers of two), so "at the bound" is exactly at it and "just past" is the
// next double above it.

/** The next double above x (x > 0). */
function nextUp(x: number): number {
  const f = new Float64Array([x]);
  const i = new BigInt64Array(f.buffer);
  i[0] += 1n;
  return f[0];
}

const NOISE = 2 ** -10;
const BOUND = PARITY_K * NOISE; // 10/1024, exact

describe('lossParity', () => {
  const torch64 = [2, 2, 2];
  // float32 noise 2^-10 at step 1, then none: the envelope keeps the running maximum
  const torch32 = [
    [2 + NOISE, 2, 2],
    [2, 2, 2],
  ];

  it('passes at the bound K · noise and fails just past it, at any step', () => {
    expect(lossParity([2 + BOUND, 2, 2 - BOUND], torch64, torch32)).toMatchObject({ ok: true, maxEngineDiff: BOUND, maxNoise: NOISE });
    for (let t = 0; t < 3; t++) {
      const engine = [2, 2, 2];
      engine[t] = nextUp(2 + BOUND);
      const p = lossParity(engine, torch64, torch32);
      expect(p.ok, `step ${t + 1}`).toBe(false);
      expect(p.worst.step).toBe(t + 1);
      expect(p.steps[t].allowed).toBe(BOUND); // the envelope does not shrink after step 1
    }
  });

  it('the envelope is the running maximum over steps and over the float32 runs', () => {
    const p = lossParity([2, 2, 2], [2, 2, 2], [
      [2, 2 + 2 * NOISE, 2],
      [2 + NOISE, 2 - 3 * NOISE, 2],
    ]);
    expect(p.steps.map((s) => s.noise)).toEqual([NOISE, 3 * NOISE, 3 * NOISE]);
    // before any noise: K · FLOOR
    expect(lossParity([2, 2], [2, 2], [[2, 2 + NOISE]]).steps[0].allowed).toBe(PARITY_K * PARITY_FLOOR);
  });

  it('noise-free float32 runs: the floor K · FLOOR is the bound', () => {
    const exact = [[2, 2]];
    expect(lossParity([2 + 9e-6, 2], [2, 2], exact).ok).toBe(true);
    expect(lossParity([2 + 1.1e-5, 2], [2, 2], exact).ok).toBe(false);
    // K and the floor are parameters
    expect(lossParity([2 + 1.1e-5, 2], [2, 2], exact, 20).ok).toBe(true);
    expect(lossParity([2 + 1.1e-5, 2], [2, 2], exact, 10, 2e-6).ok).toBe(true);
  });

  it('a NaN or infinite engine loss fails, as the worst step', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const p = lossParity([2, bad, 2], torch64, torch32);
      expect(p.ok).toBe(false);
      expect(p.worst).toMatchObject({ step: 2, diff: Infinity });
      expect(p.maxEngineDiff).toBe(Infinity);
    }
  });

  it('different step counts, no steps or no float32 run: an error, not a verdict', () => {
    expect(() => lossParity([2, 2], torch64, torch32)).toThrow('step counts differ: engine 2, torch64 3, torch32 3/3');
    expect(() => lossParity([2, 2, 2], torch64, [[2, 2, 2], [2, 2]])).toThrow('step counts differ: engine 3, torch64 3, torch32 3/2');
    expect(() => lossParity([], [], [[]])).toThrow('step counts differ');
    expect(() => lossParity([2], [2], [])).toThrow('no float32 reference run');
  });

  it('a non-finite reference loss is an error: it must never widen the bound to infinity', () => {
    expect(() => lossParity([2, 2, 2], torch64, [[2, Infinity, 2]])).toThrow("float32 reference run 1's loss has Infinity at index 1");
    expect(() => lossParity([2, 2, 2], torch64, [[2, 2, 2], [NaN, 2, 2]])).toThrow("float32 reference run 2's loss has NaN at index 0");
    expect(() => lossParity([2, 2, 2], [2, 2, NaN], torch32)).toThrow('the float64 reference loss has NaN at index 2');
  });
});

describe('spectrumParity', () => {
  // σ = [4, 2, 1]: the float32 run is off by 2^-8 on σ3, i.e. 2^-10 relative to σ1
  const ref = (): Spectra => new Map([['conv1', [4, 2, 1]]]);
  const f32 = (): Spectra => new Map([['conv1', [4, 2, 1 + 2 ** -8]]]);
  const engineAt = (sigma3: number): Spectra => new Map([['conv1', [4, 2, sigma3]]]);
  const atBound = 1 + PARITY_K * 2 ** -8; // relative to σ1 = 4: exactly K · 2^-10

  it('passes at the bound (relative to σ1) and fails just past it', () => {
    const pass = spectrumParity([4], [engineAt(atBound)], [ref()], [[f32()]]);
    expect(pass.ok).toBe(true);
    expect(pass.projections[0]).toEqual({ iteration: 4, diff: BOUND, layer: 'conv1', noise: NOISE, allowed: BOUND });
    const fail = spectrumParity([4], [engineAt(nextUp(atBound))], [ref()], [[f32()]]);
    expect(fail.ok).toBe(false);
    expect(fail.projections[0].diff).toBeGreaterThan(BOUND);
  });

  it('measures each layer relative to its own σ1, and names the worst layer', () => {
    const two = (s: number, t: number): Spectra => new Map([['big', [400, s]], ['small', [1, t]]]);
    const reference = two(100, 0.5);
    const noiseFree = [[two(100, 0.5)]];
    // 0.003 off: 7.5e-6 of σ1 = 400 (within K · FLOOR = 1e-5), 3e-3 of σ1 = 1 (far outside)
    expect(spectrumParity([4], [two(100.003, 0.5)], [reference], noiseFree).ok).toBe(true);
    const p = spectrumParity([4], [two(100, 0.503)], [reference], noiseFree);
    expect(p.ok).toBe(false);
    expect(p.projections[0].layer).toBe('small');
  });

  it('the envelope is the running maximum over projections, layers and float32 runs', () => {
    const p = spectrumParity(
      [4, 8],
      [ref(), ref()],
      [ref(), ref()],
      [
        [f32(), ref()],
        [ref(), ref()],
      ],
    );
    expect(p.projections.map((q) => q.noise)).toEqual([NOISE, NOISE]);
    expect(p.projections.map((q) => q.allowed)).toEqual([BOUND, BOUND]);
  });

  it('a missing layer, a spectrum of another length or a NaN on the engine side fails', () => {
    const cases: [string, Spectra][] = [
      ['missing layer', new Map([['conv2', [4, 2, 1]]])],
      ['shorter spectrum', new Map([['conv1', [4, 2]]])],
      ['longer spectrum', new Map([['conv1', [4, 2, 1, 0]]])],
      ['NaN', engineAt(NaN)],
    ];
    for (const [what, engine] of cases) {
      const p = spectrumParity([4], [engine], [ref()], [[f32()]]);
      expect(p.ok, what).toBe(false);
      expect(p.projections[0], what).toMatchObject({ diff: Infinity, layer: 'conv1' });
    }
  });

  it('a layer only the engine reports (one it left alone at full rank) is not judged', () => {
    const engine = new Map([...engineAt(1), ['fullRank', [9, 9]]]);
    expect(spectrumParity([4], [engine], [ref()], [[f32()]]).ok).toBe(true);
  });

  it('different projection counts, or a float32 run without a layer, are errors (an infinite noise would pass anything)', () => {
    expect(() => spectrumParity([4, 8], [ref()], [ref(), ref()], [[f32(), f32()]])).toThrow('projection counts differ: iterations 2, engine 1, torch64 2, torch32 2');
    expect(() => spectrumParity([4], [ref()], [ref()], [[f32()], []])).toThrow('projection counts differ');
    expect(() => spectrumParity([4], [ref()], [ref()], [])).toThrow('no float32 reference run');
    expect(() => spectrumParity([4], [engineAt(1e9)], [ref()], [[new Map()]])).toThrow('float32 reference run 1 has no spectrum for conv1 at projection 4 (float64: 3)');
    expect(() => spectrumParity([4], [ref()], [ref()], [[new Map([['conv1', [4, 2]]])]])).toThrow('float32 reference run 1 has 2 singular values for conv1');
    expect(() => spectrumParity([4], [ref()], [ref()], [[new Map([['conv1', [4, 2, NaN]]])]])).toThrow("float32 reference run 1's spectrum of conv1 at projection 4 has NaN");
  });

  it('a reference with no layer, an empty spectrum or σ1 = 0 is an error', () => {
    expect(() => spectrumParity([4], [ref()], [new Map()], [[f32()]])).toThrow('the float64 reference has no layer at projection 4');
    expect(() => spectrumParity([4], [ref()], [new Map([['conv1', []]])], [[f32()]])).toThrow('is empty or has σ1 = undefined');
    expect(() => spectrumParity([4], [ref()], [new Map([['conv1', [0, 0, 0]]])], [[f32()]])).toThrow('has σ1 = 0');
    expect(() => spectrumParity([4], [ref()], [new Map([['conv1', [4, Infinity, 1]]])], [[f32()]])).toThrow('the float64 reference spectrum of conv1 at projection 4 has Infinity');
  });
});

describe('logitsParity', () => {
  const torch64 = [
    [1, -2, 0.25],
    [4, 0.5, -1],
  ];
  const torch32 = [
    [1 + NOISE, -2, 0.25],
    [4, 0.5, -1],
  ];
  const engineWith = (v: number) => [
    [1, -2, 0.25],
    [4, v, -1],
  ];

  it('passes at the bound K · noise and fails just past it', () => {
    expect(logitsParity(engineWith(0.5 + BOUND), torch64, torch32)).toEqual({ ok: true, diff: BOUND, noise: NOISE, scale: 4, allowed: BOUND });
    expect(logitsParity(engineWith(nextUp(0.5 + BOUND)), torch64, torch32).ok).toBe(false);
  });

  it('without float32 noise the bound is K · 1e-6 · max |logit|', () => {
    const p = logitsParity(torch64, torch64, torch64);
    expect(p).toMatchObject({ ok: true, diff: 0, noise: 0, scale: 4, allowed: PARITY_K * LOGITS_REL_FLOOR * 4 });
    expect(logitsParity(engineWith(0.5 + 3.9e-5), torch64, torch64).ok).toBe(true);
    expect(logitsParity(engineWith(0.5 + 4.1e-5), torch64, torch64).ok).toBe(false);
  });

  it('a NaN or infinite engine logit fails', () => {
    for (const bad of [NaN, Infinity]) expect(logitsParity(engineWith(bad), torch64, torch32)).toMatchObject({ ok: false, diff: Infinity });
  });

  it('shapes that differ, or a non-finite reference, are errors', () => {
    expect(() => logitsParity([torch64[0]], torch64, torch32)).toThrow('logits shapes differ: engine 1×3, torch64 2×3, torch32 2×3');
    expect(() => logitsParity([[1, -2], [4, 0.5]], torch64, torch32)).toThrow('logits shapes differ: engine 2×2');
    expect(() => logitsParity(torch64, torch64, [[1, -2, 0.25], [4, 0.5]])).toThrow('torch32 2×{3,2}');
    expect(() => logitsParity([], [], [])).toThrow('logits shapes differ');
    expect(() => logitsParity(torch64, torch64, [[1, NaN, 0.25], [4, 0.5, -1]])).toThrow('the float32 reference logits of image 0 has NaN at index 1');
    expect(() => logitsParity(torch64, [[1, -2, 0.25], [Infinity, 0.5, -1]], torch32)).toThrow('the float64 reference logits of image 1 has Infinity');
  });
});
