import { encodeCheckpoint } from '../engine/checkpoint';
import { errorText } from '../engine/errors';
import type { RunControls, RunEnd } from '../engine/run/api';
import { RunRecorder, type StoredCheckpoint, type TakenCheckpoint } from '../runs/recorder';
import { RunStore } from '../runs/store';
import type { CheckpointReason, RecordRequest } from './protocol';

let opened: Promise<RunStore> | null = null;
/** The browser's run store (IndexedDB), opened once per worker: the page's and the worker's are the same database. */
function runStore(): Promise<RunStore> {
  opened ??= RunStore.open().catch((e: unknown) => {
    opened = null;
    throw e;
  });
  return opened;
}

/**
 * A checkpoint of the run between two steps, encoded; its cost is the snapshot and the encoding (both hold up
 * training). Null when a weight is not finite: a checkpoint is what a diverged run goes back to, so one that
 * holds a NaN is never stored (the last good one stays).
 */
export async function takeCheckpoint(controls: RunControls): Promise<TakenCheckpoint | null> {
  const c = await controls.checkpoint();
  if (!c.tensors.every((t) => t.data.every(Number.isFinite))) return null;
  const t0 = performance.now();
  const bytes = encodeCheckpoint(c);
  return { bytes, iteration: c.iteration, epoch: c.epoch, time: c.time, costMs: c.snapshotMs + (performance.now() - t0) };
}

/** What recording a run writes to. */
export type RecordingStore = Pick<RunStore, 'appendEvents' | 'putCheckpoint' | 'putModel' | 'updateRun'>;

export interface RecordingOptions {
  /** Takes a checkpoint of the run after the step in flight (takeCheckpoint); null while no run is going. */
  take: (reason: CheckpointReason) => Promise<TakenCheckpoint | null>;
  onCheckpoint: (meta: StoredCheckpoint) => void;
  onStoreError: (message: string) => void;
}

/**
 * The worker records the run it trains into the browser's storage itself (RunRecorder: events,
 * checkpoints when they are due, the compact model at the end), so a checkpoint's bytes never travel
 * to the page and back, and its whole cost is known where the cadence is decided.
 */
export class Recording {
  readonly recorder: RunRecorder;

  constructor(
    private readonly store: RecordingStore,
    private readonly req: RecordRequest,
    o: RecordingOptions,
  ) {
    this.recorder = new RunRecorder({
      store,
      runId: req.runId,
      recordedEvents: req.recordedEvents,
      take: o.take,
      checkpointEveryMs: req.checkpointMinutes * 60_000,
      onCheckpoint: o.onCheckpoint,
      onStoreError: o.onStoreError,
    });
  }

  /** Records into the browser's run store (opened once per worker). */
  static async open(req: RecordRequest, o: RecordingOptions): Promise<Recording> {
    return new Recording(await runStore(), req, o);
  }

  checkpoint(reason: CheckpointReason): Promise<boolean> {
    return reason === 'pagehide' ? this.recorder.pageHidden() : this.recorder.checkpoint(reason);
  }

  /**
   * After the run: everything recorded is written, then its result — the compact model of a finished run,
   * or the failed status of one an error ended (a lost device is not a failure: the page restarts it).
   * Null, or what could not be stored.
   */
  async finish(end: RunEnd & { deviceProblem?: string }, compactZip: Uint8Array | null): Promise<string | null> {
    this.recorder.close();
    await this.recorder.flush();
    try {
      if (end.ended === 'finished' && compactZip) await this.store.putModel(this.req.runId, compactZip);
      if (end.ended === 'error' && !end.deviceProblem) await this.store.updateRun(this.req.runId, { status: 'failed' });
      return null;
    } catch (e) {
      return `could not store the run's result: ${errorText(e)}${end.message ? ` (${end.message})` : ''}`;
    }
  }
}
