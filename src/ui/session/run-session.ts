import type { RunConfig } from '../../engine/config';
import type { InferenceEvent } from '../../engine/events';
import type { LayerMatrixImages } from '../../engine/run/matrix-images';
import type { RunStore } from '../../runs/store';
import type { BackendPreference } from '../../worker/protocol';
import type { AblationId } from '../state/ablations';
import { EventLog } from '../state/eventlog';
import type { FormState } from '../state/form';
import type { RunAction } from '../state/store';
import { eventParts } from '../state/worker-batch';
import type { WorkerClient } from '../worker-client';
import type { RunEnded } from './batch';
import { BatchRunner } from './batch-runner';
import { DataSource, type DataSourceOptions } from './data-source';
import { Downloads, type Save } from './downloads';
import { InferenceJobs } from './inference-jobs';
import { LiveSync } from './live-sync';
import { Observable } from './observable';
import { Restarts } from './restarts';
import { runName } from './run-name';
import { RunStarts, type FreshRun } from './run-starts';
import { RunTracker } from './run-tracker';
import type { SessionCallbacks, SessionCore } from './session-core';
import { defaultTimers, initialSessionState, type SessionState, type Timers } from './session-state';
import { WorkerHost } from './worker-host';

export type { BackendState, InferenceJob, SessionState, Timers } from './session-state';
export type { SessionCallbacks } from './session-core';
export { INFERENCE_BATCHES, inferenceRepeats } from './inference-jobs';
export { MAX_RESTARTS } from './restarts';

export interface RunSessionOptions {
  createWorker: () => WorkerClient;
  preference: BackendPreference;
  kernels: 'fast' | 'stock';
  fetch?: DataSourceOptions['fetch'];
  now?: () => number;
  timers?: Timers;
  save?: Save;
  runName?: (form: FormState) => string;
  /**
   * For the end-to-end tests (no GPU where they run): take the software renderer for hardware where the
   * page decides by it (the inference panel measures by itself after a run), and time these batch sizes.
   */
  test?: TestSwitch;
}

export interface TestSwitch {
  hardware?: boolean;
  inferenceBatches?: number[];
  inferenceRepeats?: { warmup: number; iterations: number };
}

/**
 * The page's training session, without React: the small object that wires its parts — the worker
 * (WorkerHost), the data (DataSource), runs started, resumed or shown from the browser's storage
 * (RunStarts), the run going on (RunTracker: launched on the worker, which records it, and followed as it
 * streams), restarts after a lost device or a NaN (Restarts), live changes (LiveSync), ablation batches
 * (BatchRunner), inference measurements (InferenceJobs) and downloads.
 *
 * State is an immutable snapshot (`subscribe` / `getSnapshot`). The run's chart state is the page's
 * reducer (state/store.ts) over the actions `subscribeRun` delivers.
 */
export class RunSession {
  readonly data: DataSource;
  /** The current run's full event log (what "Download event log" saves). */
  readonly log = new EventLog();
  private readonly state = new Observable<SessionState>(initialSessionState());
  private readonly runListeners = new Set<(a: RunAction) => void>();
  private readonly host: WorkerHost;
  private readonly live: LiveSync;
  private readonly tracker: RunTracker;
  private readonly starts: RunStarts;
  private readonly restarts: Restarts;
  private readonly batches: BatchRunner;
  private readonly inference: InferenceJobs;
  private readonly downloads: Downloads;
  private readonly core: SessionCore;
  private store: RunStore | null = null;
  private cb: SessionCallbacks = {};
  private readonly testBatches: number[] | undefined;

  constructor(o: RunSessionOptions) {
    const now = o.now ?? (() => Date.now());
    this.testBatches = o.test?.inferenceBatches;
    const nameOf = o.runName ?? ((f) => runName(f, new Date()));
    const set = (patch: Partial<SessionState>) => this.state.set(patch);
    const get = () => this.state.get();
    this.host = new WorkerHost({
      createWorker: o.createWorker,
      preference: o.preference,
      kernels: o.kernels,
      onBackend: (backend) => set({ backend: o.test?.hardware && backend.status === 'ready' ? { ...backend, info: { ...backend.info, software: false } } : backend }),
      onReady: () => this.restarts.workerReady(),
      onDeviceProblem: (message) => this.restarts.deviceProblem(message),
      onReplaced: () => this.inference.workerReplaced(),
    });
    this.live = new LiveSync({
      timers: o.timers ?? defaultTimers,
      canSend: () => this.tracker.current !== null && !this.tracker.current.ended,
      send: (u) => this.host.api().update(u),
      onError: (liveError) => set({ liveError }),
    });
    this.data = new DataSource({
      fetch: o.fetch,
      loadFiles: (files, onProgress) => {
        const w = this.host.worker;
        if (!w) return Promise.reject(new Error('the worker is not running'));
        return w.api.loadFiles(files, w.proxy(onProgress));
      },
    });
    const core: SessionCore = (this.core = {
      host: this.host,
      live: this.live,
      log: this.log,
      store: () => this.store,
      state: get,
      set,
      emit: (action) => {
        for (const l of [...this.runListeners]) l(action);
      },
      now,
      callbacks: () => this.cb,
      isBusy: () => get().busy || this.restarts.pending !== null || get().inference?.status === 'measuring',
      loadForm: (form) => {
        this.live.form = form;
        this.cb.onLoadForm?.(form);
      },
    });
    const ended = (r: RunEnded) => this.runEnded(r);
    this.tracker = new RunTracker(core, {
      deviceProblem: (message) => this.restarts.deviceProblem(message),
      finished: (current) => this.batches.finished(current.batch),
      ended,
    });
    this.starts = new RunStarts(core, this.tracker, this.data, nameOf);
    this.restarts = new Restarts(core, this.tracker, this.starts, ended);
    this.batches = new BatchRunner({
      host: this.host,
      state: get,
      set,
      now,
      runName: nameOf,
      dataNote: () => this.data.note(),
      start: (run) => this.starts.start(run),
      loadForm: core.loadForm,
      onDone: (ids, batchId) => this.cb.onBatchDone?.(ids, batchId),
    });
    this.inference = new InferenceJobs({
      host: this.host,
      store: () => this.store,
      state: get,
      set,
      busy: core.isBusy,
      repeats: o.test?.inferenceRepeats,
      measured: (runId, event) => {
        // The run shown gets the event too (it is stored with its run already).
        if (get().currentId === runId) {
          this.log.push([event]);
          core.emit({ type: 'batch', parts: eventParts([event]), at: now() });
        }
        this.cb.onRunsChanged?.();
      },
    });
    this.downloads = new Downloads(
      this.host,
      o.save ??
        (() => {
          throw new Error('no way to save files was given');
        }),
    );
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
    return this.live.reported.config;
  }

  /** Starts the worker and looks for the local server's data. */
  open(): void {
    if (this.host.running) return;
    this.host.spawn();
    void this.data.refreshServer();
  }

  close(): void {
    this.host.close();
    this.live.cancel();
  }

  setBackend(preference: BackendPreference): void {
    this.host.setPreference(preference);
  }

  setStore(store: RunStore | null): void {
    this.store = store;
  }

  setCallbacks(cb: SessionCallbacks): void {
    this.cb = cb;
  }

  /** A run is over: the next run of its batch starts; after a run of its own on a GPU the inference speed is measured at once. */
  private runEnded(r: RunEnded): void {
    this.batches.runEnded(r);
    // On a GPU the measurement takes a second or two; on a software renderer minutes: there it waits for a click.
    const backend = this.state.get().backend;
    const models = this.host.models;
    if (r.ended === 'finished' && backend.status === 'ready' && !backend.info.software && !r.batch && models?.runId === r.id && models.compact) {
      void this.measureInference(r.id);
    }
  }

  // ── runs ────────────────────────────────────────────────────────────────────

  /** Starts a fresh run of `form` on the data chosen now (RunStarts.start); false when it could not start. */
  start(o: FreshRun): Promise<boolean> {
    return this.starts.start(o);
  }

  /** Continues a stored run from its last checkpoint and shows its settings (RunStarts.resumeStored). */
  resumeStored(id: string): Promise<RunConfig | null> {
    return this.starts.resumeStored(id);
  }

  /** A stored run's charts from its whole log, read-only (RunStarts.showStored). */
  showStored(id: string): Promise<boolean> {
    return this.starts.showStored(id);
  }

  /** The page is being hidden or unloaded: the worker takes and stores a checkpoint at once (best effort, see RunRecorder.pageHidden). */
  pageHidden(): void {
    const current = this.tracker.current;
    if (current && !current.ended) void this.host.worker?.api.checkpoint('pagehide');
  }

  pause(): void {
    void this.host.worker?.api.pause();
  }

  resume(): void {
    void this.host.worker?.api.resume();
  }

  /** One training step from a pause, then paused again. */
  step(): void {
    void this.host.worker?.api.step();
  }

  stop(): void {
    this.core.emit({ type: 'stopping' });
    void this.host.worker?.api.stop();
  }

  /**
   * A layer's matrix images at a projection (its 1-based index) of the run this page shows; null when the
   * worker does not hold them (older projections, or a run trained before this page's worker started).
   */
  async matrixImages(layer: string, projection: number): Promise<LayerMatrixImages | null> {
    return (await this.host.worker?.api.matrixImages(layer, projection)) ?? null;
  }

  /** After a NaN: continue from the last good checkpoint with a new learning rate on a fresh worker (Restarts.restoreLastGood). */
  restoreLastGood(lr: number): void {
    this.restarts.restoreLastGood(lr);
  }

  /** The page's form changed; during a run the live settings that now differ are sent after a short quiet. */
  setForm(form: FormState): void {
    this.live.setForm(form);
  }

  // ── ablation batches, inference speed, downloads ────────────────────────────

  /** Runs the ablations of `form` one after another, each over `seeds` seeds; the page shows each run's settings, then `form` again. */
  startBatch(form: FormState, ids: readonly AblationId[], seeds = 1): void {
    if (!this.core.isBusy()) this.batches.start(form, ids, seeds);
  }

  cancelBatch(): void {
    this.batches.cancel();
  }

  /** Times a stored run's dense and compact model on this page's backend (InferenceJobs.measure). */
  measureInference(runId: string, batches?: number[]): Promise<InferenceEvent | null> {
    return this.inference.measure(runId, batches ?? this.testBatches);
  }

  cancelInference(): void {
    this.inference.cancel();
  }

  downloadModel(which: 'compact' | 'projected', filename: string): Promise<void> {
    return this.downloads.model(which, filename);
  }

  /** The last run's model as a PyTorch state_dict (safetensors, official names). */
  downloadSafetensors(which: 'compact' | 'projected', filename: string): Promise<void> {
    return this.downloads.safetensors(which, filename);
  }

  /** The last run's model as an ONNX file. */
  downloadOnnx(which: 'compact' | 'projected', filename: string): Promise<void> {
    return this.downloads.onnx(which, filename);
  }

  downloadModelFiles(which: 'compact' | 'projected'): Promise<void> {
    return this.downloads.modelFiles(which);
  }

  async downloadLog(filename: string): Promise<void> {
    this.downloads.save(await this.log.toBlob(), filename);
  }

  /** A compact model's safetensors file as the graph model a run keeps (a zip), made in the worker (it has tfjs). */
  compactModelZip(safetensors: Uint8Array, name: string): Promise<Uint8Array> {
    return this.host.api().compactModelZip(safetensors, name);
  }

  /** tfjs memory and CSP violations inside the worker (for the console and the end-to-end tests). */
  diagnostics() {
    return this.host.api().diagnostics();
  }

  simulateNaN() {
    return this.host.api().simulateNaN();
  }

  simulateDeviceLoss() {
    return this.host.api().simulateDeviceLoss();
  }
}
