import { describe, expect, it } from 'vitest';
import { difference, differenceText, NOISE_RULE, points, sampleOf, sampleText } from './stats';

describe('sample statistics over seeds', () => {
  it('mean and sample standard deviation (n − 1), by hand', () => {
    // mean 0.72; squared deviations 0.0004, 0, 0.0004 → variance 0.0008 / 2 = 0.0004 → sd 0.02
    const s = sampleOf([0.7, 0.72, 0.74])!;
    expect(s.n).toBe(3);
    expect(s.mean).toBeCloseTo(0.72, 12);
    expect(s.sd).toBeCloseTo(0.02, 12);
    // two values 1 and 4: mean 2.5, variance (2.25 + 2.25) / 1 = 4.5 (n would give 2.25)
    expect(sampleOf([1, 4])!.sd).toBeCloseTo(Math.sqrt(4.5), 12);
    expect(sampleOf([0.5])).toEqual({ n: 1, mean: 0.5, sd: null });
    expect(sampleOf([])).toBeNull();
    expect(() => sampleOf([0.5, NaN])).toThrow(/finite/);
  });

  it('Welch standard error of a difference and the 2·SE noise rule, by hand', () => {
    const a = sampleOf([0.7, 0.72, 0.74])!; // mean 0.72, sd 0.02
    const b = sampleOf([0.68, 0.69, 0.7])!; // mean 0.69, sd 0.01
    // SE = √(0.0004/3 + 0.0001/3) = √(0.000166…) = 0.0129099…; 2·SE = 0.0258 < Δ = 0.03
    const d = difference(a, b);
    expect(d.delta).toBeCloseTo(0.03, 12);
    expect(d.se).toBeCloseTo(0.0129099445, 9);
    expect(d.noise).toBe('beyond');
    // b' = 0.66, 0.70, 0.74: mean 0.70, sd 0.04; SE = √(0.0004/3 + 0.0016/3) = 0.0258199…; 2·SE = 0.0516 > Δ = 0.02
    const wide = difference(a, sampleOf([0.66, 0.7, 0.74])!);
    expect(wide.se).toBeCloseTo(0.0258198890, 9);
    expect(wide.noise).toBe('within');
    // Different n: b'' = 0.66, 0.74: mean 0.70, variance 0.0032 / 1, sd 0.0566; SE = √(0.0004/3 + 0.0032/2) = √0.0017333… = 0.0416333…
    const uneven = difference(a, sampleOf([0.66, 0.74])!);
    expect(uneven.se).toBeCloseTo(0.0416333200, 9);
    expect(uneven.noise).toBe('within');
  });

  it('with one seed in an arm there is no noise estimate; identical seeds make any difference real', () => {
    expect(difference(sampleOf([0.6])!, sampleOf([0.5])!)).toEqual({ delta: expect.closeTo(0.1, 12), se: null, noise: 'none' });
    expect(difference(sampleOf([0.6, 0.62])!, sampleOf([0.5])!).noise).toBe('none');
    expect(difference(sampleOf([0.6, 0.6])!, sampleOf([0.5, 0.5])!)).toMatchObject({ se: 0, noise: 'beyond' });
    expect(difference(sampleOf([0.6, 0.6])!, sampleOf([0.6, 0.6])!)).toMatchObject({ delta: 0, se: 0, noise: 'within' });
  });

  it('says it in words: mean ± sd, the difference in points, within the noise or no estimate', () => {
    const a = sampleOf([0.7, 0.72, 0.74])!;
    expect(sampleText(a)).toBe('72.00% ± 2.00 (3 seeds)');
    expect(sampleText(sampleOf([0.4567])!)).toBe('45.67% (one seed)');
    expect(points(0.0123)).toBe('+1.23 points');
    expect(points(-0.0123)).toBe('−1.23 points');
    expect(points(-0.0123, false)).toBe('1.23 points');
    const A = { label: 'LRPET', sample: a };
    expect(differenceText(difference(a, sampleOf([0.66, 0.7, 0.74])!), A, { label: 'No ET', sample: sampleOf([0.66, 0.7, 0.74])! })).toBe(
      'LRPET − No ET: +2.00 points, within the noise (2·SE = 5.16 points)',
    );
    expect(differenceText(difference(a, sampleOf([0.68, 0.69, 0.7])!), A, { label: 'No ET', sample: sampleOf([0.68, 0.69, 0.7])! })).toBe(
      'LRPET − No ET: +3.00 points, beyond the noise (2·SE = 2.58 points)',
    );
    const one = sampleOf([0.75])!;
    expect(differenceText(difference(one, sampleOf([0.7])!), { label: 'LRPET', sample: one }, { label: 'No ET', sample: sampleOf([0.7])! })).toBe(
      'LRPET − No ET: +5.00 points; one seed: no noise estimate',
    );
    expect(differenceText(difference(a, one), A, { label: 'No ET', sample: one })).toBe('LRPET − No ET: −3.00 points; No ET has one seed: no noise estimate');
    expect(NOISE_RULE).toMatch(/2 standard errors.*Welch.*n − 1/);
  });
});
