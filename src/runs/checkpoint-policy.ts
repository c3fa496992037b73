export interface CheckpointPolicyOptions {
  /** Most training time between two checkpoints (the page's "Checkpoint every" setting). */
  everyMs: number;
  /** The share of training time checkpoints may cost at most: two are at least cost / share apart. */
  maxShare?: number;
  /** A projection asks for a checkpoint once at least this much training time passed since the last one. */
  projectionGapMs?: number;
  now?: () => number;
}

export type DueReason = 'interval' | 'projection';

/** 2 %: a checkpoint that costs 1 s is taken at most every 50 s. */
export const MAX_CHECKPOINT_SHARE = 0.02;
export const PROJECTION_GAP_MS = 5_000;

/**
 * When the page asks the worker for a checkpoint. A reload, a crash or a closed tab loses the training
 * done since the last checkpoint, so one is taken once `everyMs` of training time (paused time does not
 * count) has passed, and after a projection (the weights just changed the most) once `projectionGapMs`
 * has — but never so often that checkpoints cost more than `maxShare` of the training time. The cost of
 * one (snapshot and encoding in the worker, which hold up training, plus the write to IndexedDB) is
 * measured on every checkpoint, so a big model backs off by itself.
 *
 * A checkpoint is served after the step in flight: it is asked for early enough (the last step's time
 * and the last cost ahead) to be `everyMs` old at most when it is taken.
 */
export class CheckpointPolicy {
  private readonly everyMs: number;
  private readonly maxShare: number;
  private readonly projectionGapMs: number;
  private readonly now: () => number;
  /** Training time since the last checkpoint, up to `runningSince`. */
  private trainedMs = 0;
  private runningSince: number | null = null;
  private projected = false;
  private stepMs = 0;
  private costMs = 0;
  private pending = false;

  constructor(o: CheckpointPolicyOptions) {
    this.everyMs = o.everyMs;
    this.maxShare = o.maxShare ?? MAX_CHECKPOINT_SHARE;
    this.projectionGapMs = o.projectionGapMs ?? PROJECTION_GAP_MS;
    this.now = o.now ?? (() => performance.now());
  }

  /** Training (re)started: its time counts from now. */
  running(): void {
    this.runningSince ??= this.now();
  }

  /** Training paused or ended: time does not count until it runs again. */
  halted(): void {
    if (this.runningSince === null) return;
    this.trainedMs += this.now() - this.runningSince;
    this.runningSince = null;
  }

  step(stepMs: number): void {
    if (Number.isFinite(stepMs)) this.stepMs = stepMs;
  }

  projection(): void {
    this.projected = true;
  }

  /** Training time since the last checkpoint was asked for. */
  get sinceMs(): number {
    return this.trainedMs + (this.runningSince === null ? 0 : this.now() - this.runningSince);
  }

  /** Fewest ms of training between two checkpoints for them to cost at most `maxShare`. */
  get minGapMs(): number {
    return this.costMs / this.maxShare;
  }

  get lastCostMs(): number {
    return this.costMs;
  }

  /** Whether to ask for a checkpoint now, and why; null while one is on its way. */
  due(): DueReason | null {
    if (this.pending || this.everyMs <= 0) return null;
    const since = this.sinceMs;
    if (since < this.minGapMs) return null;
    if (since + this.stepMs + this.costMs >= this.everyMs) return 'interval';
    if (this.projected && since >= this.projectionGapMs) return 'projection';
    return null;
  }

  /** A checkpoint was asked for (by this policy or for a pause, a stop, the page going away): the clock restarts. */
  requested(): void {
    this.pending = true;
    this.projected = false;
    this.trainedMs = 0;
    if (this.runningSince !== null) this.runningSince = this.now();
  }

  /** The checkpoint asked for is stored (with what it cost), or will not come. */
  settled(costMs: number | null): void {
    this.pending = false;
    if (costMs !== null && Number.isFinite(costMs) && costMs >= 0) this.costMs = costMs;
  }

  get waiting(): boolean {
    return this.pending;
  }
}
