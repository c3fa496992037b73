import { describe, expect, it } from 'vitest';
import { quantile, timingStats } from './stats';

describe('timing statistics', () => {
  it('gives the median, extremes and quartiles as numpy does (linear interpolation)', () => {
    // numpy: np.percentile([7, 1, 3, 9, 5], [25, 50, 75]) = [3, 5, 7]
    expect(timingStats([7, 1, 3, 9, 5])).toEqual({ samples: 5, medianMs: 5, minMs: 1, maxMs: 9, q1Ms: 3, q3Ms: 7 });
    // An even count: the median is the mean of the middle two; np.percentile([4, 1, 2, 10], [25, 50, 75]) = [1.75, 3, 5.5]
    expect(timingStats([4, 1, 2, 10])).toEqual({ samples: 4, medianMs: 3, minMs: 1, maxMs: 10, q1Ms: 1.75, q3Ms: 5.5 });
    expect(timingStats([2.5])).toEqual({ samples: 1, medianMs: 2.5, minMs: 2.5, maxMs: 2.5, q1Ms: 2.5, q3Ms: 2.5 });
  });

  it('is not moved by one outlier, which the spread shows', () => {
    const s = timingStats([10, 11, 10.5, 10.2, 500]);
    expect(s.medianMs).toBe(10.5);
    expect(s.maxMs).toBe(500);
    expect(s.q3Ms).toBe(11);
  });

  it('does not reorder the caller’s array', () => {
    const ms = [3, 1, 2];
    timingStats(ms);
    expect(ms).toEqual([3, 1, 2]);
  });

  it('rejects no timings, negative or non-finite ones, and p outside [0, 1]', () => {
    expect(() => timingStats([])).toThrow(/no timings/);
    expect(() => timingStats([1, NaN])).toThrow(/finite number ≥ 0, got NaN/);
    expect(() => timingStats([1, -2])).toThrow(/got -2/);
    expect(() => timingStats([Infinity])).toThrow(/got Infinity/);
    expect(() => quantile([1, 2], 1.5)).toThrow(/\[0, 1\]/);
    expect(quantile([1, 2], 0)).toBe(1);
    expect(quantile([1, 2], 1)).toBe(2);
  });
});
