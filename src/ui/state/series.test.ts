import { describe, expect, it } from 'vitest';
import { addPoints, EMA0, emaAdd, emaValue, emptySeries, seriesPoints, thin, wmean } from './series';

interface P {
  x: number;
  y: number;
}
const merge = (a: P, wa: number, b: P, wb: number): P => ({ x: b.x, y: wmean(a.y, wa, b.y, wb) });
const raw = (n: number, from = 1): P[] => Array.from({ length: n }, (_, i) => ({ x: from + i, y: from + i }));

describe('bucketed series (decimation for long runs)', () => {
  it('keeps every point while under the limit', () => {
    const s = addPoints(emptySeries<P>(10), raw(9), merge);
    expect(seriesPoints(s)).toEqual(raw(9));
    expect(s.stride).toBe(1);
  });

  it('never holds more than max points, covers the whole run evenly, and keeps the mean', () => {
    let s = emptySeries<P>(16);
    for (let i = 0; i < 100; i++) s = addPoints(s, raw(37, 1 + i * 37), merge); // 3700 points, in batches
    const pts = seriesPoints(s);
    expect(pts.length).toBeLessThanOrEqual(17);
    expect(s.total).toBe(3700);
    expect(pts.at(-1)!.x).toBe(3700); // the newest point is always there
    // each finished point is the mean of its bucket: weighted mean of everything equals the true mean
    const finished = s.points.reduce((sum, p) => sum + p.y * s.stride, 0) + (s.open ? s.open.point.y * s.open.count : 0);
    expect(finished / 3700).toBeCloseTo(3701 / 2, 6);
    // x spacing is uniform among finished points
    const gaps = new Set(s.points.slice(1).map((p, i) => p.x - s.points[i].x));
    expect(gaps.size).toBe(1);
  });

  it('is immutable', () => {
    const a = addPoints(emptySeries<P>(8), raw(5), merge);
    const b = addPoints(a, raw(20, 6), merge);
    expect(seriesPoints(a)).toEqual(raw(5));
    expect(b).not.toBe(a);
  });
});

describe('thin', () => {
  it('keeps the newest items and spreads the rest evenly', () => {
    const items = Array.from({ length: 1000 }, (_, i) => i);
    const t = thin(items, 100, 20);
    expect(t).toHaveLength(100);
    expect(t.slice(-20)).toEqual(items.slice(-20));
    expect(t[0]).toBe(0);
    expect(t).toEqual([...t].sort((a, b) => a - b));
  });
  it('returns short lists as they are', () => {
    const items = [1, 2, 3];
    expect(thin(items, 10)).toBe(items);
  });
});

describe('bias-corrected EMA', () => {
  it('starts at the first value, not near zero', () => {
    let e = emaAdd(EMA0, 2.5, 0.9);
    expect(emaValue(e)).toBeCloseTo(2.5, 12);
    e = emaAdd(e, 2.5, 0.9);
    expect(emaValue(e)).toBeCloseTo(2.5, 12);
  });
  it('ignores non-finite values', () => {
    const e = emaAdd(emaAdd(EMA0, 1, 0.5), NaN, 0.5);
    expect(emaValue(e)).toBe(1);
  });
});
