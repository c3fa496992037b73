import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseRunConfig, type RunConfig } from '../engine/config';
import { eventBytes } from './db';
import { RunStore, storageWarning } from './store';
import { emptySummary, summarize } from './summary';
import { sampleEvents } from './testing/sample-events';

let store: RunStore;
let dbCount = 0;
beforeEach(async () => {
  store = await RunStore.open(`runs-test-${++dbCount}`);
});
afterEach(() => {
  store.close();
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

describe('RunStore records', () => {
  it('creates, lists newest first, renames, updates and deletes runs', async () => {
    const a = await store.createRun({ name: 'a', source: 'browser' });
    const b = await store.createRun({ name: 'b', source: 'browser', batch: { id: 'B1', label: 'p sweep' } });
    expect(a).toMatchObject({ name: 'a', status: 'running', source: 'browser', batch: null, config: null, eventCount: 0, hasModel: false, bytes: 0, checkpoint: null });
    expect(a.id).not.toBe(b.id);
    expect((await store.listRuns()).map((r) => r.name)).toEqual(['b', 'a']);
    await store.renameRun(a.id, 'renamed');
    const updated = await store.updateRun(b.id, { status: 'paused', backend: 'webgpu' });
    expect(updated).toMatchObject({ status: 'paused', backend: 'webgpu', batch: { id: 'B1', label: 'p sweep' } });
    expect(await store.getRun(a.id)).toMatchObject({ name: 'renamed' });
    await store.deleteRun(a.id);
    expect(await store.getRun(a.id)).toBeNull();
    expect((await store.listRuns()).map((r) => r.id)).toEqual([b.id]);
  });

  it('says which run is missing', async () => {
    await expect(store.updateRun('nope', { name: 'x' })).rejects.toThrow(/run nope is not stored/);
    await expect(store.appendEvents('nope', sampleEvents().slice(0, 2))).rejects.toThrow(/^run nope is not stored/);
    await expect(store.putCheckpoint('nope', new Uint8Array(4), { iteration: 1, epoch: 0, eventCount: 1, time: 1, reason: 'manual' })).rejects.toThrow(/run nope is not stored/);
  });
});

describe('RunStore event log', () => {
  it('appends in chunks, reads back any prefix and keeps count, status, config and summary in step', async () => {
    const events = sampleEvents(3, 4);
    const run = await store.createRun({ name: 'r', source: 'browser' });
    const cuts = [0, 1, 2, 7, 8, 15, events.length];
    for (let i = 1; i < cuts.length; i++) await store.appendEvents(run.id, events.slice(cuts[i - 1], cuts[i]));
    await store.appendEvents(run.id, []);
    const rec = (await store.getRun(run.id))!;
    expect(rec.eventCount).toBe(events.length);
    expect(rec.status).toBe('finished');
    expect(rec.backend).toBe('webgpu');
    expect(rec.config).toEqual(events[0].type === 'runStart' && events[0].config);
    expect(rec.summary).toEqual(summarize(emptySummary(), events));
    expect(rec.bytes).toBe(cuts.slice(1).reduce((s, c, i) => s + eventBytes(events.slice(cuts[i], c)), 0));
    expect(await store.getEvents(run.id)).toEqual(events);
    for (const n of [0, 1, 2, 5, 7, 8, 9, events.length, events.length + 5]) expect(await store.getEvents(run.id, n)).toEqual(events.slice(0, n));
  });

  it('reads a run stored before the weight decay scope existed as it meant then (kernels only)', async () => {
    const events = sampleEvents(2, 2);
    const strip = (c: RunConfig) => {
      const { weightDecayScope: _w, ...rest } = c;
      return rest as RunConfig;
    };
    const old = events.map((e) => (e.type === 'runStart' || e.type === 'configChange' ? { ...e, config: strip(e.config) } : e));
    const run = await store.createRun({ name: 'old', source: 'browser', config: strip(parseRunConfig({ model: 'resnet8-tiny' })) });
    await store.appendEvents(run.id, old);
    expect((await store.getRun(run.id))!.config!.weightDecayScope).toBe('kernels');
    expect((await store.listRuns())[0].config!.weightDecayScope).toBe('kernels');
    const back = await store.getEvents(run.id);
    expect(back.filter((e) => e.type === 'runStart' || e.type === 'configChange').map((e) => (e as { config: RunConfig }).config.weightDecayScope)).toEqual(['kernels', 'kernels']);
    expect(back).toEqual(events.map((e) => (e.type === 'runStart' || e.type === 'configChange' ? { ...e, config: { ...e.config, weightDecayScope: 'kernels' } } : e)));
  });

  it('truncates at chunk boundaries and inside chunks, recomputing the summary and size', async () => {
    const events = sampleEvents(3, 4);
    for (const keep of [0, 1, 2, 5, 7, 8, 12, events.length - 1, events.length]) {
      const run = await store.createRun({ name: `cut ${keep}`, source: 'browser' });
      for (let i = 0; i < events.length; i += 4) await store.appendEvents(run.id, events.slice(i, i + 4));
      const rec = await store.truncateEvents(run.id, keep);
      expect(rec.eventCount).toBe(keep);
      expect(rec.summary).toEqual(summarize(emptySummary(), events.slice(0, keep)));
      const chunks = Array.from({ length: Math.ceil(keep / 4) }, (_, k) => events.slice(k * 4, Math.min(keep, k * 4 + 4)));
      expect(rec.bytes).toBe(chunks.reduce((s, c) => s + eventBytes(c), 0));
      expect(await store.getEvents(run.id)).toEqual(events.slice(0, keep));
      // Appending after the cut continues the numbering from the cut.
      await store.appendEvents(run.id, events.slice(keep, keep + 3));
      expect(await store.getEvents(run.id)).toEqual(events.slice(0, keep + 3));
    }
    const id = (await store.listRuns())[0].id;
    await expect(store.truncateEvents(id, -1)).rejects.toThrow(/cannot keep -1 events/);
  });
});

describe('RunStore checkpoints and models', () => {
  it('keeps the last two checkpoints in two slots written in turn, and counts their bytes', async () => {
    const run = await store.createRun({ name: 'c', source: 'browser' });
    await store.appendEvents(run.id, sampleEvents().slice(0, 5));
    const base = (await store.getRun(run.id))!.bytes;
    const big = new Uint8Array(1000).map((_, i) => i % 251);
    let rec = await store.putCheckpoint(run.id, big, { iteration: 2, epoch: 0, eventCount: 4, time: 5, reason: 'interval' });
    expect(rec).toMatchObject({ checkpoint: { iteration: 2, slot: 0, bytes: 1000 }, previousCheckpoint: null, bytes: base + 1000 });
    // A view into a larger buffer is stored as exactly its own bytes.
    const backing = new Uint8Array(5000).fill(7);
    rec = await store.putCheckpoint(run.id, backing.subarray(100, 400), { iteration: 3, epoch: 0, eventCount: 5, time: 6, reason: 'pause' });
    expect(rec.checkpoint).toEqual({ iteration: 3, epoch: 0, eventCount: 5, time: 6, reason: 'pause', bytes: 300, slot: 1 });
    expect(rec.previousCheckpoint).toMatchObject({ iteration: 2, slot: 0 });
    expect(rec.bytes).toBe(base + 1000 + 300);
    const ck = (await store.getCheckpoint(run.id))!;
    expect(ck.meta.eventCount).toBe(5);
    expect(ck.bytes.byteLength).toBe(300);
    expect(ck.bytes.buffer.byteLength).toBe(300);
    expect(Array.from(ck.bytes.slice(0, 3))).toEqual([7, 7, 7]);
    expect([...(await store.getCheckpoint(run.id, 'previous'))!.bytes]).toEqual([...big]);
    // The third goes where the first was.
    rec = await store.putCheckpoint(run.id, new Uint8Array(10).fill(3), { iteration: 4, epoch: 0, eventCount: 6, time: 7, reason: 'projection' });
    expect(rec).toMatchObject({ checkpoint: { iteration: 4, slot: 0 }, previousCheckpoint: { iteration: 3, slot: 1 }, bytes: base + 300 + 10 });
    expect([...(await store.getCheckpoint(run.id))!.bytes]).toEqual(new Array(10).fill(3));
    expect((await store.getCheckpoint(run.id, 'previous'))!.meta.iteration).toBe(3);
    // An unusable latest one: the one before takes its place.
    rec = await store.dropLatestCheckpoint(run.id);
    expect(rec).toMatchObject({ checkpoint: { iteration: 3, slot: 1 }, previousCheckpoint: null, bytes: base + 300 });
    expect((await store.getCheckpoint(run.id))!.meta.iteration).toBe(3);
    expect(await store.getCheckpoint(run.id, 'previous')).toBeNull();
    rec = await store.putCheckpoint(run.id, new Uint8Array(20), { iteration: 5, epoch: 0, eventCount: 7, time: 8, reason: 'interval' });
    expect(rec).toMatchObject({ checkpoint: { iteration: 5, slot: 0 }, previousCheckpoint: { iteration: 3, slot: 1 }, bytes: base + 300 + 20 });
    expect(await store.getCheckpoint('other')).toBeNull();
  });

  it('a checkpoint write cut short (the tab or the browser died in the middle) leaves the last two whole', async () => {
    const run = await store.createRun({ name: 'crash', source: 'browser' });
    const a = new Uint8Array(64).fill(1);
    const b = new Uint8Array(64).fill(2);
    await store.putCheckpoint(run.id, a, { iteration: 1, epoch: 0, eventCount: 1, time: 1, reason: 'interval' });
    await store.putCheckpoint(run.id, b, { iteration: 2, epoch: 0, eventCount: 2, time: 2, reason: 'interval' });
    const before = await store.getRun(run.id);
    // The third write dies after its bytes went into the slot of the first, before the record was updated:
    // the transaction never commits, as when the page is gone before it does.
    const put = IDBObjectStore.prototype.put;
    let slotWritten = false;
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
      if (this.name === 'checkpointSlots') slotWritten = true;
      if (this.name === 'runs') throw new DOMException('the page went away', 'AbortError');
      return put.apply(this, args);
    });
    await expect(store.putCheckpoint(run.id, new Uint8Array(64).fill(3), { iteration: 3, epoch: 0, eventCount: 3, time: 3, reason: 'pagehide' })).rejects.toThrow(/could not save a checkpoint/);
    vi.restoreAllMocks();
    expect(slotWritten).toBe(true);
    expect(await store.getRun(run.id)).toEqual(before);
    const latest = (await store.getCheckpoint(run.id))!;
    const previous = (await store.getCheckpoint(run.id, 'previous'))!;
    expect([latest.meta.iteration, [...new Set(latest.bytes)]]).toEqual([2, [2]]);
    expect([previous.meta.iteration, [...new Set(previous.bytes)]]).toEqual([1, [1]]);
  });

  it('opens a version-1 database: its one checkpoint per run becomes the latest, and the next one goes into the other slot', async () => {
    const name = `runs-v1-${++dbCount}`;
    const run = { ...(await store.createRun({ name: 'old', source: 'browser' })), checkpoint: { iteration: 7, epoch: 1, eventCount: 9, time: 3, reason: 'interval' as const, bytes: 4 } };
    delete (run as { previousCheckpoint?: unknown }).previousCheckpoint;
    // Version 1's layout, written by hand.
    await new Promise<void>((resolve, reject) => {
      const req = indexedDB.open(name, 1);
      req.onupgradeneeded = () => {
        const db = req.result;
        db.createObjectStore('runs', { keyPath: 'id' }).put(run);
        db.createObjectStore('events', { keyPath: ['runId', 'first'] });
        db.createObjectStore('checkpoints', { keyPath: 'runId' }).put({ runId: run.id, meta: run.checkpoint, bytes: new Uint8Array([9, 8, 7, 6]) });
        db.createObjectStore('models', { keyPath: 'runId' });
      };
      req.onsuccess = () => {
        req.result.close();
        resolve();
      };
      req.onerror = () => reject(req.error);
    });
    const upgraded = await RunStore.open(name);
    try {
      const ck = (await upgraded.getCheckpoint(run.id))!;
      expect(ck.meta).toMatchObject({ iteration: 7, eventCount: 9 });
      expect([...ck.bytes]).toEqual([9, 8, 7, 6]);
      const rec = await upgraded.putCheckpoint(run.id, new Uint8Array(2), { iteration: 8, epoch: 1, eventCount: 10, time: 4, reason: 'interval' });
      expect(rec).toMatchObject({ checkpoint: { iteration: 8, slot: 1 }, previousCheckpoint: { iteration: 7 } });
      expect([...(await upgraded.getCheckpoint(run.id, 'previous'))!.bytes]).toEqual([9, 8, 7, 6]);
    } finally {
      upgraded.close();
    }
  });

  it('stores the model, replaces it, and deleteRun removes events, checkpoint and model', async () => {
    const run = await store.createRun({ name: 'm', source: 'browser' });
    const other = await store.createRun({ name: 'other', source: 'browser' });
    await store.appendEvents(run.id, sampleEvents());
    await store.appendEvents(other.id, sampleEvents().slice(0, 3));
    await store.putModel(run.id, new Uint8Array(500).fill(1));
    const rec = await store.putModel(run.id, new Uint8Array([9, 8, 7]));
    expect(rec.hasModel).toBe(true);
    expect(rec.bytes).toBe(eventBytes(sampleEvents()) + 3);
    expect(Array.from((await store.getModel(run.id))!)).toEqual([9, 8, 7]);
    await store.putCheckpoint(run.id, new Uint8Array(10), { iteration: 1, epoch: 0, eventCount: 3, time: 1, reason: 'stop' });
    await store.putCheckpoint(run.id, new Uint8Array(10), { iteration: 2, epoch: 0, eventCount: 3, time: 1, reason: 'stop' });
    await store.putCheckpoint(other.id, new Uint8Array(10), { iteration: 1, epoch: 0, eventCount: 3, time: 1, reason: 'stop' });
    await store.deleteRun(run.id);
    expect(await store.getEvents(run.id)).toEqual([]);
    expect(await store.getCheckpoint(run.id)).toBeNull();
    expect(await store.getModel(run.id)).toBeNull();
    expect(await store.getEvents(other.id)).toEqual(sampleEvents().slice(0, 3));
    expect((await store.getCheckpoint(other.id))?.meta.iteration).toBe(1);
  });
});

describe('RunStore housekeeping', () => {
  it('marks runs left running or paused as interrupted, except those another tab is recording', async () => {
    const running = await store.createRun({ name: 'running', source: 'browser' });
    const finished = await store.createRun({ name: 'finished', source: 'browser' });
    await store.appendEvents(finished.id, sampleEvents());
    const paused = await store.createRun({ name: 'paused', source: 'browser' });
    await store.updateRun(paused.id, { status: 'paused' });
    const otherTab = await store.createRun({ name: 'recorded by another tab', source: 'browser' });
    const marked = await store.markInterrupted(new Set([otherTab.id]));
    expect(marked.map((r) => r.id).sort()).toEqual([running.id, paused.id].sort());
    expect((await store.getRun(running.id))!.status).toBe('interrupted');
    expect((await store.getRun(finished.id))!.status).toBe('finished');
    expect((await store.getRun(paused.id))!.status).toBe('interrupted');
    expect((await store.getRun(otherTab.id))!.status).toBe('running');
    expect(await store.markInterrupted(new Set([otherTab.id]))).toEqual([]);
  });

  it('reports its usage and the browser estimate', async () => {
    const a = await store.createRun({ name: 'a', source: 'browser' });
    await store.appendEvents(a.id, sampleEvents());
    await store.putModel(a.id, new Uint8Array(100));
    expect(await store.usage()).toMatchObject({ runs: eventBytes(sampleEvents()) + 100 });
    vi.stubGlobal('navigator', { storage: { estimate: async () => ({ usage: 900, quota: 1000 }) } });
    expect((await store.usage()).estimate).toEqual({ usage: 900, quota: 1000 });
  });

  it('turns a full disk into a clear error and writes nothing', async () => {
    const run = await store.createRun({ name: 'q', source: 'browser' });
    vi.spyOn(IDBObjectStore.prototype, 'add').mockImplementation(() => {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    });
    await expect(store.appendEvents(run.id, sampleEvents())).rejects.toThrow(/^browser storage is full: could not save \d+ events/);
    vi.restoreAllMocks();
    expect((await store.getRun(run.id))!.eventCount).toBe(0);
    expect(await store.getEvents(run.id)).toEqual([]);
  });
});

describe('storageWarning', () => {
  it('warns only past 80 % of the quota', () => {
    expect(storageWarning(null, 1e9)).toBeNull();
    expect(storageWarning({ usage: 700, quota: 1000 }, 100)).toBeNull();
    expect(storageWarning({ usage: 700, quota: 1000 }, 101)).toMatch(/with 101 B more, browser storage would be 80 % full \(801 B of 1000 B\)/);
    expect(storageWarning({ usage: 900 * 2 ** 20, quota: 1024 * 2 ** 20 }, 0)).toMatch(/^browser storage is 88 % full \(900 MB of 1\.0 GB\); delete runs/);
    expect(storageWarning({ usage: 0, quota: 0 }, 10)).toBeNull();
  });
});
