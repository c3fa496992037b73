import { describe, expect, it } from 'vitest';
import { niceTicks, tickCountFor, tickLabel } from './ticks';

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
