import type { RunEnded } from './batch';
import type { RunStarts } from './run-starts';
import type { RunTracker } from './run-tracker';
import type { Current, SessionCore } from './session-core';

/** More automatic restarts than this for one run and the page stops trying. */
export const MAX_RESTARTS = 3;

/**
 * A run's worker replaced under it — its GPU device was lost or ran out of memory, or the user went back
 * to the last good checkpoint after a NaN — and the run continued from its checkpoint on the new one.
 */
export class Restarts {
  /** Set while the worker is replaced under a run: which run to continue once the new one is up. */
  pending: { current: Current; reason: string | null; lr?: number } | null = null;

  constructor(
    private readonly core: SessionCore,
    private readonly tracker: RunTracker,
    private readonly starts: RunStarts,
    private readonly ended: (r: RunEnded) => void,
  ) {}

  /** The one path for a lost GPU device or GPU out-of-memory (the worker reports both, once). */
  deviceProblem(message: string): void {
    const { core, tracker } = this;
    if (this.pending) return;
    const current = tracker.current;
    if (current?.ended) {
      tracker.replaceWorkerWhenIdle = true;
      return;
    }
    if (!current) {
      core.set({ notice: `${message}. The worker was restarted.` });
      core.host.spawn();
      return;
    }
    if (current.restarts >= MAX_RESTARTS) {
      tracker.current = null;
      core.live.cancel();
      core.set({ busy: false });
      core.emit({
        type: 'failed',
        message: `${message}, again (${MAX_RESTARTS} restarts already): the run was stopped; its last checkpoint is kept — try a smaller batch size or another backend, then resume it from the runs list`,
      });
      void core
        .store()
        ?.updateRun(current.id, { status: 'interrupted' })
        .then(() => core.callbacks().onRunsChanged?.());
      core.host.spawn();
      this.ended({ id: current.id, ended: 'error', batch: current.batch });
      return;
    }
    this.restartFromCheckpoint(current, message, message);
  }

  /**
   * After a NaN: drop the diverged run's worker and continue from the last good checkpoint with a new
   * learning rate on a fresh worker — the diverged weights are never used again.
   */
  restoreLastGood(lr: number): void {
    const current = this.tracker.current;
    if (!current || this.pending) return;
    const form = this.core.live.form;
    if (form) this.core.loadForm({ ...form, lr });
    this.restartFromCheckpoint(current, null, 'going back to the last good checkpoint', lr);
  }

  /** Drops the worker (and what the run did since its checkpoint); a fresh one continues the run from the checkpoint. */
  private restartFromCheckpoint(current: Current, reason: string | null, progress: string, lr?: number): void {
    this.pending = { current, reason, lr };
    this.tracker.current = null;
    this.core.live.cancel();
    this.core.emit({ type: 'restarting', message: progress });
    this.core.host.spawn();
  }

  /** A new worker is up: the run it replaced its predecessor for continues from its checkpoint. */
  workerReady(): void {
    const pending = this.pending;
    this.pending = null;
    if (!pending) return;
    const { current: c, reason, lr } = pending;
    void this.starts.continueFromCheckpoint(c.id, c.data, {
      checkpointMinutes: c.checkpointMinutes,
      restarts: reason ? c.restarts + 1 : c.restarts,
      lr,
      loadForm: false,
      notice: (iteration) =>
        reason
          ? `${reason[0].toUpperCase()}${reason.slice(1)}. The worker was restarted and the run resumed from its checkpoint at iteration ${iteration}.`
          : `Continued from the last good checkpoint (iteration ${iteration})${lr !== undefined ? ` with learning rate ${lr}` : ''}.`,
      noCheckpoint: `${reason ?? 'restart'}; the run had no checkpoint yet, so it cannot continue`,
      batch: c.batch,
      onFailedEnd: (id, batch) => this.ended({ id, ended: 'error', batch }),
    });
  }
}
