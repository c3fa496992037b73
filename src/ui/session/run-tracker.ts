import type { LiveUpdate, RunConfigInput } from '../../engine/config';
import { errorText } from '../../engine/errors';
import type { WorkerMessage, WorkerRunEnd } from '../../worker/protocol';
import { divergedAfter, splitBatch } from '../state/worker-batch';
import type { RunEnded } from './batch';
import type { Current, SessionCore } from './session-core';

export interface RunTrackerHooks {
  /** The worker's answer says its device was lost: restart the run (Restarts.deviceProblem). */
  deviceProblem: (message: string) => void;
  /** A run finished: a batch may keep its weights before the next run starts. */
  finished: (current: Current) => Promise<void>;
  /** A run is over and its result stored. */
  ended: (r: RunEnded) => void;
}

/** What a launch gives the worker: the config, where the record continues, and what the run starts from. */
export interface Launch {
  config: RunConfigInput;
  recordedEvents: number;
  resume?: Uint8Array;
  updates?: LiveUpdate[];
  initWeights?: Uint8Array;
  firstStepOnly?: boolean;
}

/** The run going on: launched on the worker (which records it), followed as it streams, settled when the worker answers. */
export class RunTracker {
  current: Current | null = null;
  /** A device problem came while a run's result was being handled: replace the worker after that. */
  replaceWorkerWhenIdle = false;

  constructor(
    private readonly core: SessionCore,
    private readonly hooks: RunTrackerHooks,
  ) {}

  /** Starts the worker on a run (fresh, or from an encoded checkpoint); it records the run, the page follows what it streams. */
  launch(current: Current, run: Launch): void {
    const { core } = this;
    const w = core.host.worker;
    if (!w) {
      core.set({ busy: false });
      core.emit({ type: 'failed', message: 'the worker is not running' });
      return;
    }
    this.current = current;
    core.set({ busy: true, currentId: current.id });
    const { config, recordedEvents, resume, updates, initWeights, firstStepOnly } = run;
    const running = w.api.startRun(
      {
        config,
        data: current.data,
        record: { runId: current.id, recordedEvents, checkpointMinutes: current.checkpointMinutes },
        resume,
        updates: updates?.length ? updates : undefined,
        ...(initWeights && { initWeights }),
        ...(firstStepOnly && { firstStepOnly }),
      },
      w.proxy((batch: WorkerMessage[]) => this.onMessages(current, batch)),
    );
    // Changes made while the run was being set up (the worker queues them until its first step).
    core.live.sync();
    void this.settle(current, running);
  }

  private onMessages(current: Current, batch: WorkerMessage[]): void {
    if (this.current !== current) return; // a worker that was replaced
    const { core } = this;
    const parts = splitBatch(batch);
    if (parts.exports) core.host.models = { runId: current.id, compact: parts.exports.compact };
    core.log.push(parts.events);
    core.live.reported.observe(parts.events);
    const lastCheckpoint = parts.checkpoints.at(-1);
    const storeError = parts.storeErrors.at(-1);
    core.set({
      diverged: divergedAfter(core.state().diverged, parts.events),
      ...(lastCheckpoint && { lastCheckpoint }),
      ...(storeError && { storeError: `saving the run failed: ${storeError}` }),
    });
    if (lastCheckpoint) core.callbacks().onRunsChanged?.();
    core.emit({ type: 'batch', parts, at: core.now() });
  }

  /** After the worker answered startRun (it stored the result): the next run of a batch may start. */
  private async settle(current: Current, running: Promise<WorkerRunEnd>): Promise<void> {
    const { core } = this;
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
      this.hooks.deviceProblem(result.deviceProblem);
      return;
    }
    current.ended = true;
    core.live.cancel();
    core.emit(threw ? { type: 'failed', message: result.message! } : { type: 'ended', ...result });
    core.callbacks().onRunsChanged?.();
    if (result.ended === 'finished') await this.hooks.finished(current);
    if (this.current !== current) return;
    this.current = null;
    core.set({ busy: false });
    if (this.replaceWorkerWhenIdle) {
      this.replaceWorkerWhenIdle = false;
      core.host.spawn();
    }
    this.hooks.ended({ id: current.id, ended: result.ended, batch: current.batch });
  }
}
