import { describe, expect, it } from 'vitest';
import type { GradNormsEvent } from '../../engine/events';
import { gradValue, jumpFactor, jumpText, logRange, projectionJumps } from './gradients';

const ev = (iteration: number, reasons: GradNormsEvent['reasons'], ratio: number[]): GradNormsEvent => ({
  type: 'gradNorms',
  time: iteration,
  iteration,
  epoch: 0,
  reasons,
  ratio,
  grad: ratio.map((r) => r * 100),
});

describe('gradValue', () => {
  it("gives one layer's value, or the geometric mean over the layers with a positive finite value", () => {
    const e = ev(1, ['sample'], [0.01, 1, NaN, 0]);
    expect(gradValue(e, 'ratio', 0)).toBe(0.01);
    expect(gradValue(e, 'grad', 1)).toBe(100);
    expect(gradValue(e, 'ratio', 2)).toBeNull();
    expect(gradValue(e, 'ratio', 3)).toBeNull();
    expect(gradValue(e, 'ratio', 9)).toBeNull();
    expect(gradValue(e, 'ratio', null)).toBeCloseTo(0.1, 12);
    expect(gradValue(ev(1, ['sample'], [NaN]), 'ratio', null)).toBeNull();
  });
});

describe('projectionJumps and jumpFactor', () => {
  // Projections after steps 4 and 8 (and a last one at 10 with no step after it).
  const events = [
    ev(2, ['sample'], [1, 1]),
    ev(4, ['sample', 'beforeProjection'], [0.1, 1]),
    ev(5, ['afterProjection'], [0.2, 1]),
    ev(8, ['beforeProjection'], [0.1, 2]),
    ev(9, ['afterProjection'], [0.4, 2]),
    ev(10, ['beforeProjection'], [0.1, 2]),
  ];
  const projections = [{ iteration: 4 }, { iteration: 8 }, { iteration: 10 }];

  it('pairs the step before each projection with the step after it, where both were recorded', () => {
    expect(projectionJumps(events, projections, 'ratio', 0)).toEqual([
      { iteration: 4, before: 0.1, after: 0.2 },
      { iteration: 8, before: 0.1, after: 0.4 },
    ]);
    // Without its "after" record (thinned away) a projection has no pair; nor has one whose steps are plain samples.
    expect(projectionJumps(events.filter((e) => e.iteration !== 9), projections, 'ratio', 0)).toHaveLength(1);
    expect(projectionJumps([ev(4, ['sample'], [1, 1]), ev(5, ['sample'], [2, 2])], [{ iteration: 4 }], 'ratio', 0)).toEqual([]);
  });

  it('averages after/before geometrically; 1 when projections change nothing; null without pairs', () => {
    expect(jumpFactor(projectionJumps(events, projections, 'ratio', 0))).toBeCloseTo(Math.sqrt(2 * 4), 12);
    expect(jumpFactor(projectionJumps(events, projections, 'grad', 1))).toBeCloseTo(1, 12);
    expect(jumpFactor([])).toBeNull();
    expect(jumpText(2)).toBe('×2 (+100%)');
    expect(jumpText(0.75)).toBe('×0.75 (−25%)');
    expect(jumpText(null)).toBe('–');
  });
});

describe('logRange', () => {
  it('spans the positive finite values of all layers, in decades', () => {
    const r = logRange([ev(1, ['sample'], [0.001, 0, NaN]), ev(2, ['sample'], [0.1, 10])], 'ratio')!;
    expect(r[0]).toBeCloseTo(-3, 12);
    expect(r[1]).toBeCloseTo(1, 12);
    expect(logRange([ev(1, ['sample'], [0])], 'ratio')).toBeNull();
  });
});
