/** Pure (no GPU) checks of the kernels' launch plans and the f32 division trick. */
import { describe, expect, it } from 'vitest';
import { planBackpropFilter } from './conv2d-backprop-filter';
import { planBackpropInput } from './conv2d-backprop-input';
import { planChannelReduce } from './reduce-channels';
import { DIV_FAST_LIMIT } from './wgsl';

const TP = 16;

describe('planBackpropFilter', () => {
  const cases: [string, number, number, number, number][] = [
    // label, K = kh·kw·ci, co, ci, P = n·oh·ow
    ['resnet 32x32x16 b128', 144, 16, 16, 128 * 1024],
    ['resnet stem b512', 27, 16, 3, 512 * 1024],
    ['vgg 2x2x512 b128', 4608, 512, 512, 128 * 4],
    ['vgg 32x32x64 b512', 576, 64, 64, 512 * 1024],
    ['tiny', 9, 1, 1, 1],
  ];
  for (const [label, k, co, ci, p] of cases) {
    it(label, () => {
      const plan = planBackpropFilter(k, co, ci, p);
      const rows = plan.slices * plan.stepsPerSlice * TP;
      expect(rows).toBeGreaterThanOrEqual(p); // every row of P is covered …
      expect((plan.slices - 1) * plan.stepsPerSlice * TP).toBeLessThan(p); // … and no slice is empty
      expect(plan.slices * k * co).toBeLessThanOrEqual(Math.max(k * co, 1 << 24));
      expect(plan.threads).toBe((plan.tile.tm * plan.tile.tn) / 16);
      expect(plan.va).toBe(ci % 4 === 0 ? 4 : 1);
      expect(plan.fastDiv).toBe(p + TP < DIV_FAST_LIMIT);
    });
  }
  it('splits the long reduction of thin layers', () => {
    expect(planBackpropFilter(144, 16, 16, 128 * 1024).slices).toBeGreaterThan(64);
    expect(planBackpropFilter(4608, 512, 512, 512).slices).toBeLessThanOrEqual(4);
  });
  it('follows its tuning', () => {
    const t = { targetThreads: 1 << 18, minStepsPerSlice: 8, maxPartialFloats: 1 << 24 };
    expect(planBackpropFilter(144, 16, 16, 128 * 1024, { ...t, targetThreads: 1 }).slices).toBe(1);
    // 8192 steps of 16 rows: at least 512 steps a slice gives 16 slices
    expect(planBackpropFilter(144, 16, 16, 128 * 1024, { ...t, minStepsPerSlice: 512 }).slices).toBe(16);
    expect(planBackpropFilter(144, 16, 16, 128 * 1024, { ...t, maxPartialFloats: 144 * 16 * 3 }).slices).toBe(3);
  });
});

describe('planBackpropInput', () => {
  for (const [m, ci, khw, co] of [
    [128 * 1024, 16, 9, 16],
    [128 * 4, 512, 9, 512],
    [2 * 16, 64, 9, 512],
    [5, 3, 1, 7],
  ]) {
    it(`m ${m} ci ${ci} khw ${khw} co ${co}`, () => {
      const plan = planBackpropInput(m, ci, khw, co);
      expect(plan.totalSteps).toBe(khw * Math.ceil(co / 16));
      expect(plan.slices * plan.stepsPerSlice).toBeGreaterThanOrEqual(plan.totalSteps);
      expect((plan.slices - 1) * plan.stepsPerSlice).toBeLessThan(plan.totalSteps);
      expect(plan.tile.tn).toBe(ci <= 16 ? 16 : ci <= 32 ? 32 : 64);
    });
  }
  it('splits only when the output has too few tiles', () => {
    expect(planBackpropInput(128 * 1024, 16, 9, 16).slices).toBe(1);
    expect(planBackpropInput(2 * 16, 64, 9, 512).slices).toBeGreaterThan(1);
    // with a target far above what the tiles give, the big layer splits too
    expect(planBackpropInput(128 * 1024, 16, 9, 16, { targetThreads: 1 << 30, minStepsPerSlice: 1, maxPartialFloats: 1 << 30 }).slices).toBe(9);
  });
});

describe('planChannelReduce', () => {
  for (const [a, r, c] of [
    [1, 128 * 1024, 16],
    [1, 7, 5],
    [128, 64, 64],
    [1, 512 * 256, 512],
  ]) {
    it(`[${a}, ${r}, ${c}]`, () => {
      const plan = planChannelReduce(a, r, c);
      expect(plan.slices * plan.rowsPerSlice).toBeGreaterThanOrEqual(r);
      expect((plan.slices - 1) * plan.rowsPerSlice).toBeLessThan(r);
      expect(plan.tcv * plan.lanes).toBe(256);
      expect(plan.groups * plan.tcv * plan.v).toBeGreaterThanOrEqual(c);
    });
  }
});

describe('divFast (f32 reciprocal division with one correction step)', () => {
  // Emulates the WGSL: q = i32(f32(a) * inv) with inv = f32(1 / d), then one ±1 correction.
  const divFast = (a: number, d: number) => {
    const inv = Math.fround(1 / d);
    let q = Math.trunc(Math.fround(Math.fround(a) * inv));
    const r = a - q * d;
    if (r < 0) q -= 1;
    else if (r >= d) q += 1;
    return q;
  };
  it('is exact below DIV_FAST_LIMIT', () => {
    let s = 12345;
    const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0), s / 2 ** 32);
    const ds = [1, 2, 3, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 255, 256, 1023, 1024, 4096, 65535, 1 << 20];
    for (const d of ds) {
      for (let i = 0; i < 3000; i++) {
        const a = Math.floor(rnd() * DIV_FAST_LIMIT);
        expect(divFast(a, d)).toBe(Math.floor(a / d));
      }
      // Multiples and their neighbours, where truncation is most fragile.
      for (let qq = 0; qq * d < DIV_FAST_LIMIT; qq += Math.max(1, Math.floor(DIV_FAST_LIMIT / d / 500))) {
        for (const a of [qq * d - 1, qq * d, qq * d + 1]) if (a >= 0 && a < DIV_FAST_LIMIT) expect(divFast(a, d)).toBe(Math.floor(a / d));
      }
    }
  });
});
