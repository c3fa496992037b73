import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../engine/events';
import { RunStore } from '../../runs/store';
import { sampleEvents } from '../../runs/testing/sample-events';
import type { CheckpointReason, WorkerMessage } from '../../worker/protocol';
import { RunRecorder } from './recorder';

let store: RunStore;
let n = 0;
beforeEach(async () => {
  store = await RunStore.open(`recorder-test-${++n}`);
});
afterEach(() => store.close());

const ev = (event: EngineEvent): WorkerMessage => ({ kind: 'event', event });
const ckpt = (iteration: number, reason: CheckpointReason = 'interval', costMs = 1): WorkerMessage => ({ kind: 'checkpoint', reason, iteration, epoch: 0, time: 1, bytes: new Uint8Array([iteration, 1, 2, 3]), costMs });

function setup(recorded = 0) {
  const requests: CheckpointReason[] = [];
  const errors: string[] = [];
  const clock = { t: 0 };
  return {
    requests,
    errors,
    clock,
    make: (runId: string) =>
      new RunRecorder({
        store,
        runId,
        recordedEvents: recorded,
        requestCheckpoint: async (r) => {
          requests.push(r);
          return true;
        },
        checkpointEveryMs: 60_000,
        onStoreError: (m) => errors.push(m),
        now: () => clock.t,
      }),
  };
}

describe('RunRecorder', () => {
  it('stores the stream in order, each checkpoint with the number of events before it, and asks for checkpoints at start, after the training time and at a pause', async () => {
    const run = await store.createRun({ name: 'r', source: 'browser' });
    const h = setup();
    const rec = h.make(run.id);
    const events = sampleEvents(2, 4);
    // runStart, running, 3 steps | checkpoint | the rest, in uneven batches
    rec.onMessages(events.slice(0, 4).map(ev));
    expect(h.requests).toEqual(['start']);
    rec.onMessages([ckpt(0, 'start')]);
    await rec.flush();
    h.clock.t = 59_950;
    rec.onMessages(events.slice(4, 5).map(ev));
    expect(h.requests).toEqual(['start', 'interval']);
    rec.onMessages([ckpt(3), ...events.slice(5, 9).map(ev)]);
    rec.onMessages(events.slice(9).map(ev));
    rec.onMessages([ev({ type: 'state', time: 2, state: 'paused', iteration: 8, epoch: 1 })]);
    await rec.flush();
    const stored = await store.getEvents(run.id);
    expect(stored.length).toBe(events.length + 1);
    expect(stored.slice(0, events.length)).toEqual(events);
    const c = await store.getCheckpoint(run.id);
    expect(c?.meta).toMatchObject({ iteration: 3, eventCount: 5, reason: 'interval' });
    expect((await store.getCheckpoint(run.id, 'previous'))?.meta).toMatchObject({ iteration: 0, eventCount: 4, reason: 'start' });
    expect([...c!.bytes]).toEqual([3, 1, 2, 3]);
    // the sample run ends 'finished': no pause checkpoint after the end
    expect(h.requests).toEqual(['start', 'interval']);
    expect(h.errors).toEqual([]);
  });

  it('after a NaN loss keeps the last good checkpoint until training goes on normally', async () => {
    const run = await store.createRun({ name: 'r', source: 'browser' });
    const h = setup();
    const rec = h.make(run.id);
    const [start, running, s1, s2] = sampleEvents(1, 4);
    rec.onMessages([ev(start), ev(running), ev(s1), ckpt(1)]);
    rec.onMessages([
      ev({ type: 'error', time: 3, code: 'nan', message: 'the loss became NaN', iteration: 1, epoch: 0 }),
      ev({ type: 'state', time: 3, state: 'paused', iteration: 1, epoch: 0 }),
      ckpt(1, 'stop'),
    ]);
    expect(rec.isDiverged).toBe(true);
    expect(h.requests).toEqual(['start']); // no pause checkpoint of the diverged state
    await rec.flush();
    expect((await store.getCheckpoint(run.id))?.meta).toMatchObject({ iteration: 1, reason: 'interval', eventCount: 3 });
    // A normal step: checkpoints are taken again.
    rec.onMessages([ev({ type: 'state', time: 4, state: 'running', iteration: 1, epoch: 0 }), ev(s2), ckpt(2, 'pause')]);
    await rec.flush();
    expect(rec.isDiverged).toBe(false);
    expect((await store.getCheckpoint(run.id))?.meta).toMatchObject({ iteration: 2, reason: 'pause', eventCount: 7 });
  });

  it('a resumed run continues the log after the checkpoint and asks no start checkpoint', async () => {
    const run = await store.createRun({ name: 'r', source: 'browser' });
    const events = sampleEvents(1, 4);
    await store.appendEvents(run.id, events.slice(0, 4));
    const h = setup(4);
    const rec = h.make(run.id);
    rec.onMessages([ev({ ...(events[0] as Extract<EngineEvent, { type: 'runStart' }>), resumedFrom: 2 }), ckpt(2)]);
    await rec.flush();
    expect(h.requests).toEqual([]);
    expect((await store.getCheckpoint(run.id))?.meta.eventCount).toBe(5);
    expect(await store.getEvents(run.id)).toHaveLength(5);
  });

  it('asks for a checkpoint by training time (paused time does not count), after a projection, and when the page goes away; backs off when they are costly', async () => {
    const run = await store.createRun({ name: 'r', source: 'browser' });
    const h = setup();
    const rec = h.make(run.id);
    const [start, running, s1, s2, s3] = sampleEvents(1, 4);
    const at = async (t: number, ...batch: WorkerMessage[]) => {
      h.clock.t = t;
      rec.onMessages(batch);
      await rec.flush();
    };
    await at(0, ev(start), ev(running));
    await at(10, ckpt(0, 'start'));
    expect(h.requests).toEqual(['start']);
    // 40 s of training, then a NaN pauses the run (no checkpoint of that) for 30 s: paused time does not count.
    await at(40_000, ev(s1), ev({ type: 'error', time: 2, code: 'nan', message: 'NaN', iteration: 1, epoch: 0 }), ev({ type: 'state', time: 2, state: 'paused', iteration: 1, epoch: 0 }));
    await at(70_000, ev({ type: 'state', time: 3, state: 'running', iteration: 1, epoch: 0 }));
    await at(89_000, ev(s2));
    expect(h.requests).toEqual(['start']);
    // It is asked for one step (100 ms here) and one checkpoint's cost early, so it is at most 60 s old when taken.
    await at(89_900, ev(s2));
    expect(h.requests).toEqual(['start', 'interval']);
    // Nothing more while one is on its way.
    await at(89_950, ev(s3));
    expect(h.requests).toHaveLength(2);
    await at(89_960, ckpt(2, 'interval', 5));
    // A projection asks for one once 5 s of training passed.
    const projection: EngineEvent = { type: 'projection', time: 4, index: 1, iteration: 3, epoch: 0, layers: [], projectionMs: 1, testAccuracy: null };
    await at(92_000, ev(projection));
    expect(h.requests).toHaveLength(2);
    await at(94_901, ev(s3));
    expect(h.requests).toEqual(['start', 'interval', 'projection']);
    // A costly checkpoint (2 s: snapshot, encoding and write) keeps the next one 100 s away, projections and the 60 s or not.
    await at(94_902, ckpt(3, 'projection', 2_000));
    expect(rec.checkpointCost).toEqual({ costMs: 2_000, minGapMs: 100_000 });
    await at(180_000, ev(projection), ev(s3));
    expect(h.requests).toHaveLength(3);
    // The page going away asks at once, whatever the policy says.
    rec.pageHidden();
    expect(h.requests.at(-1)).toBe('pagehide');
    await at(180_100, ckpt(3, 'pagehide', 2_000));
    await at(279_000, ev(s3));
    expect(h.requests).toHaveLength(4);
    await at(280_001, ev(s3));
    expect(h.requests.at(-1)).toBe('interval');
    expect(h.errors).toEqual([]);
  });

  it('reports a failed write and goes on', async () => {
    const h = setup();
    const rec = h.make('no-such-run');
    rec.onMessages(sampleEvents(1, 2).map(ev));
    await rec.flush();
    expect(h.errors.length).toBeGreaterThan(0);
    expect(h.errors[0]).toMatch(/no-such-run|not found|no run/i);
  });
});
