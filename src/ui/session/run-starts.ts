import { checkCheckpointBytes } from '../../engine/checkpoint';
import { parseRunConfig, type LiveUpdate, type RunConfig, type RunConfigInput } from '../../engine/config';
import { errorText } from '../../engine/errors';
import type { EngineEvent } from '../../engine/events';
import type { RunStore } from '../../runs/store';
import type { DataChoice } from '../../worker/protocol';
import { formFromConfig, liveDiff, presetById, toRunConfig, type FormState } from '../state/form';
import type { BatchRef } from './batch';
import type { DataSource } from './data-source';
import { configFromEvents } from './live-config';
import type { RunTracker } from './run-tracker';
import type { Current, SessionCore } from './session-core';

/** Why a stored checkpoint cannot be used, or null. */
const unusable = (bytes: Uint8Array): string | null => {
  try {
    checkCheckpointBytes(bytes);
    return null;
  } catch (e) {
    return errorText(e);
  }
};

function predictedConfig(config: RunConfigInput): RunConfig | null {
  try {
    return parseRunConfig(config);
  } catch {
    return null;
  }
}

export interface FreshRun {
  form: FormState;
  /** Made from the form (e.g. an ablation's), when it is not just toRunConfig(form). */
  config?: RunConfigInput;
  name?: string;
  batch?: BatchRef | null;
  /** Initial weights (safetensors) when the config's init names them. */
  initWeights?: Uint8Array;
  /** The run pauses after its first step (Step before a run). */
  firstStepOnly?: boolean;
}

/** How a stored run continues: after a reload (Resume), a lost device or a NaN (a restart). */
export interface Continuation {
  restarts: number;
  checkpointMinutes?: number;
  /** A lower learning rate after a NaN. */
  lr?: number;
  /** Show the run's settings in the form. */
  loadForm: boolean;
  /** What the page says once it continues, from the checkpoint's iteration. */
  notice?: (iteration: number) => string;
  /** What the page says when the run has no checkpoint yet. */
  noCheckpoint?: string;
  /** A restart: a run that cannot continue ends (its batch too). */
  batch?: BatchRef | null;
  onFailedEnd?: (id: string, batch: BatchRef | null) => void;
}

/** Runs begin here: fresh, resumed from the browser's storage, or shown from it read-only. */
export class RunStarts {
  constructor(
    private readonly core: SessionCore,
    private readonly tracker: RunTracker,
    private readonly data: DataSource,
    private readonly runName: (form: FormState) => string,
  ) {}

  /** Starts a fresh run on the data chosen now; false when it could not start. */
  async start(o: FreshRun): Promise<boolean> {
    const { core } = this;
    const st = core.store();
    const data = this.data.getSnapshot().effective;
    if (!core.host.running || !st || !data || core.isBusy()) return false;
    core.live.form = o.form;
    core.log.clear();
    core.set({ busy: true, notice: null, storeError: null, lastCheckpoint: null, liveError: null, diverged: false });
    core.emit({ type: 'starting', at: core.now() });
    const batch = o.batch ?? null;
    let id: string;
    try {
      id = (await st.createRun({ name: o.name ?? this.runName(o.form), source: 'browser', batch })).id;
    } catch (e) {
      core.set({ busy: false });
      core.emit({ type: 'failed', message: `could not create the run in the browser's storage: ${errorText(e)}` });
      return false;
    }
    const current: Current = { id, batch, data, checkpointMinutes: o.form.checkpointMinutes, restarts: 0, ended: false };
    core.callbacks().onRunsChanged?.();
    const config = o.config ?? toRunConfig(o.form);
    core.live.reported.reset(predictedConfig(config));
    this.tracker.launch(current, { config, recordedEvents: 0, initWeights: o.initWeights, firstStepOnly: o.firstStepOnly });
    return true;
  }

  /**
   * Continues a stored run from its last checkpoint on the data chosen now, and shows its settings in
   * the form (onLoadForm). Resolves with those settings, or null when it cannot continue.
   */
  async resumeStored(id: string): Promise<RunConfig | null> {
    const data = this.data.getSnapshot().effective;
    if (!this.core.host.running || !this.core.store() || !data || this.core.isBusy()) return null;
    this.core.set({ busy: true });
    return this.continueFromCheckpoint(id, data, { restarts: 0, loadForm: true });
  }

  /**
   * The log is cut where the checkpoint was taken and replayed into the charts; the worker goes on from
   * the checkpoint with its settings (they include live changes made before it). Changes the form holds
   * on top (made after the checkpoint, or a lower lr after a NaN) go in as live updates.
   */
  async continueFromCheckpoint(id: string, data: DataChoice, o: Continuation): Promise<RunConfig | null> {
    const { core } = this;
    const st = core.store();
    const fail = (message: string) => {
      core.set({ busy: false });
      core.emit({ type: 'failed', message });
      if (o.batch !== undefined) o.onFailedEnd?.(id, o.batch);
      return null;
    };
    if (!st) return fail('the browser storage is not open');
    core.emit({ type: 'progress', progress: { label: "reading the run from this browser's storage", loaded: 0, total: null } });
    let point: Awaited<ReturnType<RunStore['loadResumePoint']>>;
    try {
      point = await st.loadResumePoint(id, unusable);
    } catch (e) {
      return fail(`could not read the run from the browser's storage: ${errorText(e)}`);
    }
    if ('problem' in point) return fail((point.none && o.noCheckpoint) || point.problem);
    const { record, checkpoint: ck, events, fellBack } = point;
    const config = configFromEvents(events) ?? record.config!;
    const form = core.live.form;
    if (o.loadForm) core.loadForm(formFromConfig(config, form ?? presetById('quick').form));
    const diff = core.live.form ? liveDiff(config, core.live.form).update : null;
    const update: LiveUpdate | null = o.lr !== undefined ? { ...diff, lr: o.lr } : diff;
    const updates = update ? [update] : [];
    core.log.clear();
    core.log.push(events);
    const notice = fellBack ? `“${record.name}”: ${fellBack}; it continues from the one before, at iteration ${ck.meta.iteration}.` : o.notice?.(ck.meta.iteration);
    core.set({ storeError: null, lastCheckpoint: ck.meta, liveError: null, diverged: false, ...(notice && { notice }) });
    core.emit({ type: 'replay', events, at: core.now() });
    const minutes = o.checkpointMinutes ?? core.live.form?.checkpointMinutes ?? presetById('quick').form.checkpointMinutes;
    const current: Current = { id, batch: record.batch, data, checkpointMinutes: minutes, restarts: o.restarts, ended: false };
    core.callbacks().onRunsChanged?.();
    core.live.reported.reset(config, updates);
    this.tracker.launch(current, { config: record.config!, recordedEvents: ck.meta.eventCount, resume: ck.bytes, updates });
    return config;
  }

  /**
   * Shows a stored run's charts from its whole log, read-only (nothing runs): an interrupted run, found
   * after a reload, before the user presses Resume. False when a run is going or the run is not stored.
   */
  async showStored(id: string): Promise<boolean> {
    const { core } = this;
    const st = core.store();
    if (!st || core.isBusy()) return false;
    let record, events: EngineEvent[];
    try {
      [record, events] = await Promise.all([st.getRun(id), st.getEvents(id)]);
    } catch (e) {
      core.set({ storeError: `could not read the run from the browser's storage: ${errorText(e)}` });
      return false;
    }
    if (!record || core.isBusy()) return false;
    core.log.clear();
    core.log.push(events);
    core.set({ lastCheckpoint: record.checkpoint, diverged: false, liveError: null });
    core.emit({ type: 'stored', events, at: core.now() });
    return true;
  }
}
