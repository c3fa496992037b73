import { errorText } from '../engine/errors';
import type { EngineEvent } from '../engine/events';
import { CheckpointPolicy } from './checkpoint-policy';
import type { CheckpointMeta, CheckpointReason, RunStore } from './store';
import { holdRunLock } from './run-lock';

/** A checkpoint taken between two steps and encoded: what the store keeps, and what taking it cost. */
export interface TakenCheckpoint {
  bytes: Uint8Array;
  iteration: number;
  epoch: number;
  time: number;
  /** Snapshot and encoding, which hold up training (the write is timed here). */
  costMs: number;
}

export type StoredCheckpoint = Omit<CheckpointMeta, 'bytes'>;

export interface RecorderOptions {
  store: Pick<RunStore, 'appendEvents' | 'putCheckpoint'>;
  runId: string;
  /** Events of this run already in the store (a resumed run continues after them). */
  recordedEvents: number;
  /** Takes a checkpoint at the next point between two steps; null when no run is going. */
  take: (reason: CheckpointReason) => Promise<TakenCheckpoint | null>;
  /** Most training time between two checkpoints (see CheckpointPolicy: they also follow projections, and back off when costly). */
  checkpointEveryMs: number;
  /** A write failed (e.g. the browser's storage is full): the run goes on, the page says so. */
  onStoreError: (message: string) => void;
  /** A checkpoint is stored. */
  onCheckpoint?: (meta: StoredCheckpoint) => void;
  /** A monotonic clock in ms (default performance.now). */
  now?: () => number;
  /** Events are written in chunks, one transaction at most this often (ms). */
  chunkMs?: number;
  schedule?: (fn: () => void, ms: number) => void;
}

/**
 * Records one run where it trains (the worker): its events in chunks and its checkpoints, in order, each
 * checkpoint with the number of events before it (so a resume can cut the log exactly there). It decides
 * when to checkpoint as the training loop goes, the way a training script does its periodic work: at the
 * start, by training time and after projections within a cost budget (CheckpointPolicy, which is told the
 * whole cost of each: snapshot, encoding and the IndexedDB write), at every pause, at a stop, and when the
 * page goes away (pageHidden). After a NaN or exploding loss it stores no checkpoint until training goes on
 * normally again, so the last good one is kept.
 */
export class RunRecorder {
  private queue: Promise<void> = Promise.resolve();
  private recorded: number;
  private pending: EngineEvent[] = [];
  private chunkScheduled = false;
  private readonly policy: CheckpointPolicy;
  private readonly now: () => number;
  private readonly schedule: (fn: () => void, ms: number) => void;
  private running = false;
  private diverged = false;
  private ended = false;
  private readonly releaseLock: () => void;

  constructor(private readonly o: RecorderOptions) {
    this.recorded = o.recordedEvents;
    this.now = o.now ?? (() => performance.now());
    this.schedule = o.schedule ?? ((fn, ms) => void setTimeout(fn, ms));
    this.policy = new CheckpointPolicy({ everyMs: o.checkpointEveryMs, now: this.now });
    this.releaseLock = holdRunLock(o.runId);
  }

  /** True after a NaN / exploding loss until a normal step follows. */
  get isDiverged(): boolean {
    return this.diverged;
  }

  /** Events of the run stored or on their way to the store. */
  get eventCount(): number {
    return this.recorded + this.pending.length;
  }

  /** What the last checkpoint cost (ms: snapshot, encoding and write) and the least training time between two that this allows. */
  get checkpointCost(): { costMs: number; minGapMs: number } {
    return { costMs: this.policy.lastCostMs, minGapMs: this.policy.minGapMs };
  }

  /** One event of the run, as the engine emits it. */
  event(e: EngineEvent): void {
    this.pending.push(e);
    if (!this.chunkScheduled) {
      this.chunkScheduled = true;
      this.schedule(() => {
        this.chunkScheduled = false;
        this.writeEvents();
      }, this.o.chunkMs ?? 150);
    }
    this.observe(e);
  }

  /**
   * The page is being hidden or unloaded (pagehide, or visibilitychange to hidden): a checkpoint now,
   * whatever the policy says. Best effort only: on an unload the worker dies with the page, so it is
   * stored only if the step in flight ends and the snapshot, its encoding and the IndexedDB transaction
   * all finish before the browser tears the page down. What the policy stored already (at most ~30 s of
   * training old) is what a reload falls back on. When the page is only hidden, it completes normally.
   */
  pageHidden(): Promise<boolean> {
    if (!this.running || this.diverged || this.policy.waiting) return Promise.resolve(false);
    return this.checkpoint('pagehide');
  }

  private observe(e: EngineEvent): void {
    switch (e.type) {
      case 'runStart':
        if (e.resumedFrom === null) void this.checkpoint('start');
        break;
      case 'error':
        if (e.code === 'nan' || e.code === 'exploding') this.diverged = true;
        break;
      case 'step': {
        this.diverged = false;
        this.policy.step(e.stepMs);
        const due = this.running ? this.policy.due() : null;
        if (due) void this.checkpoint(due);
        break;
      }
      case 'projection':
        this.policy.projection();
        break;
      case 'state':
        this.running = e.state === 'running';
        if (this.running) this.policy.running();
        else {
          this.policy.halted();
          if (e.state === 'paused' && !this.diverged) void this.checkpoint('pause');
          if (e.state === 'finished' || e.state === 'stopped') this.ended = true;
        }
        break;
      default:
        break;
    }
  }

  /** Takes a checkpoint after the step in flight and stores it; false when none was stored (the run is over, or it diverged). */
  async checkpoint(reason: CheckpointReason): Promise<boolean> {
    if (this.ended) return false;
    this.policy.requested();
    let taken: TakenCheckpoint | null;
    try {
      taken = await this.o.take(reason);
    } catch (e) {
      this.policy.settled(null);
      this.o.onStoreError(`checkpoint failed: ${errorText(e)}`);
      return false;
    }
    if (!taken || this.diverged) {
      this.policy.settled(null);
      return false;
    }
    // Every event emitted before the checkpoint was taken is in `pending` now: they go first.
    this.writeEvents();
    const meta: StoredCheckpoint = { iteration: taken.iteration, epoch: taken.epoch, eventCount: this.recorded, time: taken.time, reason };
    let stored = false;
    this.enqueue(async () => {
      const t0 = this.now();
      try {
        await this.o.store.putCheckpoint(this.o.runId, taken.bytes, meta);
      } catch (e) {
        this.policy.settled(null);
        throw e;
      }
      this.policy.settled(taken.costMs + (this.now() - t0));
      stored = true;
      this.o.onCheckpoint?.(meta);
    });
    await this.queue;
    return stored;
  }

  private writeEvents(): void {
    if (!this.pending.length) return;
    const chunk = this.pending;
    this.pending = [];
    this.recorded += chunk.length;
    this.enqueue(() => this.o.store.appendEvents(this.o.runId, chunk));
  }

  private enqueue(work: () => Promise<unknown>): void {
    this.queue = this.queue.then(work).then(
      () => undefined,
      (err: unknown) => this.o.onStoreError(errorText(err)),
    );
  }

  /** Resolves when everything received so far is written. */
  flush(): Promise<void> {
    this.writeEvents();
    return this.queue;
  }

  /** Takes no more checkpoints; what was received is still written (await flush()). */
  close(): void {
    this.running = false;
    this.ended = true;
    this.writeEvents();
    void this.queue.then(this.releaseLock);
  }
}
