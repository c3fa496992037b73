import { describe, expect, it } from 'vitest';
import { applyLiveUpdate } from '../../engine/config';
import type { EngineEvent } from '../../engine/events';
import type { RunRecord } from '../../runs/store';
import { emptySummary } from '../../runs/summary';
import { compareSet } from './compare-set';
import { replayEvents } from './replay';
import { runStartEvent, stateEvent, stepEvent } from './test-events';

const record = (id: string, config: RunRecord['config']): RunRecord => ({
  id,
  name: id,
  createdAt: 1,
  updatedAt: 1,
  status: 'finished',
  source: 'browser',
  batch: null,
  config,
  backend: 'webgpu',
  eventCount: 0,
  summary: emptySummary(),
  checkpoint: null,
  previousCheckpoint: null,
  hasModel: false,
  bytes: 0,
});

describe('compareSet', () => {
  it("labels a run by the settings it was changed to live, not only those it started with (its record keeps the start's)", () => {
    const start = runStartEvent(0, 4, 2);
    const steady: EngineEvent[] = [start, stateEvent(0, 'running', 0), stepEvent(1, 1, 0, 2)];
    const changes = { lr: 0.01, prune: 0.75 };
    const changed: EngineEvent[] = [
      ...steady,
      { type: 'configChange', time: 2, iteration: 1, epoch: 0, changes, config: applyLiveUpdate(start.config, changes), layers: start.layers },
      stepEvent(3, 2, 0, 2),
    ];
    const { runs, common } = compareSet(
      [
        { id: 'a', record: record('a', start.config), state: replayEvents(steady) },
        { id: 'b', record: record('b', start.config), state: replayEvents(changed) },
      ],
      null,
    );
    expect(runs.map((r) => r.legend)).toEqual(['p 0.57, lr 0.1', 'p 0.75, lr 0.01']);
    expect(common).toContain('resnet8-tiny');
  });
});
