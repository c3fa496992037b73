import { eventParts } from '../state/worker-batch';
import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../engine/events';
import { initialRunState, MAX_STEP_POINTS, runReducer, stepPoints, type RunState } from '../state/store';
import { replayEvents } from './replay';
import { projectedLayers, runStartEvent, stateEvent, stepEvent, syntheticRun } from './test-events';

/** What the live page builds: the same events through the reducer in uneven message batches. */
function live(events: EngineEvent[], sizes: number[]): RunState {
  let s = runReducer(initialRunState(), { type: 'starting', at: 0 });
  let i = 0;
  for (let k = 0; i < events.length; k++) {
    const batch = events.slice(i, i + sizes[k % sizes.length]);
    i += batch.length;
    s = runReducer(s, { type: 'batch', parts: eventParts(batch), at: 0 });
  }
  return s;
}

describe('replayEvents', () => {
  const log = syntheticRun({ iterations: 24, stepsPerEpoch: 8, interval: 4, compact: { testAccuracy: 0.71 }, end: 'finished', t0: 5000 });

  it('builds the state the live reducer builds from the same events', () => {
    const s = replayEvents(log);
    const l = live(log, [1, 7, 3, 50]);
    expect(s.phase).toBe('finished');
    expect(l.phase).toBe('finished');
    expect(stepPoints(s)).toEqual(stepPoints(l));
    expect(s.epochs).toEqual(l.epochs);
    expect(s.projections).toEqual(l.projections);
    expect(s.spectra).toEqual(l.spectra);
    expect(s.compact).toEqual(l.compact);
    expect(s.layerNames).toEqual(projectedLayers.map((x) => x.name));
    expect(s.eventCount).toBe(log.length);
  });

  it('keeps what the log says: steps, epochs, projections, the compact model, times', () => {
    const s = replayEvents(log);
    expect(stepPoints(s).map((p) => p.iteration)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    expect(s.epochs.map((e) => e.iteration)).toEqual([8, 16, 24]);
    expect(s.projections.map((p) => p.index)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(s.compact?.testAccuracy).toBe(0.71);
    expect(s.startedAt).toBe(5000);
    expect(s.lastEventAt).toBe(log[log.length - 1].time);
  });

  it('takes the phase from the last state event', () => {
    expect(replayEvents(syntheticRun({ iterations: 4, stepsPerEpoch: 4, interval: null, end: 'stopped' })).phase).toBe('stopped');
    // Stopped, then resumed in a later session and finished: the last state event wins.
    const resumed: EngineEvent[] = [
      ...syntheticRun({ iterations: 4, stepsPerEpoch: 4, interval: null, end: 'stopped' }),
      { ...runStartEvent(9000, 4, 2), resumedFrom: 4 },
      stateEvent(9001, 'running', 4),
      stepEvent(9002, 5, 1, 1.5),
      stateEvent(9003, 'finished', 5),
    ];
    const s = replayEvents(resumed);
    expect(s.phase).toBe('finished');
    expect(stepPoints(s).at(-1)?.iteration).toBe(5);
  });

  it("calls a log that ends without finished/stopped 'stopped' unless told the run is live", () => {
    const cut = syntheticRun({ iterations: 6, stepsPerEpoch: 4, interval: 2, end: null });
    expect(replayEvents(cut).phase).toBe('stopped');
    expect(replayEvents(cut, { live: true }).phase).toBe('running');
    const paused = syntheticRun({ iterations: 6, stepsPerEpoch: 4, interval: 2, end: 'paused' });
    expect(replayEvents(paused).phase).toBe('stopped');
    expect(replayEvents(paused, { live: true }).phase).toBe('paused');
    // A finished log stays finished even if the caller thinks it is live.
    expect(replayEvents(log, { live: true }).phase).toBe('finished');
  });

  it('handles an empty log and a live run that has only started', () => {
    expect(replayEvents([]).phase).toBe('stopped');
    expect(replayEvents([], { live: true }).phase).toBe('loading');
    expect(replayEvents([runStartEvent(1, 4, 1)], { live: true }).phase).toBe('running');
  });

  it('keeps a long log cheap to draw: step points stay decimated, the newest iteration is shown', () => {
    const long = syntheticRun({ iterations: 10_000, stepsPerEpoch: 1000, interval: null, end: 'finished' });
    const s = replayEvents(long);
    const pts = stepPoints(s);
    expect(pts.length).toBeLessThanOrEqual(MAX_STEP_POINTS);
    expect(pts.at(-1)?.iteration).toBe(10_000);
    expect(s.steps.total).toBe(10_000);
    expect(stepPoints(live(long, [997]))).toEqual(pts);
  });
});
