import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../engine/events';
import { RunStore } from './store';
import { sampleEvents } from './testing/sample-events';
import { RunRecorder, type TakenCheckpoint } from './recorder';
import type { CheckpointReason } from './records';

let store: RunStore;
let n = 0;
beforeEach(async () => {
  store = await RunStore.open(`recorder-test-${++n}`);
});
afterEach(() => store.close());

/** A recorder whose checkpoints the test serves by hand (as the engine does after the step in flight), on a clock it sets. */
function setup(recorded = 0) {
  const requests: CheckpointReason[] = [];
  const waiting: ((c: TakenCheckpoint | null) => void)[] = [];
  const errors: string[] = [];
  const clock = { t: 0 };
  const chunks: (() => void)[] = [];
  let made: RunRecorder | null = null;
  return {
    requests,
    errors,
    clock,
    /** Serves the checkpoints asked for so far, at `iteration`, each having cost `costMs` to take. */
    serve: async (iteration: number, costMs = 1) => {
      for (const resolve of waiting.splice(0)) resolve({ bytes: new Uint8Array([iteration, 1, 2, 3]), iteration, epoch: 0, time: 1, costMs });
      await new Promise((r) => setTimeout(r, 0));
      await made?.flush();
    },
    /** The engine has no run to checkpoint (it ended). */
    refuse: () => {
      for (const resolve of waiting.splice(0)) resolve(null);
    },
    /** The chunk timers fire: events are written. */
    tick: () => {
      for (const fn of chunks.splice(0)) fn();
    },
    make: (runId: string) =>
      (made = new RunRecorder({
        store,
        runId,
        recordedEvents: recorded,
        take: (reason) => {
          requests.push(reason);
          return new Promise((resolve) => waiting.push(resolve));
        },
        checkpointEveryMs: 60_000,
        onStoreError: (m) => errors.push(m),
        now: () => clock.t,
        schedule: (fn) => void chunks.push(fn),
      })),
  };
}

const feed = (rec: RunRecorder, events: EngineEvent[]) => {
  for (const e of events) rec.event(e);
};

describe('RunRecorder', () => {
  it('stores the stream in order, each checkpoint with the number of events before it, and takes checkpoints at the start, after the training time and at a pause', async () => {
    const run = await store.createRun({ name: 'r', source: 'browser' });
    const h = setup();
    const rec = h.make(run.id);
    const events = sampleEvents(2, 4);
    // runStart, running, 2 steps | start checkpoint | the rest
    feed(rec, events.slice(0, 4));
    expect(h.requests).toEqual(['start']);
    await h.serve(0);
    h.tick();
    h.clock.t = 59_950;
    feed(rec, events.slice(4, 5));
    expect(h.requests).toEqual(['start', 'interval']);
    await h.serve(3);
    feed(rec, events.slice(5));
    rec.event({ type: 'state', time: 2, state: 'paused', iteration: 8, epoch: 1 });
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
    feed(rec, [start, running, s1]);
    await h.serve(1);
    feed(rec, [
      { type: 'error', time: 3, code: 'nan', message: 'the loss became NaN', iteration: 1, epoch: 0 },
      { type: 'state', time: 3, state: 'paused', iteration: 1, epoch: 0 },
    ]);
    expect(rec.isDiverged).toBe(true);
    expect(h.requests).toEqual(['start']); // no pause checkpoint of the diverged state
    // A stop asks for one: the diverged state is not stored.
    const stop = rec.checkpoint('stop');
    await h.serve(1);
    expect(await stop).toBe(false);
    await rec.flush();
    expect((await store.getCheckpoint(run.id))?.meta).toMatchObject({ iteration: 1, reason: 'start', eventCount: 3 });
    // A normal step: checkpoints are stored again.
    feed(rec, [{ type: 'state', time: 4, state: 'running', iteration: 1, epoch: 0 }, s2]);
    const pause = rec.checkpoint('pause');
    await h.serve(2);
    expect(await pause).toBe(true);
    expect(rec.isDiverged).toBe(false);
    expect((await store.getCheckpoint(run.id))?.meta).toMatchObject({ iteration: 2, reason: 'pause', eventCount: 7 });
  });

  it('a resumed run continues the log after the checkpoint and takes no start checkpoint', async () => {
    const run = await store.createRun({ name: 'r', source: 'browser' });
    const events = sampleEvents(1, 4);
    await store.appendEvents(run.id, events.slice(0, 4));
    const h = setup(4);
    const rec = h.make(run.id);
    rec.event({ ...(events[0] as Extract<EngineEvent, { type: 'runStart' }>), resumedFrom: 2 });
    expect(h.requests).toEqual([]);
    const pause = rec.checkpoint('pause');
    await h.serve(2);
    await pause;
    expect((await store.getCheckpoint(run.id))?.meta.eventCount).toBe(5);
    expect(await store.getEvents(run.id)).toHaveLength(5);
  });

  it('checkpoints by training time (paused time does not count), after a projection, and when the page goes away; backs off when they are costly', async () => {
    const run = await store.createRun({ name: 'r', source: 'browser' });
    const h = setup();
    const rec = h.make(run.id);
    const [start, running, s1, s2, s3] = sampleEvents(1, 4);
    const at = async (t: number, ...events: EngineEvent[]) => {
      h.clock.t = t;
      feed(rec, events);
      await rec.flush();
    };
    await at(0, start, running);
    h.clock.t = 10;
    await h.serve(0);
    expect(h.requests).toEqual(['start']);
    // 40 s of training, then a NaN pauses the run (no checkpoint of that) for 30 s: paused time does not count.
    await at(40_000, s1, { type: 'error', time: 2, code: 'nan', message: 'NaN', iteration: 1, epoch: 0 }, { type: 'state', time: 2, state: 'paused', iteration: 1, epoch: 0 });
    await at(70_000, { type: 'state', time: 3, state: 'running', iteration: 1, epoch: 0 });
    await at(89_000, s2);
    expect(h.requests).toEqual(['start']);
    // It is asked for one step (100 ms here) and one checkpoint's cost early, so it is at most 60 s old when taken.
    await at(89_900, s2);
    expect(h.requests).toEqual(['start', 'interval']);
    // Nothing more while one is on its way.
    await at(89_950, s3);
    expect(h.requests).toHaveLength(2);
    h.clock.t = 89_960;
    await h.serve(2, 5);
    // A projection asks for one once 5 s of training passed.
    const projection: EngineEvent = { type: 'projection', time: 4, index: 1, iteration: 3, epoch: 0, layers: [], projectionMs: 1, testAccuracy: null };
    await at(92_000, projection);
    expect(h.requests).toHaveLength(2);
    await at(94_901, s3);
    expect(h.requests).toEqual(['start', 'interval', 'projection']);
    // A costly checkpoint (2 s: snapshot, encoding and write) keeps the next one 100 s away, projections and the 60 s or not.
    h.clock.t = 94_902;
    await h.serve(3, 2_000);
    expect(rec.checkpointCost).toEqual({ costMs: 2_000, minGapMs: 100_000 });
    await at(180_000, projection, s3);
    expect(h.requests).toHaveLength(3);
    // The page going away asks at once, whatever the policy says.
    const hidden = rec.pageHidden();
    expect(h.requests.at(-1)).toBe('pagehide');
    h.clock.t = 180_100;
    await h.serve(3, 2_000);
    expect(await hidden).toBe(true);
    await at(279_000, s3);
    expect(h.requests).toHaveLength(4);
    await at(280_001, s3);
    expect(h.requests.at(-1)).toBe('interval');
    expect(h.errors).toEqual([]);
  });

  it('counts the write in the cost: a slow store backs the policy off as a slow snapshot does', async () => {
    const run = await store.createRun({ name: 'r', source: 'browser' });
    const h = setup();
    const slow = { ...store, appendEvents: store.appendEvents.bind(store), putCheckpoint: async (...a: Parameters<RunStore['putCheckpoint']>) => {
      h.clock.t += 1_000;
      return store.putCheckpoint(...a);
    } };
    const rec = new RunRecorder({ store: slow, runId: run.id, recordedEvents: 0, take: async () => ({ bytes: new Uint8Array([1]), iteration: 0, epoch: 0, time: 1, costMs: 10 }), checkpointEveryMs: 60_000, onStoreError: (m) => h.errors.push(m), now: () => h.clock.t });
    const [start] = sampleEvents(1, 1);
    rec.event(start);
    await new Promise((r) => setTimeout(r, 0));
    await rec.flush();
    expect(rec.checkpointCost).toEqual({ costMs: 1_010, minGapMs: 50_500 });
    rec.close();
  });

  it('reports a failed write and goes on; a run that has ended stores no checkpoint', async () => {
    const h = setup();
    const rec = h.make('no-such-run');
    feed(rec, sampleEvents(1, 2));
    await rec.flush();
    expect(h.errors.length).toBeGreaterThan(0);
    const run = await store.createRun({ name: 'r', source: 'browser' });
    const ended = h.make(run.id);
    feed(ended, sampleEvents(1, 2));
    h.refuse();
    ended.close();
    expect(await ended.checkpoint('stop')).toBe(false);
  });
});
