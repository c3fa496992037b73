import type { EngineEvent } from '../../engine/events';
import type { StoredCheckpoint } from '../../runs/recorder';
import type { Progress, WorkerMessage } from '../../worker/protocol';

type Exports = Extract<WorkerMessage, { kind: 'exports' }>;
type Released = Extract<WorkerMessage, { kind: 'released' }>;

/** A batch of worker messages by kind: taken apart once (splitBatch), each part handed to what needs it. */
export interface BatchParts {
  events: EngineEvent[];
  /** What the page is waiting for after this batch: undefined unchanged, null nothing (an event or the exports came after it). */
  progress?: Progress | null;
  exports?: Omit<Exports, 'kind'>;
  released?: Omit<Released, 'kind'>;
  /** Checkpoints the worker stored, in order. */
  checkpoints: StoredCheckpoint[];
  storeErrors: string[];
}

export const noParts = (): BatchParts => ({ events: [], checkpoints: [], storeErrors: [] });

/** Engine events alone as a batch (an inference measurement's event, added to the run shown). */
export const eventParts = (events: EngineEvent[]): BatchParts => ({ ...noParts(), events });

/** The one place a batch of worker messages is taken apart. A progress message lasts until an engine event (or the exports) comes after it. */
export function splitBatch(batch: readonly WorkerMessage[]): BatchParts {
  const parts = noParts();
  for (const m of batch) {
    switch (m.kind) {
      case 'event':
        parts.events.push(m.event);
        parts.progress = null;
        break;
      case 'progress':
        parts.progress = m.progress;
        break;
      case 'exports': {
        const { kind: _k, ...exports } = m;
        parts.exports = exports;
        parts.progress = null;
        break;
      }
      case 'released':
        parts.released = { numTensors: m.numTensors, numBytes: m.numBytes };
        break;
      case 'checkpoint':
        parts.checkpoints.push(m.meta);
        break;
      case 'storeError':
        parts.storeErrors.push(m.message);
        break;
    }
  }
  return parts;
}

/** Whether the run is diverged after these events: a NaN or exploding loss pauses it until a normal step follows. */
export function divergedAfter(was: boolean, events: readonly EngineEvent[]): boolean {
  let d = was;
  for (const e of events) {
    if (e.type === 'error' && (e.code === 'nan' || e.code === 'exploding')) d = true;
    else if (e.type === 'step') d = false;
  }
  return d;
}
