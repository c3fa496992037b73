import type { CostSummary, EngineEvent } from '../engine/events';
import { totalCosts } from '../engine/models/cost';

/** What the run list shows about a run, kept up to date as events are appended. */
export interface RunSummary {
  /** Latest iteration / epoch any event reported. */
  iteration: number;
  epoch: number;
  /** Loss of the latest step (null before the first step or when it was not finite). */
  lastLoss: number | null;
  /** Test accuracy of the latest epoch. */
  testAccuracy: number | null;
  /** Test accuracy of the compact model, once built. */
  compactAccuracy: number | null;
  macsDense: number | null;
  macsCompact: number | null;
  paramsDense: number | null;
  paramsCompact: number | null;
  /** Sum of the epochs' times; before the first epoch ends, the time from the first to the last event. */
  trainMs: number;
  epochsDone: number;
  firstEventTime: number | null;
  lastEventTime: number | null;
}

export function emptySummary(): RunSummary {
  return {
    iteration: 0,
    epoch: 0,
    lastLoss: null,
    testAccuracy: null,
    compactAccuracy: null,
    macsDense: null,
    macsCompact: null,
    paramsDense: null,
    paramsCompact: null,
    trainMs: 0,
    epochsDone: 0,
    firstEventTime: null,
    lastEventTime: null,
  };
}

const finiteOrNull = (x: number | null) => (x !== null && Number.isFinite(x) ? x : null);

function costs(s: RunSummary, c: CostSummary): void {
  s.macsDense = c.macsDense;
  s.macsCompact = c.macsCompact;
  s.paramsDense = c.paramsDense;
  s.paramsCompact = c.paramsCompact;
}

/** The summary after `events` (pure: `prev` is not changed). summarize(summarize(a, x), y) = summarize(a, x ++ y). */
export function summarize(prev: RunSummary, events: readonly EngineEvent[]): RunSummary {
  const s = { ...prev };
  for (const e of events) {
    if (s.firstEventTime === null) s.firstEventTime = e.time;
    s.lastEventTime = e.time;
    if ('iteration' in e && typeof e.iteration === 'number') s.iteration = e.iteration;
    if ('epoch' in e && typeof e.epoch === 'number') s.epoch = e.epoch;
    switch (e.type) {
      case 'runStart':
        costs(s, e);
        break;
      case 'configChange':
        // The run's totals are the sums over its layers (engine/plan.ts).
        costs(s, totalCosts(e.layers));
        break;
      case 'step':
        s.lastLoss = finiteOrNull(e.loss);
        break;
      case 'epoch':
        s.testAccuracy = finiteOrNull(e.testAccuracy);
        s.trainMs = (s.epochsDone === 0 ? 0 : s.trainMs) + (Number.isFinite(e.epochMs) ? e.epochMs : 0);
        s.epochsDone++;
        break;
      case 'compact':
        s.compactAccuracy = finiteOrNull(e.testAccuracy);
        costs(s, e);
        break;
      default:
        break;
    }
    if (s.epochsDone === 0) s.trainMs = s.lastEventTime - s.firstEventTime;
  }
  return s;
}
