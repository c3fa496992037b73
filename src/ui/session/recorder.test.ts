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
const ckpt = (iteration: number, reason: CheckpointReason = 'interval'): WorkerMessage => ({ kind: 'checkpoint', reason, iteration, epoch: 0, time: 1, bytes: new Uint8Array([iteration, 1, 2, 3]) });

function setup(recorded = 0) {
  const requests: CheckpointReason[] = [];
  const errors: string[] = [];
  let tick: (() => void) | null = null;
  return {
    requests,
    errors,
    fireTimer: () => tick?.(),
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
        setTimer: (fn) => {
          tick = fn;
          return 1 as unknown as ReturnType<typeof setInterval>;
        },
        clearTimer: () => {
          tick = null;
        },
      }),
  };
}

describe('RunRecorder', () => {
  it('stores the stream in order, each checkpoint with the number of events before it, and asks for checkpoints at start, on the timer and at a pause', async () => {
    const run = await store.createRun({ name: 'r', source: 'browser' });
    const h = setup();
    const rec = h.make(run.id);
    const events = sampleEvents(2, 4);
    // runStart, running, 3 steps | checkpoint | the rest, in uneven batches
    rec.onMessages(events.slice(0, 5).map(ev));
    expect(h.requests).toEqual(['start']);
    h.fireTimer();
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

  it('reports a failed write and goes on', async () => {
    const h = setup();
    const rec = h.make('no-such-run');
    rec.onMessages(sampleEvents(1, 2).map(ev));
    await rec.flush();
    expect(h.errors.length).toBeGreaterThan(0);
    expect(h.errors[0]).toMatch(/no-such-run|not found|no run/i);
  });
});
