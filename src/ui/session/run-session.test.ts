import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseRunConfig } from '../../engine/config';
import { strToU8, zipSync } from 'fflate';
import type { EngineEvent, InferenceEvent } from '../../engine/events';
import { RunStore } from '../../runs/store';
import type { ServerListing } from '../../worker/protocol';
import { ablationBatch } from '../state/ablations';
import { parseJsonLines } from '../state/eventlog';
import { presetById, toRunConfig, type FormState } from '../state/form';
import { initialRunState, runReducer, stepPoints, type RunState } from '../state/store';
import { MAX_RESTARTS, RunSession } from './run-session';
import { checkpointBytes, ev, FakeWorker, ManualTimers, msg } from './testing/fake-worker';

let store: RunStore;
let n = 0;
beforeEach(async () => {
  store = await RunStore.open(`session-test-${++n}`);
});
afterEach(() => store.close());

const quick = presetById('quick').form;
/** The page's form at load: a tiny run. */
const pageForm: FormState = { ...quick, trainLimit: 64, testLimit: 50, batchSize: 16, interval: 2, prune: 0.5, epochs: 3 };

const listing: ServerListing = {
  source: '/data/cifar-10-batches-bin',
  rule: '../shared',
  tried: [],
  problem: null,
  files: [],
  download: { state: 'idle', received: 0, total: null, message: null },
};

async function setup() {
  const workers: FakeWorker[] = [];
  /** Set up each new worker before the session uses it. */
  const prepare: { next: ((w: FakeWorker) => void) | null } = { next: null };
  const timers = new ManualTimers();
  const saved: { name: string; blob: Blob }[] = [];
  const loadedForms: FormState[] = [];
  const batchesDone: string[][] = [];
  const batchIdsDone: string[] = [];
  const session = new RunSession({
    createWorker: () => {
      const w = new FakeWorker(store);
      prepare.next?.(w);
      workers.push(w);
      return w;
    },
    preference: 'auto',
    kernels: 'fast',
    fetch: async () => new Response(JSON.stringify(listing), { status: 200 }),
    timers: timers.timers,
    save: (blob, name) => saved.push({ name, blob }),
    runName: (f) => `run of ${f.model}`,
  });
  session.setStore(store);
  session.setCallbacks({
    // As the page does: the form shows them, and the form goes back to the session.
    onLoadForm: (f) => {
      loadedForms.push(f);
      session.setForm(f);
    },
    onBatchDone: (ids, batchId) => {
      batchesDone.push(ids);
      batchIdsDone.push(batchId);
    },
  });
  let run: RunState = initialRunState();
  session.subscribeRun((a) => (run = runReducer(run, a)));
  session.setForm(pageForm);
  session.open();
  await vi.waitFor(() => expect(session.getSnapshot().backend.status).toBe('ready'));
  await vi.waitFor(() => expect(session.data.getSnapshot().effective).toBe('server'));
  return {
    session,
    workers,
    prepare,
    timers,
    saved,
    loadedForms,
    batchesDone,
    batchIdsDone,
    get worker() {
      return workers.at(-1)!;
    },
    get run() {
      return run;
    },
    /** The page's form changed and the live-change delay passed. */
    edit(f: FormState) {
      session.setForm(f);
      timers.fireTimeouts();
    },
  };
}

type Harness = Awaited<ReturnType<typeof setup>>;

/** Starts a fresh run of `form` and streams its start (runStart, running); the worker stores the start checkpoint. */
async function startRun(h: Harness, form: FormState = pageForm) {
  expect(await h.session.start({ form })).toBe(true);
  const run = h.worker.lastRun;
  run.send(msg(ev.runStart(run.req.config), ev.state('running')));
  await run.checkpoint(0);
  await vi.waitFor(() => expect(h.session.getSnapshot().lastCheckpoint?.iteration).toBe(0));
  return run;
}

describe('RunSession: a run', () => {
  it('a fresh run is recorded by the worker as it streams, and its result stored when it says how it ended', async () => {
    const h = await setup();
    const run = await startRun(h);
    const id = h.session.getSnapshot().currentId!;
    expect(run.req).toMatchObject({ config: toRunConfig(pageForm), data: 'server', record: { runId: id, recordedEvents: 0, checkpointMinutes: pageForm.checkpointMinutes } });
    expect(run.req.resume).toBeUndefined();
    expect(h.worker.checkpoints).toEqual(['start']);
    expect(h.session.getSnapshot().lastCheckpoint).toMatchObject({ iteration: 0, reason: 'start', eventCount: 2 });
    expect(h.session.getSnapshot().busy).toBe(true);
    run.send(msg(ev.step(1), ev.step(2), ev.state('finished', 2)));
    run.end({ ended: 'finished' });
    await vi.waitFor(() => expect(h.session.getSnapshot().busy).toBe(false));
    expect(h.run.phase).toBe('finished');
    expect(h.run.eventCount).toBe(5);
    expect((await store.getRun(id))?.status).toBe('finished');
    expect(await store.getEvents(id)).toHaveLength(5);
    expect([...((await store.getModel(id)) ?? [])]).toEqual([...h.worker.download!.zip]);
    // The page's log download holds the same events.
    await h.session.downloadLog('log.jsonl');
    expect(parseJsonLines(await h.saved[0].blob.text())).toEqual(await store.getEvents(id));
    await h.session.downloadModel('compact', 'm.zip');
    expect(h.saved[1].name).toBe('m.zip');
    expect(new Uint8Array(await h.saved[1].blob.arrayBuffer())).toEqual(h.worker.download!.zip);
  });

  it('a run the worker gives up on ends failed, in the charts and in the store', async () => {
    const h = await setup();
    const run = await startRun(h);
    const id = h.session.getSnapshot().currentId!;
    run.end({ ended: 'error', message: 'the data could not be read' });
    await vi.waitFor(() => expect(h.session.getSnapshot().busy).toBe(false));
    expect(h.run).toMatchObject({ phase: 'failed', failure: 'the data could not be read' });
    expect((await store.getRun(id))?.status).toBe('failed');
    expect(await store.getModel(id)).toBeNull();
  });

  it('pause, resume and stop go to the worker; a stop shows at once', async () => {
    const h = await setup();
    await startRun(h);
    h.session.pause();
    h.session.resume();
    h.session.stop();
    await vi.waitFor(() => expect(h.worker.calls).toEqual(['pause', 'resume', 'stop']));
    expect(h.run.phase).toBe('stopping');
  });

  it('Step goes to the worker; Step before a run asks for a run that pauses after its first step', async () => {
    const h = await setup();
    expect(await h.session.start({ form: pageForm, firstStepOnly: true })).toBe(true);
    expect(h.worker.lastRun.req.firstStepOnly).toBe(true);
    h.worker.lastRun.end({ ended: 'stopped' });
    await vi.waitFor(() => expect(h.session.getSnapshot().busy).toBe(false));
    const run = await startRun(h);
    expect(run.req.firstStepOnly).toBeUndefined();
    h.session.step();
    await vi.waitFor(() => expect(h.worker.calls).toEqual(['step']));
  });

  it("asks the worker for a layer's matrix images at a projection", async () => {
    const h = await setup();
    expect(await h.session.matrixImages('stage1/conv', 3)).toBeNull();
    expect(h.worker.calls).toEqual(['matrixImages stage1/conv 3']);
  });
});

describe('RunSession: live changes are diffed against the settings the engine reported', () => {
  /** A stored run: started with lr 0.02 and p 0.5, lr changed live to 0.03, a checkpoint at iteration 3, one step after it. */
  async function storedRun() {
    const form = { ...pageForm, lr: 0.02 };
    const config = parseRunConfig(toRunConfig(form));
    const events: EngineEvent[] = [ev.runStart(config), ev.state('running'), ev.step(1, 0.02), ev.configChange(config, { lr: 0.03 }, 1), ev.step(2, 0.03), ev.step(3, 0.03), ev.step(4, 0.03)];
    const record = await store.createRun({ name: 'stored', source: 'browser' });
    await store.appendEvents(record.id, events);
    await store.putCheckpoint(record.id, checkpointBytes(3), { iteration: 3, epoch: 0, eventCount: 6, time: 1, reason: 'interval' });
    return { id: record.id, config, atCheckpoint: { ...config, lr: 0.03 } };
  }

  it('after resuming a stored run the form shows its settings, and a moved live slider is sent to the engine', async () => {
    const h = await setup();
    const stored = await storedRun();
    // The page was opened with other settings than the run's.
    h.session.setForm({ ...pageForm, prune: 0.3, lr: 0.1 });
    const config = await h.session.resumeStored(stored.id);
    expect(config).toEqual(stored.atCheckpoint);
    // The form shows the run's settings as they were at its checkpoint (the live lr change included).
    const loaded = h.loadedForms.at(-1)!;
    expect(loaded).toMatchObject({ prune: 0.5, lr: 0.03, trainLimit: 64, epochs: 3, interval: 2 });
    // The worker continues from the checkpoint with nothing to change; the log is cut at the checkpoint and replayed.
    const run = h.worker.lastRun;
    expect(run.req.resume).toEqual(checkpointBytes(3));
    expect(run.req.updates).toBeUndefined();
    expect(await store.getEvents(stored.id)).toHaveLength(6);
    expect(h.run.eventCount).toBe(6);
    expect(h.session.log.length).toBe(6);
    h.timers.fireTimeouts();
    expect(h.worker.updates).toEqual([]);

    run.send(msg(ev.runStart(stored.atCheckpoint, 3), ev.state('running', 3)));
    h.edit({ ...loaded, prune: 0.75 });
    expect(h.worker.updates).toEqual([{ prune: 0.75 }]);
    // The engine applies it; the next change sends only itself.
    run.send(msg(ev.configChange(stored.atCheckpoint, { prune: 0.75 }, 4)));
    expect(h.session.runConfig?.lrpet.prune).toBe(0.75);
    h.edit({ ...loaded, prune: 0.75, lr: 0.01 });
    expect(h.worker.updates).toEqual([{ prune: 0.75 }, { lr: 0.01 }]);
    expect(h.session.getSnapshot().liveError).toBeNull();
  });

  it('a change on its way is not sent again', async () => {
    const h = await setup();
    const run = await startRun(h);
    const config = parseRunConfig(run.req.config);
    h.edit({ ...pageForm, prune: 0.75 });
    h.edit({ ...pageForm, prune: 0.75, beta: 0.2 });
    h.edit({ ...pageForm, prune: 0.75, beta: 0.2 });
    expect(h.worker.updates).toEqual([{ prune: 0.75 }, { beta: 0.2 }]);
    run.send(msg(ev.configChange(config, { prune: 0.75 })));
    h.edit({ ...pageForm, prune: 0.75, beta: 0.2 });
    run.send(msg(ev.configChange({ ...config, lrpet: { ...config.lrpet, prune: 0.75 } }, { beta: 0.2 })));
    h.edit({ ...pageForm, prune: 0.75, beta: 0.2 });
    expect(h.worker.updates).toHaveLength(2);
    expect(h.session.runConfig?.lrpet).toMatchObject({ prune: 0.75, beta: 0.2 });
  });

  it('a change the engine refused is sent again with the next one', async () => {
    const h = await setup();
    await startRun(h);
    h.edit({ ...pageForm, prune: 0.75 });
    h.worker.lastRun.send(msg(ev.error('config', 'change not applied: the ranks cannot change, the compact model is already being fine-tuned')));
    h.edit({ ...pageForm, prune: 0.75, lr: 0.01 });
    expect(h.worker.updates).toEqual([{ prune: 0.75 }, { lr: 0.01, prune: 0.75 }]);
  });

  it('changes made before the engine started are diffed against the settings the run was started with', async () => {
    const h = await setup();
    expect(await h.session.start({ form: pageForm })).toBe(true);
    h.edit({ ...pageForm, lr: 0.2 });
    expect(h.worker.updates).toEqual([{ lr: 0.2 }]);
  });

  it('an impossible FLOPs target is reported and not sent; settings a run cannot change are not sent', async () => {
    const h = await setup();
    await startRun(h);
    h.edit({ ...pageForm, seed: 5, epochs: 9 });
    expect(h.worker.updates).toEqual([]);
    h.edit({ ...pageForm, compression: 'flops', flopsTarget: 0.999 });
    expect(h.worker.updates).toEqual([]);
    expect(h.session.getSnapshot().liveError).toMatch(/cannot be reached/);
  });

  it('without a run nothing is sent', async () => {
    const h = await setup();
    h.session.setForm({ ...pageForm, lr: 0.3 });
    expect(h.timers.timeouts).toBe(0);
    expect(h.worker.updates).toEqual([]);
  });
});

describe('RunSession: device problems and restarts', () => {
  const lost = 'the GPU device was lost (destroyed)';

  it('a lost device replaces the worker; the run goes on from its checkpoint with the changes made after it', async () => {
    const h = await setup();
    const run = await startRun(h);
    const first = h.worker;
    const id = h.session.getSnapshot().currentId!;
    run.send(msg(ev.step(1), ev.step(2)));
    await run.checkpoint(2);
    run.send(msg(ev.step(3)));
    await vi.waitFor(() => expect(h.session.getSnapshot().lastCheckpoint?.iteration).toBe(2));
    h.edit({ ...pageForm, lr: 0.01 });
    run.send(msg(ev.configChange(parseRunConfig(run.req.config), { lr: 0.01 }, 3)));
    first.reportDeviceProblem(lost);
    expect(first.terminated).toBe(true);
    expect(h.run.phase).toBe('loading');
    expect(h.run.progress?.label).toContain('restarting the worker');
    await vi.waitFor(() => expect(h.workers).toHaveLength(2));
    await vi.waitFor(() => expect(h.worker.runs).toHaveLength(1));
    const again = h.worker.lastRun;
    expect(again.req.resume).toEqual(checkpointBytes(2));
    // The lr change came after the checkpoint: it goes in again.
    expect(again.req.updates).toEqual([{ lr: 0.01 }]);
    expect(h.session.getSnapshot().notice).toBe('The GPU device was lost (destroyed). The worker was restarted and the run resumed from its checkpoint at iteration 2.');
    expect(h.session.getSnapshot()).toMatchObject({ busy: true, currentId: id });
    // The log was cut at the checkpoint; the old worker's late messages are dropped.
    expect(h.session.log.length).toBe(4); // runStart, running, step 1, step 2
    expect(await store.getEvents(id)).toHaveLength(4);
    run.send(msg(ev.step(4)));
    expect(h.session.log.length).toBe(4);
    again.send(msg(ev.runStart(parseRunConfig(run.req.config), 2), ev.state('running', 2), ev.step(3)));
    expect(h.session.log.length).toBe(7);
  });

  it('a run that ends in an error the worker traced to a lost device restarts from its checkpoint, whatever arrives first', async () => {
    const h = await setup();
    const run = await startRun(h);
    const first = h.worker;
    const id = h.session.getSnapshot().currentId!;
    run.send(msg(ev.step(1), ev.step(2)));
    await run.checkpoint(2);
    run.send(msg(ev.step(3), ev.error('internal', 'Buffer was unmapped before mapping was resolved.'), ev.state('stopped', 3)));
    await vi.waitFor(() => expect(h.session.getSnapshot().lastCheckpoint?.iteration).toBe(2));
    // The answer comes before the worker's separate report of the loss.
    run.end({ ended: 'error', message: 'Buffer was unmapped before mapping was resolved.', deviceProblem: lost });
    await vi.waitFor(() => expect(first.terminated).toBe(true));
    first.reportDeviceProblem(lost);
    await vi.waitFor(() => expect(h.workers).toHaveLength(2));
    await vi.waitFor(() => expect(h.worker.runs).toHaveLength(1));
    expect(h.worker.lastRun.req.resume).toEqual(checkpointBytes(2));
    expect(h.session.getSnapshot()).toMatchObject({ busy: true, currentId: id });
    expect(h.session.getSnapshot().notice).toContain('resumed from its checkpoint at iteration 2');
    expect(h.run.phase).not.toBe('failed');
  });

  it(`after ${MAX_RESTARTS} restarts of one run the page stops trying; the run stays resumable`, async () => {
    const h = await setup();
    await startRun(h);
    const id = h.session.getSnapshot().currentId!;
    for (let i = 1; i <= MAX_RESTARTS; i++) {
      h.worker.reportDeviceProblem(lost);
      await vi.waitFor(() => expect(h.workers).toHaveLength(i + 1));
      await vi.waitFor(() => expect(h.worker.runs).toHaveLength(1));
    }
    h.worker.reportDeviceProblem(lost);
    await vi.waitFor(async () => expect((await store.getRun(id))?.status).toBe('interrupted'));
    expect(h.run.phase).toBe('failed');
    expect(h.run.failure).toMatch(/again \(3 restarts already\)/);
    expect(h.session.getSnapshot().busy).toBe(false);
    expect(h.workers).toHaveLength(MAX_RESTARTS + 2);
  });

  it('a device problem with no run going replaces the worker and says so', async () => {
    const h = await setup();
    h.worker.reportDeviceProblem(lost);
    expect(h.workers).toHaveLength(2);
    expect(h.session.getSnapshot().notice).toBe(`${lost}. The worker was restarted.`);
    await vi.waitFor(() => expect(h.session.getSnapshot().backend.status).toBe('ready'));
  });

  it('after a NaN, going back to the last good checkpoint continues on a fresh worker with the lower learning rate', async () => {
    const h = await setup();
    const run = await startRun(h);
    run.send(msg(ev.step(1), ev.error('nan', 'the loss became NaN'), ev.state('paused', 1)));
    expect(h.session.getSnapshot().diverged).toBe(true);
    expect(h.worker.checkpoints).toEqual(['start']); // the diverged pause is not kept
    h.session.restoreLastGood(0.005);
    expect(h.loadedForms.at(-1)?.lr).toBe(0.005);
    await vi.waitFor(() => expect(h.workers).toHaveLength(2));
    await vi.waitFor(() => expect(h.worker.runs).toHaveLength(1));
    expect(h.worker.lastRun.req.resume).toEqual(checkpointBytes(0)); // the diverged pause was not kept
    expect(h.worker.lastRun.req.updates).toEqual([{ lr: 0.005 }]);
    expect(h.session.getSnapshot().notice).toBe('Continued from the last good checkpoint (iteration 0) with learning rate 0.005.');
    expect(h.session.getSnapshot().diverged).toBe(false);
    // Nothing more to send: the form and the update on its way agree.
    h.timers.fireTimeouts();
    expect(h.worker.updates).toEqual([]);
  });
});

describe('RunSession: an interrupted run', () => {
  /** A run whose page went away at iteration 5: its log and two checkpoints (iterations 2 and 4). */
  async function interrupted() {
    const config = parseRunConfig(toRunConfig(pageForm));
    const events: EngineEvent[] = [ev.runStart(config), ev.state('running'), ...[1, 2, 3, 4, 5].map((i) => ev.step(i))];
    const record = await store.createRun({ name: 'cut short', source: 'browser' });
    await store.appendEvents(record.id, events);
    await store.putCheckpoint(record.id, checkpointBytes(2), { iteration: 2, epoch: 0, eventCount: 4, time: 1, reason: 'interval' });
    await store.putCheckpoint(record.id, checkpointBytes(4), { iteration: 4, epoch: 0, eventCount: 6, time: 2, reason: 'projection' });
    await store.markInterrupted();
    return { id: record.id, events };
  }

  it('its charts are shown from the whole stored log before Resume, read-only; Resume continues from its latest checkpoint', async () => {
    const h = await setup();
    const { id, events } = await interrupted();
    expect(await h.session.showStored(id)).toBe(true);
    expect(h.run.phase).toBe('interrupted');
    expect(h.run.eventCount).toBe(events.length);
    expect(h.run.start?.config.model).toBe(pageForm.model);
    expect(stepPoints(h.run).map((p) => p.iteration)).toEqual([1, 2, 3, 4, 5]);
    expect(h.session.getSnapshot()).toMatchObject({ busy: false, lastCheckpoint: { iteration: 4 } });
    expect(h.session.log.length).toBe(events.length);
    // Nothing ran, nothing was cut.
    expect(h.worker.runs).toHaveLength(0);
    expect(await store.getEvents(id)).toHaveLength(events.length);
    await h.session.resumeStored(id);
    expect(h.worker.lastRun.req.resume).toEqual(checkpointBytes(4));
    expect(h.run.phase).toBe('loading');
    expect(h.run.eventCount).toBe(6);
  });

  it('a latest checkpoint that does not read: Resume continues from the one before and says so', async () => {
    const h = await setup();
    const { id } = await interrupted();
    await store.putCheckpoint(id, checkpointBytes(5).subarray(0, 40), { iteration: 5, epoch: 0, eventCount: 7, time: 3, reason: 'pagehide' });
    await h.session.resumeStored(id);
    expect(h.worker.lastRun.req.resume).toEqual(checkpointBytes(4));
    expect(h.session.getSnapshot().notice).toMatch(/^“cut short”: its checkpoint at iteration 5 could not be read \(not a valid LRPET checkpoint: .*\); it continues from the one before, at iteration 4\.$/);
    expect(await store.getEvents(id)).toHaveLength(6);
    expect((await store.getRun(id))?.checkpoint?.iteration).toBe(4);
  });

  it('the page going away has the worker store a checkpoint at once', async () => {
    const h = await setup();
    const run = await startRun(h);
    const id = h.session.getSnapshot().currentId!;
    run.send(msg(ev.step(1)));
    h.session.pageHidden();
    await vi.waitFor(() => expect(h.worker.checkpoints).toEqual(['start', 'pagehide']));
    // Hidden, then unloaded: one checkpoint on its way is enough.
    h.session.pageHidden();
    await run.checkpoint(1);
    await vi.waitFor(() => expect(h.session.getSnapshot().lastCheckpoint).toMatchObject({ iteration: 1, reason: 'pagehide' }));
    expect(h.worker.checkpoints).toEqual(['start', 'pagehide']);
    expect((await store.getCheckpoint(id))?.meta).toMatchObject({ iteration: 1, reason: 'pagehide', eventCount: 3 });
  });
});

describe('RunSession: worker and backend', () => {
  it('a failed backend is reported; another preference starts another worker', async () => {
    const h = await setup();
    expect(h.worker.initWith).toEqual({ preference: 'auto', kernels: 'fast' });
    h.session.setBackend('auto');
    expect(h.workers).toHaveLength(1);
    h.prepare.next = (w) => (w.initResult = () => Promise.reject(new Error('no WebGL here')));
    h.session.setBackend('webgl');
    expect(h.workers).toHaveLength(2);
    expect(h.workers[0].terminated).toBe(true);
    expect(h.session.getSnapshot().backend.status).toBe('starting');
    await vi.waitFor(() => expect(h.session.getSnapshot().backend).toEqual({ status: 'failed', message: 'no WebGL here' }));
    expect(h.worker.initWith?.preference).toBe('webgl');
  });

  it('options left undefined take their defaults (the page gives no fetch, clock or timers)', async () => {
    vi.stubGlobal('fetch', async () => new Response(JSON.stringify(listing), { status: 200 }));
    try {
      const worker = new FakeWorker();
      const session = new RunSession({ createWorker: () => worker, preference: 'auto', kernels: 'fast', fetch: undefined, now: undefined, timers: undefined, save: undefined });
      session.open();
      await vi.waitFor(() => expect(session.data.getSnapshot().effective).toBe('server'));
      await vi.waitFor(() => expect(session.getSnapshot().backend.status).toBe('ready'));
      session.close();
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('close terminates the worker; open starts a new one', async () => {
    const h = await setup();
    const first = h.worker;
    h.session.close();
    expect(first.terminated).toBe(true);
    h.session.open();
    expect(h.workers).toHaveLength(2);
  });
});

describe('RunSession: ablation batches', () => {
  it('runs the ablations one after another, each with its settings shown, then the comparison and the form it started from', async () => {
    const h = await setup();
    const items = ablationBatch(pageForm, ['lrpet', 'no-et']);
    h.session.startBatch(pageForm, ['lrpet', 'no-et']);
    await vi.waitFor(() => expect(h.worker.runs).toHaveLength(1));
    expect(h.worker.lastRun.req.config).toEqual(items[0].config);
    const firstId = h.session.getSnapshot().currentId!;
    expect((await store.getRun(firstId))?.batch).toEqual({
      id: h.session.getSnapshot().batch!.id,
      label: 'LRPET',
      arm: 'lrpet',
      seed: pageForm.seed,
      seeds: 1,
      data: `CIFAR-10 binary files in the local folder ${listing.source}`,
    });
    h.worker.lastRun.end({ ended: 'finished' });
    await vi.waitFor(() => expect(h.worker.runs).toHaveLength(2));
    const second = h.worker.lastRun;
    expect(second.req.config).toEqual(items[1].config);
    expect(h.loadedForms.at(-1)).toEqual(items[1].form);
    expect(h.session.getSnapshot().batch).toMatchObject({ index: 1, status: 'running' });
    // The page shows the run's own settings: nothing differs, nothing is sent (energy transfer stays off).
    second.send(msg(ev.runStart(second.req.config), ev.state('running')));
    h.timers.fireTimeouts();
    expect(h.worker.updates).toEqual([]);
    second.end({ ended: 'finished' });
    await vi.waitFor(() => expect(h.batchesDone).toHaveLength(1));
    expect(h.batchesDone[0]).toEqual([firstId, h.session.getSnapshot().currentId]);
    expect(h.batchIdsDone).toEqual([h.session.getSnapshot().batch!.id]);
    expect(h.session.getSnapshot().batch?.status).toBe('done');
    expect(h.loadedForms.at(-1)).toEqual(pageForm);
  });

  it("LRPET from the dense baseline starts from that run's final weights, fetched from the worker when it finished", async () => {
    const h = await setup();
    h.session.startBatch(pageForm, ['lrpet', 'dense', 'pretrained']);
    await vi.waitFor(() => expect(h.worker.runs).toHaveLength(1));
    h.worker.lastRun.end({ ended: 'finished' });
    await vi.waitFor(() => expect(h.worker.runs).toHaveLength(2));
    expect(h.worker.calls).not.toContain('downloadSafetensors projected'); // nothing starts from the LRPET run
    expect(h.worker.runs[0].req.initWeights).toBeUndefined();
    h.worker.safetensors = new Uint8Array([1, 2, 3, 4, 5]);
    h.worker.lastRun.end({ ended: 'finished' });
    await vi.waitFor(() => expect(h.worker.runs).toHaveLength(3));
    expect(h.worker.calls).toContain('downloadSafetensors projected');
    const third = h.worker.lastRun.req;
    expect(third.initWeights).toEqual(new Uint8Array([1, 2, 3, 4, 5]));
    expect(third.config.init).toEqual({ name: "the dense baseline's final weights" });
    h.worker.lastRun.end({ ended: 'finished' });
    await vi.waitFor(() => expect(h.session.getSnapshot().batch?.status).toBe('done'));
  });

  it('with two seeds, LRPET from the dense baseline of seed s starts from the dense run of seed s', async () => {
    const h = await setup();
    h.session.startBatch({ ...pageForm, seed: 3 }, ['dense', 'pretrained'], 2);
    const order: [string, unknown, unknown][] = [];
    for (let i = 0; i < 4; i++) {
      await vi.waitFor(() => expect(h.worker.runs).toHaveLength(i + 1));
      const req = h.worker.lastRun.req;
      order.push([req.config.lrpet?.enabled ? 'pretrained' : 'dense', req.config.seed, req.initWeights?.[0]]);
      h.worker.safetensors = new Uint8Array([100 + i]); // the final weights of run i
      h.worker.lastRun.end({ ended: 'finished' });
    }
    await vi.waitFor(() => expect(h.session.getSnapshot().batch?.status).toBe('done'));
    expect(order).toEqual([
      ['dense', 3, undefined],
      ['pretrained', 3, 100],
      ['dense', 4, undefined],
      ['pretrained', 4, 102],
    ]);
  });

  it('a run that does not finish ends the batch; "stop after this run" lets the run finish and starts no other', async () => {
    const h = await setup();
    h.session.startBatch(pageForm, ['lrpet', 'no-et', 'dense']);
    await vi.waitFor(() => expect(h.worker.runs).toHaveLength(1));
    h.worker.lastRun.end({ ended: 'stopped' });
    await vi.waitFor(() => expect(h.session.getSnapshot().batch?.status).toBe('cancelled'));
    expect(h.session.getSnapshot().batch?.message).toBe('stopped: “LRPET” ended early');
    expect(h.loadedForms.at(-1)).toEqual(pageForm);

    h.session.startBatch(pageForm, ['lrpet', 'no-et']);
    await vi.waitFor(() => expect(h.worker.runs).toHaveLength(2));
    h.session.cancelBatch();
    expect(h.session.getSnapshot().batch).toMatchObject({ status: 'cancelled', message: 'no further runs will start' });
    h.worker.lastRun.end({ ended: 'finished' });
    await vi.waitFor(() => expect(h.session.getSnapshot().busy).toBe(false));
    expect(h.worker.runs).toHaveLength(2);
    expect(h.batchesDone).toEqual([]);
  });

  it('seeds per arm: each arm runs with seed s, s+1, … (seed by seed), its record says arm and seed, and the batch is done after all', async () => {
    const h = await setup();
    const form = { ...pageForm, seed: 11 };
    h.session.startBatch(form, ['lrpet', 'no-et'], 2);
    const seen: { seed: unknown; batch: unknown; name: string }[] = [];
    for (let i = 0; i < 4; i++) {
      await vi.waitFor(() => expect(h.worker.runs).toHaveLength(i + 1));
      const id = h.session.getSnapshot().currentId!;
      const rec = (await store.getRun(id))!;
      seen.push({ seed: h.worker.lastRun.req.config.seed, batch: { arm: rec.batch?.arm, seed: rec.batch?.seed, seeds: rec.batch?.seeds }, name: rec.name });
      h.worker.lastRun.end({ ended: 'finished' });
    }
    await vi.waitFor(() => expect(h.batchesDone).toHaveLength(1));
    expect(seen.map((s) => s.seed)).toEqual([11, 11, 12, 12]);
    expect(seen.map((s) => s.batch)).toEqual([
      { arm: 'lrpet', seed: 11, seeds: 2 },
      { arm: 'no-et', seed: 11, seeds: 2 },
      { arm: 'lrpet', seed: 12, seeds: 2 },
      { arm: 'no-et', seed: 12, seeds: 2 },
    ]);
    expect(seen[3].name).toBe('No energy transfer · seed 12 · run of resnet8-tiny');
    expect(h.batchesDone[0]).toHaveLength(4);
    expect(h.loadedForms.at(-1)).toEqual(form);
  });
});

const timing = (medianMs: number, batch: number) => ({ samples: 3, medianMs, minMs: medianMs, maxMs: medianMs, q1Ms: medianMs, q3Ms: medianMs, imagesPerSec: (batch / medianMs) * 1000 });
const inferenceResult = (denseSource: 'projected' | 'architecture'): InferenceEvent => ({
  type: 'inference',
  time: 5,
  backend: 'webgpu',
  device: 'fake',
  denseSource,
  warmup: 2,
  iterations: 10,
  macsDense: 200,
  macsCompact: 100,
  paramsDense: 20,
  paramsCompact: 10,
  macRatio: 2,
  paramRatio: 2,
  splitRanks: [4],
  batches: [{ batch: 128, dense: timing(20, 128), compact: timing(10, 128), speedup: 2 }],
});

const hardware = (w: FakeWorker) => {
  const soft = w.initResult;
  w.initResult = async () => ({ ...(await soft()), software: false, softwareName: null });
};

describe('RunSession: inference speed', () => {
  it('on a GPU, measures the worker’s own models after a finished run, and records the result with the run', async () => {
    const h = await setup();
    h.prepare.next = hardware;
    h.session.setBackend('webgpu'); // a fresh worker, on "hardware"
    await vi.waitFor(() => expect(h.session.getSnapshot().backend).toMatchObject({ status: 'ready', info: { software: false } }));
    const run = await startRun(h);
    const id = h.session.getSnapshot().currentId!;
    run.send([...msg(ev.step(1), ev.state('finished', 1)), { kind: 'exports', compact: true, projected: true, pytorch: { compact: true, projected: true } }]);
    run.end({ ended: 'finished' });
    await vi.waitFor(() => expect(h.worker.benches).toHaveLength(1));
    const bench = h.worker.benches[0];
    expect(bench.req).toEqual({ compact: 'last', dense: 'last', batches: [1, 128], warmup: 2, iterations: 10 });
    expect(h.session.getSnapshot().inference).toMatchObject({ runId: id, status: 'measuring' });
    // No run starts while the worker measures.
    expect(await h.session.start({ form: pageForm })).toBe(false);
    bench.progress({ label: 'batch 1: timing 1 of 10', loaded: 3, total: 48 });
    expect(h.session.getSnapshot().inference?.progress).toEqual({ label: 'batch 1: timing 1 of 10', loaded: 3, total: 48 });
    const result = inferenceResult('projected');
    bench.resolve(result);
    await vi.waitFor(() => expect(h.session.getSnapshot().inference?.status).toBe('done'));
    expect(h.session.getSnapshot().inference?.event).toEqual(result);
    await vi.waitFor(async () => expect((await store.getEvents(id)).at(-1)).toEqual(result));
    expect(h.run.inference).toEqual(result);
    expect(h.session.log.length).toBe(h.run.eventCount);
  });

  it('the end-to-end tests\' switch: a software renderer taken for hardware measures by itself, at the batch sizes it names', async () => {
    const worker = new FakeWorker(store);
    const session = new RunSession({ createWorker: () => worker, preference: 'auto', kernels: 'fast', fetch: async () => new Response(JSON.stringify(listing), { status: 200 }), test: { hardware: true, inferenceBatches: [1, 4] } });
    session.setStore(store);
    session.open();
    await vi.waitFor(() => expect(session.getSnapshot().backend).toMatchObject({ status: 'ready', info: { software: false } }));
    await vi.waitFor(() => expect(session.data.getSnapshot().effective).toBe('server'));
    expect(await session.start({ form: pageForm })).toBe(true);
    const run = worker.lastRun;
    run.send([...msg(ev.runStart(run.req.config), ev.state('running'), ev.state('finished', 0)), { kind: 'exports', compact: true, projected: true, pytorch: { compact: true, projected: true } }]);
    run.end({ ended: 'finished' });
    await vi.waitFor(() => expect(worker.benches).toHaveLength(1));
    expect(worker.benches[0].req).toMatchObject({ compact: 'last', dense: 'last', batches: [1, 4], warmup: 2, iterations: 10 });
    session.close();
  });

  it('on a software renderer waits for a click; a stored run is measured from its stored compact model against the dense architecture', async () => {
    const h = await setup();
    const run = await startRun(h);
    const id = h.session.getSnapshot().currentId!;
    run.send([...msg(ev.state('finished', 0)), { kind: 'exports', compact: true, projected: true, pytorch: { compact: true, projected: true } }]);
    run.end({ ended: 'finished' });
    await vi.waitFor(() => expect(h.session.getSnapshot().busy).toBe(false));
    expect(h.worker.benches).toHaveLength(0);

    // Another run kept in this browser, with its compact model.
    const other = await store.createRun({ name: 'stored', source: 'file', config: parseRunConfig({ model: 'resnet14-narrow' }) });
    const modelJson = JSON.stringify({ format: 'graph-model', modelTopology: { node: [] }, weightsManifest: [{ paths: ['weights.bin'], weights: [] }] });
    await store.putModel(other.id, zipSync({ 'model.json': strToU8(modelJson), 'weights.bin': new Uint8Array([1, 2, 3, 4]) }));
    const measured = h.session.measureInference(other.id);
    await vi.waitFor(() => expect(h.worker.benches).toHaveLength(1));
    const req = h.worker.benches[0].req;
    expect(req).toMatchObject({ dense: { architecture: 'resnet14-narrow' }, batches: [1, 128], warmup: 1, iterations: 3 });
    expect(req.compact !== 'last' && req.compact.modelJson).toBe(modelJson);
    expect(req.compact !== 'last' && [...req.compact.weights]).toEqual([1, 2, 3, 4]);
    expect(h.session.getSnapshot().inference).toMatchObject({ runId: other.id, runName: 'stored', status: 'measuring' });
    const result = inferenceResult('architecture');
    h.worker.benches[0].resolve(result);
    expect(await measured).toEqual(result);
    expect(await store.getEvents(other.id)).toEqual([result]);
    // Not the page's run: its charts are untouched.
    expect(h.run.inference).toBeNull();

    // The page's own run, on a click: the worker still holds its models.
    void h.session.measureInference(id);
    await vi.waitFor(() => expect(h.worker.benches).toHaveLength(2));
    expect(h.worker.benches[1].req).toMatchObject({ compact: 'last', dense: 'last', warmup: 1, iterations: 3 });
    h.session.cancelInference();
    expect(h.worker.cancelledInference).toBe(1);
    h.worker.benches[1].reject(new Error('the measurement was cancelled'));
    await vi.waitFor(() => expect(h.session.getSnapshot().inference?.status).toBe('cancelled'));
    expect(await h.session.start({ form: pageForm })).toBe(true);
  });

  it('says why when a run cannot be measured, and gives up a measurement whose worker was replaced', async () => {
    const h = await setup();
    const bare = await store.createRun({ name: 'no model', source: 'jsonl', config: parseRunConfig({ model: 'resnet8-tiny' }) });
    expect(await h.session.measureInference(bare.id)).toBeNull();
    expect(h.session.getSnapshot().inference).toMatchObject({ status: 'failed', message: '“no model” has no compact model stored' });
    const withModel = await store.createRun({ name: 'm', source: 'file', config: parseRunConfig({ model: 'resnet8-tiny' }) });
    await store.putModel(withModel.id, zipSync({ 'model.json': strToU8('{}'), 'weights.bin': new Uint8Array(4) }));
    void h.session.measureInference(withModel.id);
    await vi.waitFor(() => expect(h.worker.benches).toHaveLength(1));
    h.worker.reportDeviceProblem('the GPU device was lost');
    expect(h.session.getSnapshot().inference).toMatchObject({ status: 'failed', message: 'the worker was replaced during the measurement' });
    await vi.waitFor(() => expect(h.session.getSnapshot().backend.status).toBe('ready'));
    expect(await h.session.start({ form: pageForm })).toBe(true);
  });
});
