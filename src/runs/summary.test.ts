import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../engine/events';
import { emptySummary, summarize } from './summary';
import { sampleEvents } from './testing/sample-events';

describe('summarize', () => {
  const events = sampleEvents(3, 4);

  it('sums up a whole run', () => {
    const s = summarize(emptySummary(), events);
    const start = events[0] as Extract<EngineEvent, { type: 'runStart' }>;
    const compact = events.find((e) => e.type === 'compact') as Extract<EngineEvent, { type: 'compact' }>;
    expect(s).toMatchObject({ iteration: 12, epoch: 3, lastLoss: 2.3 / 12, compactAccuracy: 0.55, epochsDone: 3, trainMs: 3 * 450 });
    expect(s.testAccuracy).toBeCloseTo(0.5, 12);
    expect(s.macsDense).toBe(start.macsDense);
    // The live rank change lowered the compact cost; the compact event confirms it.
    expect(s.macsCompact).toBe(compact.macsCompact);
    expect(s.macsCompact).toBeLessThan(start.macsCompact);
    expect(s.paramsCompact).toBe(compact.paramsCompact);
  });

  it('is the same whether fed at once or in pieces, and does not change its input', () => {
    const whole = summarize(emptySummary(), events);
    for (let cut = 0; cut <= events.length; cut++) {
      const first = summarize(emptySummary(), events.slice(0, cut));
      const frozen = JSON.stringify(first);
      expect(summarize(first, events.slice(cut))).toEqual(whole);
      expect(JSON.stringify(first)).toBe(frozen);
    }
  });

  it('tracks intermediate states: costs from the start, wall time before the first epoch, finite losses only', () => {
    const early = summarize(emptySummary(), events.slice(0, 5));
    expect(early).toMatchObject({ iteration: 3, epoch: 0, testAccuracy: null, compactAccuracy: null, epochsDone: 0, trainMs: 300 });
    expect(early.paramsCompact).not.toBeNull();
    expect(summarize(emptySummary(), [])).toEqual(emptySummary());
    const nan = summarize(early, [{ type: 'step', time: events[4].time + 1, iteration: 4, epoch: 0, loss: NaN, accuracy: 0, lr: 0.1, imagesPerSec: 1, stepMs: 1, numTensors: 1 }]);
    expect(nan.lastLoss).toBeNull();
  });
});
