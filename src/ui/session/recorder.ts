import type { EngineEvent } from '../../engine/events';
import type { CheckpointReason, WorkerMessage } from '../../worker/protocol';
import type { CheckpointMeta, RunStore } from '../../runs/store';
import { CheckpointPolicy } from './checkpoint-policy';
import { holdRunLock } from './run-lock';
import { errorText } from '../../engine/errors';

export interface RecorderOptions {
  store: RunStore;
  runId: string;
  /** Events of this run already in the store (a resumed run continues after them). */
  recordedEvents: number;
  /** Asks the worker for a checkpoint; it comes back through onMessages. */
  requestCheckpoint: (reason: CheckpointReason) => Promise<boolean>;
  /** Most training time between two checkpoints (see CheckpointPolicy: they also follow projections, and back off when costly). */
  checkpointEveryMs: number;
  /** A write failed (e.g. the browser's storage is full): the run goes on, the page says so. */
  onStoreError: (message: string) => void;
  /** The latest checkpoint this recorder (or an earlier session of the run) stored. */
  onCheckpoint?: (meta: Omit<CheckpointMeta, 'bytes'>) => void;
  lastCheckpoint?: Omit<CheckpointMeta, 'bytes'> | null;
  /** A monotonic clock in ms (default performance.now). */
  now?: () => number;
}

/**
 * Writes one run's message stream to the store, in order: events in chunks, checkpoints with the
 * number of events before them (so a resume can cut the log exactly there). Asks for checkpoints at the
 * start, while training as CheckpointPolicy says (by training time and after projections, within a
 * cost budget), at every pause, and when the page goes away (pageHidden). After a NaN or exploding
 * loss it stores no checkpoint until training goes on normally again, so the last good one is kept.
 */
export class RunRecorder {
  private queue: Promise<void> = Promise.resolve();
  private recorded: number;
  private readonly policy: CheckpointPolicy;
  private readonly now: () => number;
  private running = false;
  private diverged = false;
  private ended = false;
  private last: Omit<CheckpointMeta, 'bytes'> | null;
  private readonly o: RecorderOptions;

  constructor(o: RecorderOptions) {
    this.o = o;
    this.recorded = o.recordedEvents;
    this.last = o.lastCheckpoint ?? null;
    this.now = o.now ?? (() => performance.now());
    this.policy = new CheckpointPolicy({ everyMs: o.checkpointEveryMs, now: this.now });
    this.releaseLock = holdRunLock(o.runId);
  }
  private readonly releaseLock: () => void;

  get lastCheckpoint(): Omit<CheckpointMeta, 'bytes'> | null {
    return this.last;
  }

  /** True after a NaN / exploding loss until a normal step follows. */
  get isDiverged(): boolean {
    return this.diverged;
  }

  get eventCount(): number {
    return this.recorded;
  }

  /** What the last checkpoint cost (ms: snapshot + encoding in the worker, write here) and the least training time between two that this allows. */
  get checkpointCost(): { costMs: number; minGapMs: number } {
    return { costMs: this.policy.lastCostMs, minGapMs: this.policy.minGapMs };
  }

  onMessages(batch: readonly WorkerMessage[]): void {
    let events: EngineEvent[] = [];
    const flushEvents = () => {
      if (!events.length) return;
      const chunk = events;
      events = [];
      this.recorded += chunk.length;
      this.enqueue(() => this.o.store.appendEvents(this.o.runId, chunk));
    };
    for (const m of batch) {
      if (m.kind === 'event') {
        events.push(m.event);
        this.observe(m.event);
      } else if (m.kind === 'checkpoint') {
        flushEvents();
        if (this.diverged) {
          this.policy.settled(null);
          continue;
        }
        const meta = { iteration: m.iteration, epoch: m.epoch, eventCount: this.recorded, time: m.time, reason: m.reason };
        const bytes = m.bytes;
        this.enqueue(async () => {
          const t0 = this.now();
          try {
            await this.o.store.putCheckpoint(this.o.runId, bytes, meta);
          } catch (e) {
            this.policy.settled(null);
            throw e;
          }
          this.policy.settled(m.costMs + (this.now() - t0));
          this.last = meta;
          this.o.onCheckpoint?.(meta);
        });
      }
    }
    flushEvents();
    if (this.running && !this.diverged) {
      const reason = this.policy.due();
      if (reason) this.checkpoint(reason);
    }
  }

  /**
   * The page is being hidden or unloaded (pagehide, or visibilitychange to hidden): ask for a checkpoint
   * now, whatever the policy says. Best effort only: on an unload the worker dies with the page, so the
   * checkpoint is stored only if the step in flight ends and the snapshot, its encoding, the transfer and
   * the IndexedDB transaction all finish before the browser tears the page down — nothing can wait for
   * that. What the policy already stored (at most ~30 s of training old) is what a reload falls back on.
   * When the page is only hidden, or kept in the back/forward cache, the checkpoint completes normally.
   */
  pageHidden(): void {
    if (this.running && !this.diverged && !this.policy.waiting) this.checkpoint('pagehide');
  }

  private observe(e: EngineEvent): void {
    switch (e.type) {
      // (status, config and backend reach the record with the events themselves: see RunStore.appendEvents)
      case 'runStart':
        if (e.resumedFrom === null) this.checkpoint('start');
        break;
      case 'error':
        if (e.code === 'nan' || e.code === 'exploding') this.diverged = true;
        break;
      case 'step':
        this.diverged = false;
        this.policy.step(e.stepMs);
        break;
      case 'projection':
        this.policy.projection();
        break;
      case 'state':
        this.running = e.state === 'running';
        if (this.running) this.policy.running();
        else {
          this.policy.halted();
          if (e.state === 'paused' && !this.diverged) this.checkpoint('pause');
          if (e.state === 'finished' || e.state === 'stopped') this.ended = true;
        }
        break;
      default:
        break;
    }
  }

  private checkpoint(reason: CheckpointReason): void {
    if (this.ended) return;
    this.policy.requested();
    this.o.requestCheckpoint(reason).then(
      (ok) => {
        if (!ok) this.policy.settled(null);
      },
      (err: unknown) => {
        this.policy.settled(null);
        this.o.onStoreError(`checkpoint failed: ${errorText(err)}`);
      },
    );
  }

  private enqueue(work: () => Promise<unknown>): void {
    this.queue = this.queue.then(work).then(
      () => undefined,
      (err: unknown) => this.o.onStoreError(errorText(err)),
    );
  }

  /** Resolves when everything received so far is written. */
  flush(): Promise<void> {
    return this.queue;
  }

  /** Asks for no more checkpoints; pending writes still finish (await flush()). */
  close(): void {
    this.running = false;
    this.ended = true;
    void this.queue.then(this.releaseLock);
  }
}
