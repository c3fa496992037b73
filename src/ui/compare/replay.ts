import type { EngineEvent } from '../../engine/events';
import { applyEvents, initialRunState, runReducer, type RunState } from '../state/store';

/** Events applied per batch: the same batching the live page sees, and no giant intermediate arrays. */
const BATCH = 4096;

/**
 * A stored run's event log turned into the RunState the live page would have built from it. The phase
 * comes from the last state event; a log that ends without 'finished' or 'stopped' is 'stopped' (the
 * page that ran it is gone) unless `live` says it is still going.
 */
export function replayEvents(events: readonly EngineEvent[], opts: { live?: boolean } = {}): RunState {
  const first = events[0]?.time ?? 0;
  let s = runReducer(initialRunState(), { type: 'starting', at: first });
  for (let i = 0; i < events.length; i += BATCH) {
    const batch = events.slice(i, i + BATCH);
    s = applyEvents(s, batch, batch[batch.length - 1].time);
  }
  if (s.phase === 'finished' || s.phase === 'stopped' || s.phase === 'failed') return s;
  if (!opts.live) return runReducer(s, { type: 'ended', ended: 'stopped' });
  // Live but no state event yet: loading until the run has started.
  if (s.phase === 'loading' && s.start) return { ...s, phase: 'running' };
  return s;
}
