import type { EngineEvent } from '../../engine/events';
import type { CheckpointReason, WorkerMessage } from '../../worker/protocol';
import type { CheckpointMeta, RunStore } from '../../runs/store';
import { holdRunLock } from './run-lock';

export interface RecorderOptions {
  store: RunStore;
  runId: string;
  /** Events of this run already in the store (a resumed run continues after them). */
  recordedEvents: number;
  /** Asks the worker for a checkpoint; it comes back through onMessages. */
  requestCheckpoint: (reason: CheckpointReason) => Promise<boolean>;
  checkpointEveryMs: number;
  /** A write failed (e.g. the browser's storage is full): the run goes on, the page says so. */
  onStoreError: (message: string) => void;
  /** The latest checkpoint this recorder (or an earlier session of the run) stored. */
  onCheckpoint?: (meta: Omit<CheckpointMeta, 'bytes'>) => void;
  lastCheckpoint?: Omit<CheckpointMeta, 'bytes'> | null;
  setTimer?: (fn: () => void, ms: number) => ReturnType<typeof setInterval>;
  clearTimer?: (t: ReturnType<typeof setInterval>) => void;
}

/**
 * Writes one run's message stream to the store, in order: events in chunks, checkpoints with the
 * number of events before them (so a resume can cut the log exactly there). Schedules checkpoints
 * every N minutes while training and at every pause. After a NaN or exploding loss it stores no
 * checkpoint until training goes on normally again, so the last good one is kept.
 */
export class RunRecorder {
  private queue: Promise<void> = Promise.resolve();
  private recorded: number;
  private timer: ReturnType<typeof setInterval> | null = null;
  private diverged = false;
  private ended = false;
  private last: Omit<CheckpointMeta, 'bytes'> | null;
  private readonly o: RecorderOptions;

  constructor(o: RecorderOptions) {
    this.o = o;
    this.recorded = o.recordedEvents;
    this.last = o.lastCheckpoint ?? null;
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
        if (this.diverged) continue;
        const meta = { iteration: m.iteration, epoch: m.epoch, eventCount: this.recorded, time: m.time, reason: m.reason };
        const bytes = m.bytes;
        this.enqueue(async () => {
          await this.o.store.putCheckpoint(this.o.runId, bytes, meta);
          this.last = meta;
          this.o.onCheckpoint?.(meta);
        });
      }
    }
    flushEvents();
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
        break;
      case 'state':
        if (e.state === 'running') this.startTimer();
        else {
          this.stopTimer();
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
    void this.o.requestCheckpoint(reason).catch((err) => this.o.onStoreError(`checkpoint failed: ${err instanceof Error ? err.message : String(err)}`));
  }

  private startTimer(): void {
    if (this.timer !== null || this.o.checkpointEveryMs <= 0) return;
    const set = this.o.setTimer ?? ((fn, ms) => setInterval(fn, ms));
    this.timer = set(() => this.checkpoint('interval'), this.o.checkpointEveryMs);
  }

  private stopTimer(): void {
    if (this.timer === null) return;
    (this.o.clearTimer ?? ((t) => clearInterval(t)))(this.timer);
    this.timer = null;
  }

  private enqueue(work: () => Promise<unknown>): void {
    this.queue = this.queue.then(work).then(
      () => undefined,
      (err: unknown) => this.o.onStoreError(err instanceof Error ? err.message : String(err)),
    );
  }

  /** Resolves when everything received so far is written. */
  flush(): Promise<void> {
    return this.queue;
  }

  /** Stops the timer; pending writes still finish (await flush()). */
  close(): void {
    this.stopTimer();
    this.ended = true;
    void this.queue.then(this.releaseLock);
  }
}
