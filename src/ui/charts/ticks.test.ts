import { describe, expect, it } from 'vitest';
import { niceTicks, tickCountFor, tickLabel, valueTicks } from './ticks';

describe('x-axis ticks', () => {
  it('are round values inside the range, never the odd maximum next to the last round one', () => {
    expect(niceTicks(0, 7, 5)).toEqual([0, 2, 4, 6]);
    expect(niceTicks(0, 64, 5)).toEqual([0, 20, 40, 60]); // 60 is 6% of the axis from its end: room for its label (62: 3%, left out)
    expect(niceTicks(0, 62, 6)).toEqual([0, 20, 40]);
    expect(niceTicks(0, 1000, 5)).toEqual([0, 250, 500, 750, 1000]);
    expect(niceTicks(0, 1023, 5)).toEqual([0, 250, 500, 750]); // 1000 would hang over the end
    expect(niceTicks(0, 156400, 5)).toEqual([0, 50000, 100000, 150000]);
    expect(niceTicks(1, 8, 5)).toEqual([2, 4, 6, 8]);
    expect(niceTicks(102, 1020, 5)).toEqual([200, 400, 600, 800]);
  });

  it('are whole numbers and at most the count asked for', () => {
    for (const hi of [1, 2, 3, 5, 9, 13, 99, 391, 7813, 19550, 156250]) {
      for (const count of [2, 3, 5, 8]) {
        const t = niceTicks(0, hi, count);
        expect(t.length).toBeGreaterThanOrEqual(1);
        expect(t.length).toBeLessThanOrEqual(count);
        expect(t.every((v) => Number.isInteger(v) && v >= 0 && v <= hi)).toBe(true);
        const steps = new Set(t.slice(1).map((v, i) => v - t[i]));
        expect(steps.size).toBeLessThanOrEqual(1); // evenly spaced
      }
    }
  });

  it('handle degenerate ranges', () => {
    expect(niceTicks(5, 5, 5)).toEqual([5]);
    expect(niceTicks(5, 4, 5)).toEqual([]);
    expect(niceTicks(0, NaN, 5)).toEqual([]);
  });

  it('fit the width and are labelled short on long axes', () => {
    expect(tickCountFor(440)).toBe(5);
    expect(tickCountFor(100)).toBe(2);
    expect(tickCountFor(5000)).toBe(8);
    expect(tickLabel(50000, [0, 50000, 100000])).toBe('50k');
    expect(tickLabel(0, [0, 50000, 100000])).toBe('0');
    expect(tickLabel(2000, [0, 2000, 4000, 6000])).toBe('2000');
    expect(tickLabel(250, [0, 250, 500])).toBe('250');
  });
});

describe('valueTicks', () => {
  it('ends on round ticks around the data, a round step apart, at most the count asked for', () => {
    for (const [lo, hi] of [
      [1.93, 2.87],
      [0.4, 2.3],
      [2.296, 2.318],
      [0.0312, 0.93],
      [2.2, 4.61],
      [0, 2.5],
      [-1.3, 0.2],
      [0.001, 0.0013],
      [120, 56_000],
    ]) {
      const { domain, ticks } = valueTicks(lo, hi, 5);
      expect(domain[0]).toBeLessThanOrEqual(lo);
      expect(domain[1]).toBeGreaterThanOrEqual(hi);
      expect([ticks[0], ticks.at(-1)]).toEqual(domain);
      expect(ticks.length).toBeGreaterThanOrEqual(2);
      expect(ticks.length).toBeLessThanOrEqual(5);
      const step = ticks[1] - ticks[0];
      const mantissa = Number(step.toExponential(4).split('e')[0]);
      expect([1, 2, 2.5, 5]).toContain(mantissa);
      for (let i = 1; i < ticks.length; i++) expect(ticks[i] - ticks[i - 1]).toBeCloseTo(step, 9);
      // Printed as round numbers (no 0.30000000000000004).
      for (const t of ticks) expect(String(t).length).toBeLessThanOrEqual(8);
    }
    expect(valueTicks(1.93, 2.87, 5)).toEqual({ domain: [1.5, 3], ticks: [1.5, 2, 2.5, 3] });
    expect(valueTicks(2.296, 2.318, 5)).toEqual({ domain: [2.29, 2.32], ticks: [2.29, 2.3, 2.31, 2.32] });
  });

  it('a flat series still gets an axis', () => {
    expect(valueTicks(2, 2, 5).ticks.length).toBeGreaterThanOrEqual(2);
    expect(valueTicks(0, 0, 5).domain[0]).toBeLessThan(0);
  });

  it('so does one a float rounding wide (a first loss and its smoothed copy): round ticks, not the value five times', () => {
    const { domain, ticks } = valueTicks(2.694274425506592, 2.6942744255065922, 5);
    expect(domain[0]).toBeLessThan(2.69);
    expect(domain[1]).toBeGreaterThan(2.7);
    expect(new Set(ticks).size).toBe(ticks.length);
    for (const t of ticks) expect(String(t).length).toBeLessThanOrEqual(4);
  });
});
