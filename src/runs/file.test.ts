import 'fake-indexeddb/auto';
// The page parses with zod in jitless mode (CSP without 'unsafe-eval'); so do these tests.
import '../worker/zod-setup';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { unzipSync, zipSync } from 'fflate';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../engine/events';
import { toJsonLines } from '../ui/state/eventlog';
import { exportRun, importRun, parseRunFile } from './file';
import { RunStore } from './store';
import { emptySummary, summarize } from './summary';
import { sampleEvents } from './testing/sample-events';

let store: RunStore;
let n = 0;
beforeEach(async () => {
  store = await RunStore.open(`file-test-${++n}`);
});
afterEach(() => store.close());

const modelZip = () => {
  const weights = new Uint8Array(4096).map((_, i) => (i * 37) % 256);
  const json = new TextEncoder().encode(JSON.stringify({ modelTopology: { node: [] }, format: 'graph-model', weightsManifest: [{ paths: ['weights.bin'], weights: [] }] }));
  return { weights, json, zip: zipSync({ 'model.json': json, 'weights.bin': weights }, { level: 0 }) };
};

describe('run zip export and import', () => {
  it('round-trips events, model and metadata', async () => {
    const events = sampleEvents(4, 3);
    // A diverged step: JSON has no NaN, so it travels as null and comes back as NaN.
    events.splice(5, 0, { type: 'step', time: events[4].time, iteration: 3, epoch: 0, loss: NaN, accuracy: 0, lr: 0.1, imagesPerSec: 1, stepMs: 1, numTensors: 40 });
    const model = modelZip();
    const run = await store.createRun({ name: 'sweep p=0.5', source: 'browser', batch: { id: 'b7', label: 'p sweep', arm: 'no-et', seed: 3, seeds: 2, data: 'local folder /data/cifar' } });
    await store.appendEvents(run.id, events.slice(0, 10));
    await store.appendEvents(run.id, events.slice(10));
    await store.putModel(run.id, model.zip);
    await store.putCheckpoint(run.id, new Uint8Array(64), { iteration: 1, epoch: 0, eventCount: 3, time: 1, reason: 'interval' });

    const bytes = await exportRun(store, run.id);
    const entries = unzipSync(bytes);
    expect(Object.keys(entries).sort()).toEqual(['compact/model.json', 'compact/weights.bin', 'events.jsonl', 'run.json']);
    expect(JSON.parse(new TextDecoder().decode(entries['run.json']))).toMatchObject({ format: 'lrpet-run', version: 1, name: 'sweep p=0.5', status: 'finished', source: 'browser', batch: { id: 'b7', label: 'p sweep', arm: 'no-et', seed: 3, seeds: 2, data: 'local folder /data/cifar' } });

    const parsed = parseRunFile(bytes, 'sweep.lrpet.zip');
    expect(parsed).toMatchObject({ name: 'sweep p=0.5', status: 'finished', source: 'file', batch: { id: 'b7', label: 'p sweep', arm: 'no-et', seed: 3, seeds: 2, data: 'local folder /data/cifar' } });
    expect(parsed.events).toEqual(events);
    expect(parsed.config).toEqual((await store.getRun(run.id))!.config);
    const m = unzipSync(parsed.model!);
    expect(m['weights.bin']).toEqual(model.weights);
    expect(m['model.json']).toEqual(model.json);

    const imported = await importRun(store, parsed);
    expect(imported).toMatchObject({ source: 'file', status: 'finished', hasModel: true, eventCount: events.length, checkpoint: null });
    expect(imported.summary).toEqual(summarize(emptySummary(), events));
    expect(await store.getEvents(imported.id)).toEqual(events);
    // Exporting the imported run gives the same content again (validation may reorder an event's keys).
    const again = unzipSync(await exportRun(store, imported.id));
    for (const name of ['compact/model.json', 'compact/weights.bin']) expect(again[name]).toEqual(entries[name]);
    const lines = (b: Uint8Array) => new TextDecoder().decode(b).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines(again['events.jsonl'])).toEqual(lines(entries['events.jsonl']));
  });

  it('exports a run without a model or events, and an unfinished run imports as imported', async () => {
    const run = await store.createRun({ name: 'empty', source: 'browser' });
    const empty = parseRunFile(await exportRun(store, run.id), 'x.zip');
    expect(empty).toMatchObject({ events: [], model: null, config: null, status: 'running' });
    expect((await importRun(store, empty)).status).toBe('imported');
    await expect(exportRun(store, 'gone')).rejects.toThrow(/run gone is not stored/);
  });
});

describe('JSON-lines logs', () => {
  it('imports the page’s downloaded log (eventlog.ts), including a resumed run with two runStarts', async () => {
    const events = sampleEvents(2, 3);
    const resumed = [...events.slice(0, 6), { ...(events[0] as Extract<EngineEvent, { type: 'runStart' }>), resumedFrom: 3, time: events[6].time }, ...events.slice(6)];
    const text = toJsonLines(resumed).replace(/\n/g, '\r\n');
    const parsed = parseRunFile(new TextEncoder().encode(`\n${text}\n\n`), 'downloads/my run.jsonl');
    expect(parsed).toMatchObject({ name: 'my run', source: 'jsonl', status: 'finished', model: null, batch: null });
    expect(parsed.events).toEqual(resumed);
    const rec = await importRun(store, parsed);
    expect(rec).toMatchObject({ source: 'jsonl', status: 'finished', eventCount: resumed.length, backend: 'webgpu' });
  });

  it('imports a log written by the headless runner (npx lrpet train --log)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lrpet-runs-'));
    const log = join(dir, 'cli-run.jsonl');
    await promisify(execFile)(process.execPath, [
      resolve(__dirname, '../../bin/lrpet.mjs'), 'train', '--model', 'vgg-tiny', '--prune', '0.5', '--epochs', '2', '--batch', '2', '--interval', '1',
      '--train-limit', '2', '--test-limit', '4', '--seed', '3', '--backend', 'cpu', '--quiet', '--log', log,
    ]);
    const bytes = readFileSync(log);
    const raw = bytes.toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
    const parsed = parseRunFile(new Uint8Array(bytes), log);
    expect(parsed.name).toBe('cli-run');
    expect(parsed.status).toBe('finished');
    expect(parsed.config).toMatchObject({ model: 'vgg-tiny', epochs: 2, batchSize: 2 });
    expect(parsed.events).toEqual(raw);
    expect(new Set(parsed.events.map((e) => e.type))).toEqual(new Set(['runStart', 'state', 'activity', 'step', 'gradNorms', 'projection', 'epoch', 'compact']));
    const rec = await importRun(store, parsed);
    const compact = raw.find((e) => e.type === 'compact');
    expect(rec).toMatchObject({ source: 'jsonl', status: 'finished', backend: 'cpu', eventCount: raw.length });
    expect(rec.summary).toMatchObject({ iteration: 2, epochsDone: 2, compactAccuracy: compact.testAccuracy, macsCompact: compact.macsCompact });
    expect(await store.getEvents(rec.id)).toEqual(raw);
  }, 120_000);

  it('fills in the config of configChange events from logs written before they carried it', () => {
    const events = sampleEvents(2, 2);
    const change = events.findIndex((e) => e.type === 'configChange');
    const legacy = events.map((e, i) => (i === change ? { ...e, config: undefined } : e));
    const parsed = parseRunFile(new TextEncoder().encode(toJsonLines(legacy as EngineEvent[])), 'old.jsonl');
    expect(parsed.events).toEqual(events);
    expect(parsed.events[change]).toMatchObject({ type: 'configChange', config: { lrpet: { prune: 0.75 } } });
  });

  it('a log from before the weight decay scope existed imports with its meaning then (kernels only); its compact event without the newer fields too', async () => {
    const events = sampleEvents(2, 2);
    const old = events.map((e) => {
      if (e.type !== 'runStart' && e.type !== 'configChange') return e;
      const { weightDecayScope: _w, ...config } = e.config;
      return { ...e, config };
    });
    const parsed = parseRunFile(new TextEncoder().encode(toJsonLines(old as EngineEvent[])), 'before-scope.jsonl');
    expect(parsed.config?.weightDecayScope).toBe('kernels');
    for (const e of parsed.events) if (e.type === 'runStart' || e.type === 'configChange') expect(e.config.weightDecayScope).toBe('kernels');
    const compact = parsed.events.find((e) => e.type === 'compact')!;
    expect(compact).not.toHaveProperty('hardProjection');
    expect(compact).not.toHaveProperty('bnRecalibration');
    const rec = await importRun(store, parsed);
    expect(rec.config?.weightDecayScope).toBe('kernels');
    // A log of today's engine says 'all' and keeps it.
    expect(parseRunFile(new TextEncoder().encode(toJsonLines(events)), 'new.jsonl').config?.weightDecayScope).toBe('all');
  });

  it('an interrupted or failed log keeps that status (imported / failed)', async () => {
    const events = sampleEvents(2, 2);
    const cut = parseRunFile(new TextEncoder().encode(toJsonLines(events.slice(0, 5))), 'cut.jsonl');
    expect(cut.status).toBe('interrupted');
    expect((await importRun(store, cut)).status).toBe('imported');
    const failed = [...events.slice(0, 4), { type: 'error', time: 1, code: 'device', message: 'GPU lost', iteration: 1, epoch: 0 } as EngineEvent];
    const f = parseRunFile(new TextEncoder().encode(toJsonLines(failed)), 'f.jsonl');
    expect(f.status).toBe('failed');
    expect((await importRun(store, f)).status).toBe('failed');
  });
});
