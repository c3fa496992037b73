import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { decodeCheckpoint } from '../engine/checkpoint';
import type { RunControls } from '../engine/run/api';
import { RunStore } from '../runs/store';
import { sampleEvents } from '../runs/testing/sample-events';
import { checkpointBytes } from '../ui/session/testing/fake-worker';
import { Recording, takeCheckpoint } from './recording';

describe("the worker's recording of a run", () => {
  it('takes a checkpoint through the run controls and encodes it, its cost the snapshot and the encoding', async () => {
    const c = decodeCheckpoint(checkpointBytes(7));
    const controls = { checkpoint: async () => ({ ...c, snapshotMs: 40 }) } as unknown as RunControls;
    const taken = await takeCheckpoint(controls);
    expect(taken).toMatchObject({ iteration: 7, epoch: 0, time: 1 });
    expect(taken!.costMs).toBeGreaterThanOrEqual(40);
    expect(decodeCheckpoint(taken!.bytes).tensors[0].data).toEqual(Float32Array.from([7, 7]));
  });

  it('takes none while a weight is not finite: a diverged run goes back to a good checkpoint, never to that one', async () => {
    const c = decodeCheckpoint(checkpointBytes(7));
    for (const bad of [NaN, Infinity]) {
      const tensors = c.tensors.map((t, i) => (i === c.tensors.length - 1 ? { ...t, data: Float32Array.from(t.data, (v, j) => (j === 0 ? bad : v)) } : t));
      const controls = { checkpoint: async () => ({ ...c, tensors, snapshotMs: 1 }) } as unknown as RunControls;
      expect(await takeCheckpoint(controls)).toBeNull();
    }
  });

  it('stores the events, the compact model of a finished run, the failed status of an errored one, and nothing more after a lost device', async () => {
    const store = await RunStore.open();
    const opts = { take: async () => null, onCheckpoint: () => {}, onStoreError: (m: string) => expect.fail(m) };
    const runs = await Promise.all(['finished', 'error', 'lost'].map((name) => store.createRun({ name, source: 'browser' })));
    const [finished, failed, lost] = await Promise.all(runs.map((r) => Recording.open({ runId: r.id, recordedEvents: 0, checkpointMinutes: 0.5 }, opts)));
    for (const rec of [finished, failed, lost]) for (const e of sampleEvents(1, 2)) rec.recorder.event(e);
    expect(await finished.finish({ ended: 'finished' }, new Uint8Array([5, 6]))).toBeNull();
    expect(await failed.finish({ ended: 'error', message: 'boom' }, null)).toBeNull();
    expect(await lost.finish({ ended: 'error', message: 'lost', deviceProblem: 'the GPU device was lost' }, null)).toBeNull();
    const [a, b, c] = await Promise.all(runs.map((r) => store.getRun(r.id)));
    expect([a?.hasModel, a?.status, a?.eventCount]).toEqual([true, 'finished', sampleEvents(1, 2).length]);
    expect([...((await store.getModel(runs[0].id)) ?? [])]).toEqual([5, 6]);
    expect(b?.status).toBe('failed');
    expect(c?.status).not.toBe('failed');
    // A result that cannot be stored is said, not thrown.
    const gone = await Recording.open({ runId: 'no-such-run', recordedEvents: 0, checkpointMinutes: 0.5 }, { ...opts, onStoreError: () => {} });
    expect(await gone.finish({ ended: 'finished' }, new Uint8Array([1]))).toMatch(/^could not store the run's result: .*no-such-run/);
    store.close();
  });
});
