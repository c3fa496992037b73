import { checkCheckpointBytes } from '../../engine/checkpoint';
import { parseRunConfig, type LiveUpdate, type RunConfig, type RunConfigInput } from '../../engine/config';
import type { EngineEvent, InferenceEvent } from '../../engine/events';
import type { LayerMatrixImages } from '../../engine/run/matrix-images';
import { unpackModel } from '../../runs/file';
import type { CheckpointMeta, RunStore } from '../../runs/store';
import type { BackendInfo, BackendPreference, DataChoice, InferenceRequest, Progress, WorkerMessage, WorkerRunEnd } from '../../worker/protocol';
import { ablationBatch, type AblationId } from '../state/ablations';
import { EventLog } from '../state/eventlog';
import { formFromConfig, liveDiff, presetById, toRunConfig, type FormState } from '../state/form';
import type { RunAction } from '../state/store';
import type { WorkerClient } from '../worker-client';
import { afterRun, batchRef, beginBatch, cancelBatch, itemLabel, type BatchRef, type BatchState, type RunEnded } from './batch';
import { DataSource, type DataSourceOptions } from './data-source';
import { configFromEvents, ReportedConfig } from './live-config';
import { Observable } from './observable';
import { RunRecorder } from './recorder';
import { runName } from './run-name';
import { errorText } from '../../engine/errors';
import type { RunEnding } from '../../engine/run/api';

export type BackendState =
  | { status: 'starting' }
  | { status: 'ready'; info: BackendInfo & { kernels: 'fast' | 'stock' | null } }
  | { status: 'failed'; message: string };

export interface SessionState {
  backend: BackendState;
  /** From a run's start until its result is stored (the worker may still be exporting after 'finished'). */
  busy: boolean;
  /** The run this page recorded last (or records now). */
  currentId: string | null;
  notice: string | null;
  storeError: string | null;
  lastCheckpoint: Omit<CheckpointMeta, 'bytes'> | null;
  /** A NaN or exploding loss paused the run (until a normal step follows). */
  diverged: boolean;
  /** Why the last live change could not be sent. */
  liveError: string | null;
  batch: BatchState | null;
  /** The last inference-speed measurement of this page (of any stored run), going or done. */
  inference: InferenceJob | null;
}

export interface InferenceJob {
  runId: string;
  runName: string;
  status: 'measuring' | 'done' | 'failed' | 'cancelled';
  progress: Progress | null;
  event: InferenceEvent | null;
  message: string | null;
}

/** Batch sizes timed: latency at 1, throughput at 128. */
export const INFERENCE_BATCHES = [1, 128];
/** Warm-up and timed calls per model and batch size: fewer on a software renderer, where one call can take seconds. */
export const inferenceRepeats = (software: boolean) => (software ? { warmup: 1, iterations: 3 } : { warmup: 2, iterations: 10 });

type Timer = ReturnType<typeof setTimeout>;

export interface Timers {
  setTimeout: (fn: () => void, ms: number) => Timer;
  clearTimeout: (t: Timer) => void;
  setInterval: (fn: () => void, ms: number) => Timer;
  clearInterval: (t: Timer) => void;
}

export interface RunSessionOptions {
  createWorker: () => WorkerClient;
  preference: BackendPreference;
  kernels: 'fast' | 'stock';
  fetch?: DataSourceOptions['fetch'];
  now?: () => number;
  timers?: Timers;
  /** Saves a download (a Blob as a file). */
  save?: (blob: Blob, filename: string) => void;
  runName?: (form: FormState) => string;
}

export interface SessionCallbacks {
  /** The stored runs changed (a run was created, checkpointed, ended). */
  onRunsChanged?: () => void;
  /** The page should show these settings: a resumed run's, a batch run's, or the form a batch was made from. */
  onLoadForm?: (form: FormState) => void;
  /** Every run of an ablation batch finished. */
  onBatchDone?: (runIds: string[], batchId: string) => void;
}

/** A run this page records (and, after a device loss, restarts). */
interface Current {
  id: string;
  batch: BatchRef | null;
  recorder: RunRecorder;
  data: DataChoice;
  checkpointMinutes: number;
  restarts: number;
  /** The worker answered startRun: what is left is storing the result. */
  ended: boolean;
}

/** More automatic restarts than this for one run and the page stops trying. */
export const MAX_RESTARTS = 3;
/** Live changes are sent after this much quiet (a slider being dragged sends once). */
const LIVE_DELAY_MS = 250;

const defaultTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (t) => clearTimeout(t),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (t) => clearInterval(t),
};

const unusable = (bytes: Uint8Array): string | null => {
  try {
    checkCheckpointBytes(bytes);
    return null;
  } catch (e) {
    return errorText(e);
  }
};
const usable = (bytes: Uint8Array) => unusable(bytes) === null;

function predictedConfig(config: RunConfigInput): RunConfig | null {
  try {
    return parseRunConfig(config);
  } catch {
    return null;
  }
}

/**
 * The page's training session, without React: the worker (replaced when its GPU device is lost), the
 * data, the run going on and its record in the browser's storage (events, checkpoints, the compact
 * model), restarts from a checkpoint, live changes, downloads and ablation batches.
 *
 * State is an immutable snapshot (`subscribe` / `getSnapshot`). The run's chart state is the page's
 * reducer (state/store.ts) over the actions `subscribeRun` delivers.
 */
export class RunSession {
  readonly data: DataSource;
  /** The current run's full event log (what "Download event log" saves). */
  readonly log = new EventLog();
  private readonly state = new Observable<SessionState>({
    backend: { status: 'starting' },
    busy: false,
    currentId: null,
    notice: null,
    storeError: null,
    lastCheckpoint: null,
    diverged: false,
    liveError: null,
    batch: null,
    inference: null,
  });
  private readonly runListeners = new Set<(a: RunAction) => void>();
  private readonly o: Required<Omit<RunSessionOptions, 'fetch'>> & Pick<RunSessionOptions, 'fetch'>;
  private preference: BackendPreference;
  private worker: WorkerClient | null = null;
  private store: RunStore | null = null;
  private cb: SessionCallbacks = {};
  private current: Current | null = null;
  /** Set while the worker is replaced under a run: which run to continue once the new one is up. */
  private restart: { current: Current; reason: string | null; lr?: number } | null = null;
  /** A device problem came while a run's result was being stored: replace the worker after that. */
  private replaceWorkerWhenIdle = false;
  /** The page's form: what live changes are diffed from, and the base of forms loaded from a run. */
  private form: FormState | null = null;
  private readonly reported = new ReportedConfig();
  private liveTimer: Timer | null = null;
  /** The run whose models the worker holds (its last run ended in this worker and exported them). */
  private workerModels: { runId: string; compact: boolean } | null = null;

  constructor(o: RunSessionOptions) {
    this.o = {
      createWorker: o.createWorker,
      preference: o.preference,
      kernels: o.kernels,
      fetch: o.fetch,
      now: o.now ?? (() => Date.now()),
      timers: o.timers ?? defaultTimers,
      save:
        o.save ??
        (() => {
          throw new Error('no way to save files was given');
        }),
      runName: o.runName ?? ((f) => runName(f, new Date())),
    };
    this.preference = o.preference;
    this.data = new DataSource({
      fetch: o.fetch,
      loadFiles: (files, onProgress) => {
        const w = this.worker;
        if (!w) return Promise.reject(new Error('the worker is not running'));
        return w.api.loadFiles(files, w.proxy(onProgress));
      },
    });
  }

  readonly subscribe = this.state.subscribe;
  readonly getSnapshot = this.state.get;

  /** The run's chart state is built from these (state/store.ts runReducer). */
  subscribeRun(listener: (a: RunAction) => void): () => void {
    this.runListeners.add(listener);
    return () => void this.runListeners.delete(listener);
  }

  /** The current run's settings as the engine reported them (runStart, then each configChange). */
  get runConfig(): RunConfig | null {
    return this.reported.config;
  }

  private set(patch: Partial<SessionState>): void {
    this.state.set(patch);
  }

  private emit(action: RunAction): void {
    for (const l of [...this.runListeners]) l(action);
  }

  private isBusy(): boolean {
    return this.state.get().busy || this.restart !== null || this.state.get().inference?.status === 'measuring';
  }

  // ── lifetime ────────────────────────────────────────────────────────────────

  /** Starts the worker and looks for the local server's data. */
  open(): void {
    if (this.worker) return;
    this.spawn();
    void this.data.refreshServer();
  }

  close(): void {
    this.worker?.terminate();
    this.worker = null;
    this.clearLiveTimer();
  }

  setBackend(preference: BackendPreference): void {
    if (preference === this.preference) return;
    this.preference = preference;
    if (this.worker) this.spawn();
  }

  setStore(store: RunStore | null): void {
    this.store = store;
  }

  setCallbacks(cb: SessionCallbacks): void {
    this.cb = cb;
  }

  /** A new worker (the old one, if any, is terminated); a run waiting for it continues once it is up. */
  private spawn(): void {
    this.worker?.terminate();
    const w = this.o.createWorker();
    this.worker = w;
    this.workerModels = null;
    const job = this.state.get().inference;
    if (job?.status === 'measuring') this.set({ inference: { ...job, status: 'failed', message: 'the worker was replaced during the measurement', progress: null } });
    this.set({ backend: { status: 'starting' } });
    const onDeviceProblem = w.proxy((message: string) => {
      if (this.worker === w) this.deviceProblem(message);
    });
    w.api.init(this.preference, this.o.kernels, onDeviceProblem).then(
      (info) => {
        if (this.worker !== w) return;
        this.set({ backend: { status: 'ready', info } });
        const pending = this.restart;
        this.restart = null;
        if (pending) void this.continueAfterRestart(pending.current, pending.reason, pending.lr);
      },
      (e) => {
        if (this.worker === w) this.set({ backend: { status: 'failed', message: errorText(e) } });
      },
    );
  }

  /** The one path for a lost GPU device or GPU out-of-memory (the worker reports both, once). */
  private deviceProblem(message: string): void {
    if (this.restart) return;
    const current = this.current;
    if (current?.ended) {
      this.replaceWorkerWhenIdle = true;
      return;
    }
    if (!current) {
      this.set({ notice: `${message}. The worker was restarted.` });
      this.spawn();
      return;
    }
    if (current.restarts >= MAX_RESTARTS) {
      current.recorder.close();
      this.current = null;
      this.clearLiveTimer();
      this.set({ busy: false });
      this.emit({
        type: 'failed',
        message: `${message}, again (${MAX_RESTARTS} restarts already): the run was stopped; its last checkpoint is kept — try a smaller batch size or another backend, then resume it from the runs list`,
      });
      void this.store?.updateRun(current.id, { status: 'interrupted' }).then(() => this.cb.onRunsChanged?.());
      this.spawn();
      this.runEnded({ id: current.id, ended: 'error', batch: current.batch });
      return;
    }
    this.restartFromCheckpoint(current, message, message);
  }

  /** Drops the worker (and what the run did since its checkpoint); a fresh one continues the run from the checkpoint. */
  private restartFromCheckpoint(current: Current, reason: string | null, progress: string, lr?: number): void {
    current.recorder.close();
    this.restart = { current, reason, lr };
    this.current = null;
    this.clearLiveTimer();
    this.emit({ type: 'restarting', message: progress });
    this.spawn();
  }

  private async continueAfterRestart(c: Current, reason: string | null, lr?: number): Promise<void> {
    const ck = (await this.store?.getRun(c.id))?.checkpoint;
    if (!ck) {
      this.set({ busy: false });
      this.emit({ type: 'failed', message: `${reason ?? 'restart'}; the run had no checkpoint yet, so it cannot continue` });
      this.runEnded({ id: c.id, ended: 'error', batch: c.batch });
      return;
    }
    this.set({
      notice: reason
        ? `${reason[0].toUpperCase()}${reason.slice(1)}. The worker was restarted and the run resumed from its checkpoint at iteration ${ck.iteration}.`
        : `Continued from the last good checkpoint (iteration ${ck.iteration})${lr !== undefined ? ` with learning rate ${lr}` : ''}.`,
    });
    await this.continueFromCheckpoint(c.id, c.data, { checkpointMinutes: c.checkpointMinutes, restarts: reason ? c.restarts + 1 : c.restarts, lr, loadForm: false });
  }

  // ── runs ────────────────────────────────────────────────────────────────────

  /**
   * Starts a fresh run of `form` (or of `config`, made from that form) on the data chosen now; false
   * when it could not start. `firstStepOnly`: the run pauses after its first step (Step before a run).
   */
  async start(o: { form: FormState; config?: RunConfigInput; name?: string; batch?: BatchRef | null; /** Initial weights (safetensors) when the config's init names them. */ initWeights?: Uint8Array; firstStepOnly?: boolean }): Promise<boolean> {
    const st = this.store;
    const data = this.data.getSnapshot().effective;
    if (!this.worker || !st || !data || this.isBusy()) return false;
    this.form = o.form;
    this.log.clear();
    this.set({ busy: true, notice: null, storeError: null, lastCheckpoint: null, liveError: null, diverged: false });
    this.emit({ type: 'starting', at: this.o.now() });
    const batch = o.batch ?? null;
    let id: string;
    try {
      id = (await st.createRun({ name: o.name ?? this.o.runName(o.form), source: 'browser', batch })).id;
    } catch (e) {
      this.set({ busy: false });
      this.emit({ type: 'failed', message: `could not create the run in the browser's storage: ${errorText(e)}` });
      return false;
    }
    const minutes = o.form.checkpointMinutes;
    const current: Current = { id, batch, recorder: this.newRecorder(st, id, 0, minutes, null), data, checkpointMinutes: minutes, restarts: 0, ended: false };
    this.cb.onRunsChanged?.();
    const config = o.config ?? toRunConfig(o.form);
    this.reported.reset(predictedConfig(config));
    this.launch(current, config, undefined, undefined, o.initWeights, o.firstStepOnly);
    return true;
  }

  /**
   * Continues a stored run from its last checkpoint on the data chosen now, and shows its settings in
   * the form (onLoadForm). Resolves with those settings, or null when it cannot continue.
   */
  async resumeStored(id: string): Promise<RunConfig | null> {
    const data = this.data.getSnapshot().effective;
    if (!this.worker || !this.store || !data || this.isBusy()) return null;
    this.set({ busy: true });
    return this.continueFromCheckpoint(id, data, { restarts: 0, loadForm: true });
  }

  /**
   * The log is cut where the checkpoint was taken and replayed into the charts; the worker goes on from
   * the checkpoint with its settings (they include live changes made before it). Changes the form holds
   * on top (made after the checkpoint, or a lower lr after a NaN) go in as live updates.
   */
  private async continueFromCheckpoint(
    id: string,
    data: DataChoice,
    o: { checkpointMinutes?: number; restarts: number; lr?: number; loadForm: boolean },
  ): Promise<RunConfig | null> {
    const st = this.store;
    const fail = (message: string) => {
      this.set({ busy: false });
      this.emit({ type: 'failed', message });
      return null;
    };
    if (!st) return fail('the browser storage is not open');
    let events: EngineEvent[];
    let record, ck;
    let fellBack: string | null = null;
    this.emit({ type: 'progress', progress: { label: "reading the run from this browser's storage", loaded: 0, total: null } });
    try {
      [record, ck] = await Promise.all([st.getRun(id), st.getCheckpoint(id)]);
      if (!record || !record.config || !ck) return fail(record ? `“${record.name}” has no checkpoint to continue from` : 'that run is no longer stored');
      // The latest checkpoint does not read: the one before it (the other slot) takes its place.
      while (ck && !usable(ck.bytes)) {
        fellBack = `its checkpoint at iteration ${ck.meta.iteration} could not be read (${unusable(ck.bytes)})`;
        await st.dropLatestCheckpoint(id);
        ck = await st.getCheckpoint(id);
      }
      if (!ck) return fail(`“${record.name}” cannot continue: ${fellBack} and there is no checkpoint before it`);
      await st.truncateEvents(id, ck.meta.eventCount);
      events = await st.getEvents(id, ck.meta.eventCount);
    } catch (e) {
      return fail(`could not read the run from the browser's storage: ${errorText(e)}`);
    }
    const config = configFromEvents(events) ?? record.config;
    if (o.loadForm) this.loadForm(formFromConfig(config, this.form ?? presetById('quick').form));
    const diff = this.form ? liveDiff(config, this.form).update : null;
    const update: LiveUpdate | null = o.lr !== undefined ? { ...diff, lr: o.lr } : diff;
    const updates = update ? [update] : [];
    this.log.clear();
    this.log.push(events);
    this.set({ storeError: null, lastCheckpoint: ck.meta, liveError: null, diverged: false, ...(fellBack && { notice: `“${record.name}”: ${fellBack}; it continues from the one before, at iteration ${ck.meta.iteration}.` }) });
    this.emit({ type: 'replay', events, at: this.o.now() });
    const minutes = o.checkpointMinutes ?? this.form?.checkpointMinutes ?? presetById('quick').form.checkpointMinutes;
    const current: Current = { id, batch: record.batch, recorder: this.newRecorder(st, id, ck.meta.eventCount, minutes, ck.meta), data, checkpointMinutes: minutes, restarts: o.restarts, ended: false };
    this.cb.onRunsChanged?.();
    this.reported.reset(config, updates);
    this.launch(current, record.config, ck.bytes, updates);
    return config;
  }

  /**
   * Shows a stored run's charts from its whole log, read-only (nothing runs): an interrupted run, found
   * after a reload, before the user presses Resume. False when a run is going or the run is not stored.
   */
  async showStored(id: string): Promise<boolean> {
    const st = this.store;
    if (!st || this.isBusy()) return false;
    let record, events: EngineEvent[];
    try {
      [record, events] = await Promise.all([st.getRun(id), st.getEvents(id)]);
    } catch (e) {
      this.set({ storeError: `could not read the run from the browser's storage: ${errorText(e)}` });
      return false;
    }
    if (!record || this.isBusy()) return false;
    this.log.clear();
    this.log.push(events);
    this.set({ lastCheckpoint: record.checkpoint, diverged: false, liveError: null });
    this.emit({ type: 'stored', events, at: this.o.now() });
    return true;
  }

  /**
   * The page is being hidden or unloaded: the run's recorder asks for a checkpoint at once (best
   * effort, see RunRecorder.pageHidden).
   */
  pageHidden(): void {
    if (this.current && !this.current.ended) this.current.recorder.pageHidden();
  }

  /** Starts the worker on a run (fresh, or from an encoded checkpoint) and records what it streams. */
  private launch(current: Current, config: RunConfigInput, resume?: Uint8Array, updates?: LiveUpdate[], initWeights?: Uint8Array, firstStepOnly?: boolean): void {
    const w = this.worker;
    if (!w) {
      this.set({ busy: false });
      this.emit({ type: 'failed', message: 'the worker is not running' });
      return;
    }
    this.current = current;
    this.workerModels = null;
    this.set({ busy: true, currentId: current.id });
    const running = w.api.startRun(
      { config, data: current.data, resume, updates: updates?.length ? updates : undefined, ...(initWeights && { initWeights }), ...(firstStepOnly && { firstStepOnly }) },
      w.proxy((batch: WorkerMessage[]) => this.onMessages(current, batch)),
    );
    // Changes made while the run was being set up (the worker queues them until its first step).
    this.syncLive();
    void this.settle(current, running);
  }

  private onMessages(current: Current, batch: WorkerMessage[]): void {
    if (this.current !== current) return; // a worker that was replaced
    const events: EngineEvent[] = [];
    for (const m of batch) {
      if (m.kind === 'event') events.push(m.event);
      else if (m.kind === 'exports') this.workerModels = { runId: current.id, compact: m.compact };
    }
    this.log.push(events);
    current.recorder.onMessages(batch);
    this.reported.observe(events);
    this.set({ diverged: current.recorder.isDiverged });
    this.emit({ type: 'messages', messages: batch, at: this.o.now() });
  }

  /** After the worker answered startRun: the result is stored, then the next run of a batch may start. */
  private async settle(current: Current, running: Promise<WorkerRunEnd>): Promise<void> {
    let result: WorkerRunEnd;
    let threw = false;
    try {
      result = await running;
    } catch (e) {
      result = { ended: 'error', message: errorText(e) };
      threw = true;
    }
    if (this.current !== current) return;
    if (result.deviceProblem) {
      this.deviceProblem(result.deviceProblem);
      return;
    }
    current.ended = true;
    this.clearLiveTimer();
    this.emit(threw ? { type: 'failed', message: result.message! } : { type: 'ended', ...result });
    await this.finishRecording(current, result.ended, result.message);
    if (result.ended === 'finished') await this.keepWeightsForBatch(current);
    if (this.current !== current) return;
    this.current = null;
    this.set({ busy: false });
    if (this.replaceWorkerWhenIdle) {
      this.replaceWorkerWhenIdle = false;
      this.spawn();
    }
    this.runEnded({ id: current.id, ended: result.ended, batch: current.batch });
    // On a GPU the measurement takes a second or two; on a software renderer minutes: there it waits for a click.
    const backend = this.state.get().backend;
    const hardware = backend.status === 'ready' && !backend.info.software;
    if (result.ended === 'finished' && hardware && !current.batch && this.workerModels?.runId === current.id && this.workerModels.compact) {
      void this.measureInference(current.id);
    }
  }

  private async finishRecording(current: Current, ended: RunEnding, message?: string): Promise<void> {
    current.recorder.close();
    await current.recorder.flush();
    const st = this.store;
    if (!st) return;
    try {
      if (ended === 'finished') {
        const d = await this.worker?.api.download('compact');
        if (d) await st.putModel(current.id, d.zip);
      }
      if (ended === 'error') await st.updateRun(current.id, { status: 'failed' });
    } catch (e) {
      this.set({ storeError: `could not store the run's result: ${errorText(e)}${message ? ` (${message})` : ''}` });
    }
    this.cb.onRunsChanged?.();
  }

  private newRecorder(st: RunStore, id: string, recorded: number, minutes: number, last: Omit<CheckpointMeta, 'bytes'> | null): RunRecorder {
    return new RunRecorder({
      store: st,
      runId: id,
      recordedEvents: recorded,
      requestCheckpoint: async (reason) => (await this.worker?.api.checkpoint(reason)) ?? false,
      checkpointEveryMs: minutes * 60_000,
      onStoreError: (m) => this.set({ storeError: `saving the run failed: ${m}` }),
      onCheckpoint: (meta) => {
        this.set({ lastCheckpoint: meta });
        this.cb.onRunsChanged?.();
      },
      lastCheckpoint: last,
      now: this.o.now,
    });
  }

  pause(): void {
    void this.worker?.api.pause();
  }

  resume(): void {
    void this.worker?.api.resume();
  }

  /** One training step from a pause, then paused again. */
  step(): void {
    void this.worker?.api.step();
  }

  /**
   * A layer's matrix images at a projection (its 1-based index) of the run this page shows; null when the
   * worker does not hold them (older projections, or a run trained before this page's worker started).
   */
  async matrixImages(layer: string, projection: number): Promise<LayerMatrixImages | null> {
    return (await this.worker?.api.matrixImages(layer, projection)) ?? null;
  }

  stop(): void {
    this.emit({ type: 'stopping' });
    void this.worker?.api.stop();
  }

  /**
   * After a NaN: drop the diverged run's worker and continue from the last good checkpoint with a new
   * learning rate on a fresh worker — the diverged weights are never used again.
   */
  restoreLastGood(lr: number): void {
    const current = this.current;
    if (!current || this.restart) return;
    if (this.form) this.loadForm({ ...this.form, lr });
    this.restartFromCheckpoint(current, null, 'going back to the last good checkpoint', lr);
  }

  // ── live changes ────────────────────────────────────────────────────────────

  /** The page's form changed; during a run the live settings that now differ are sent after a short quiet. */
  setForm(form: FormState): void {
    this.form = form;
    if (!this.current) return;
    this.clearLiveTimer();
    this.liveTimer = this.o.timers.setTimeout(() => {
      this.liveTimer = null;
      this.syncLive();
    }, LIVE_DELAY_MS);
  }

  private loadForm(form: FormState): void {
    this.form = form;
    this.cb.onLoadForm?.(form);
  }

  private clearLiveTimer(): void {
    if (this.liveTimer === null) return;
    this.o.timers.clearTimeout(this.liveTimer);
    this.liveTimer = null;
  }

  /** Sends what the form changes against the settings the engine reported (and the updates still on their way). */
  private syncLive(): void {
    const base = this.reported.expected();
    if (!this.current || this.current.ended || !base || !this.form) return;
    const { update, error } = liveDiff(base, this.form);
    this.set({ liveError: error });
    if (!update) return;
    this.reported.sent(update);
    this.worker?.api.update(update).catch((e: unknown) => {
      this.reported.lost(update);
      this.set({ liveError: errorText(e) });
    });
  }

  // ── ablation batches ────────────────────────────────────────────────────────

  /**
   * Runs the ablations of `form` one after another, each over `seeds` seeds (the form's, then the next
   * ones); the page shows each run's settings, then `form` again.
   */
  startBatch(form: FormState, ids: readonly AblationId[], seeds = 1): void {
    if (this.isBusy()) return;
    const arms = ablationBatch(form, ids);
    if (!arms.length) return;
    const b = beginBatch(`batch-${this.o.now().toString(36)}`, arms, form, seeds);
    this.set({ batch: b });
    this.startBatchItem(b);
  }

  cancelBatch(): void {
    const b = this.state.get().batch;
    if (b) this.set({ batch: cancelBatch(b) });
  }

  /** Final weights of batch runs that a later run of the batch starts from (the pre-trained ablation), by ablation. */
  private batchWeights = new Map<string, Uint8Array>();

  private async keepWeightsForBatch(current: Current): Promise<void> {
    const b = this.state.get().batch;
    if (!b || current.batch?.id !== b.id) return;
    const id = b.items[b.index].id;
    if (!b.items.some((i) => i.initFrom === id)) return;
    const bytes = await this.worker?.api.downloadSafetensors('projected');
    if (bytes) this.batchWeights.set(`${b.id}/${id}`, bytes);
  }

  private startBatchItem(b: BatchState): void {
    const item = b.items[b.index];
    this.loadForm(item.form);
    const initWeights = item.initFrom ? this.batchWeights.get(`${b.id}/${item.initFrom}`) : undefined;
    if (item.initFrom && !initWeights) {
      this.set({ batch: { ...b, status: 'cancelled', message: `“${itemLabel(b, item)}” could not start: the weights of the run it starts from were not kept` } });
      this.loadForm(b.base);
      return;
    }
    void this.start({ form: item.form, config: item.config, name: `${itemLabel(b, item)} · ${this.o.runName(item.form)}`, batch: batchRef(b, this.dataNote()), initWeights }).then((ok) => {
      const now = this.state.get().batch;
      if (ok || now?.id !== b.id || now.status !== 'running') return;
      this.set({ batch: { ...now, status: 'cancelled', message: `“${itemLabel(b, item)}” could not start` } });
      this.loadForm(b.base);
    });
  }

  /** Where the data a run starts on now comes from (kept with batch runs, for the claims report). */
  private dataNote(): string | undefined {
    const d = this.data.getSnapshot();
    if (d.effective === 'server') return d.server.listing?.source ? `CIFAR-10 binary files in the local folder ${d.server.listing.source}` : undefined;
    if (d.effective === 'files') return d.user.info ? `CIFAR-10 loaded in the page from ${d.user.info.source}` : undefined;
    return undefined;
  }

  private runEnded(r: RunEnded): void {
    const b = this.state.get().batch;
    if (!b) return;
    const { batch, next, over } = afterRun(b, r);
    this.set({ batch });
    if (over) for (const key of [...this.batchWeights.keys()]) if (key.startsWith(`${batch.id}/`)) this.batchWeights.delete(key);
    if (next) this.startBatchItem(batch);
    else if (over) {
      this.loadForm(batch.base);
      if (batch.status === 'done') this.cb.onBatchDone?.(batch.runIds, batch.id);
    }
  }

  // ── inference speed ─────────────────────────────────────────────────────────

  /**
   * Times the dense and the compact model of a stored run on this page's backend and appends the
   * inference event to the run's stored events (and to the page's run when it is the one shown). The
   * worker's own models of its last run are used when it still holds them (the dense one is then the
   * run's projected model); otherwise the stored compact model is compared with the dense architecture.
   * Resolves with the event, or null when it could not be measured (the job says why).
   */
  async measureInference(runId: string, batches: number[] = INFERENCE_BATCHES): Promise<InferenceEvent | null> {
    const st = this.store;
    const w = this.worker;
    const backend = this.state.get().backend;
    if (!st || !w || backend.status !== 'ready' || this.isBusy()) return null;
    const job: InferenceJob = { runId, runName: '', status: 'measuring', progress: null, event: null, message: null };
    this.set({ inference: job });
    const update = (patch: Partial<InferenceJob>) => {
      if (this.state.get().inference?.runId === runId) this.set({ inference: { ...this.state.get().inference!, ...patch } });
    };
    let request: InferenceRequest;
    try {
      const record = await st.getRun(runId);
      if (!record) throw new Error('that run is no longer stored');
      update({ runName: record.name });
      const config = record.config;
      if (!config) throw new Error(`“${record.name}” has no settings stored, so its dense architecture is unknown`);
      const repeats = inferenceRepeats(backend.info.software);
      const own = this.workerModels?.runId === runId && this.workerModels.compact;
      // Post-hoc and compact-from-scratch runs train the compact model itself: their "projected" export is not dense.
      const projectedIsDense = !config.posthoc && !config.compactFromScratch;
      if (own) {
        request = { compact: 'last', dense: projectedIsDense ? 'last' : { architecture: config.model }, batches, ...repeats };
      } else {
        const zip = await st.getModel(runId);
        if (!zip) throw new Error(`“${record.name}” has no compact model stored`);
        const m = unpackModel(zip);
        request = { compact: { modelJson: new TextDecoder().decode(m.modelJson), weights: m.weights }, dense: { architecture: config.model }, batches, ...repeats };
      }
    } catch (e) {
      update({ status: 'failed', message: errorText(e) });
      return null;
    }
    let event: InferenceEvent;
    try {
      // Progress comes through its own message channel and may arrive after the answer: only while measuring.
      const onProgress = (p: Progress) => {
        if (this.state.get().inference?.status === 'measuring') update({ progress: p });
      };
      event = await w.api.benchInference(request, w.proxy(onProgress));
    } catch (e) {
      const message = errorText(e);
      update({ status: /cancelled/.test(message) ? 'cancelled' : 'failed', message, progress: null });
      return null;
    }
    update({ status: 'done', event, progress: null });
    try {
      await st.appendEvents(runId, [event]);
    } catch (e) {
      this.set({ storeError: `could not store the inference measurement: ${errorText(e)}` });
    }
    if (this.state.get().currentId === runId) {
      this.log.push([event]);
      this.emit({ type: 'messages', messages: [{ kind: 'event', event }], at: this.o.now() });
    }
    this.cb.onRunsChanged?.();
    return event;
  }

  cancelInference(): void {
    if (this.state.get().inference?.status === 'measuring') void this.worker?.api.cancelInference();
  }

  // ── downloads and diagnostics ───────────────────────────────────────────────

  async downloadModel(which: 'compact' | 'projected', filename: string): Promise<void> {
    const d = await this.worker?.api.download(which);
    if (d) this.o.save(new Blob([d.zip as Uint8Array<ArrayBuffer>], { type: 'application/zip' }), filename);
  }

  /** The last run's model as a PyTorch state_dict (safetensors, official names). */
  async downloadSafetensors(which: 'compact' | 'projected', filename: string): Promise<void> {
    const bytes = await this.worker?.api.downloadSafetensors(which);
    if (bytes) this.o.save(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }), filename);
  }

  async downloadModelFiles(which: 'compact' | 'projected'): Promise<void> {
    const d = await this.worker?.api.download(which);
    if (!d) return;
    this.o.save(new Blob([d.modelJson], { type: 'application/json' }), 'model.json');
    this.o.save(new Blob([d.weights as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }), 'weights.bin');
  }

  async downloadLog(filename: string): Promise<void> {
    this.o.save(await this.log.toBlob(), filename);
  }

  private api() {
    if (!this.worker) throw new Error('the worker is not running');
    return this.worker.api;
  }

  /** tfjs memory and CSP violations inside the worker (for the console and the end-to-end tests). */
  diagnostics() {
    return this.api().diagnostics();
  }

  simulateNaN() {
    return this.api().simulateNaN();
  }

  simulateDeviceLoss() {
    return this.api().simulateDeviceLoss();
  }
}
