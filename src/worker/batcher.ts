/**
 * Collects items and hands them over in batches, at most every `intervalMs` (and at once on flush()),
 * so that a training loop emitting hundreds of events a second costs the page one message per interval.
 * A push checks the clock itself: a loop that never yields to timers still gets its batches out.
 * When `send` returns a promise (a Comlink call: it settles once the receiver has handled the batch),
 * drain() waits for every batch sent so far.
 */
export class Batcher<T> {
  private items: T[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastFlush: number;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly send: (items: T[]) => unknown,
    private readonly intervalMs = 150,
    private readonly now: () => number = () => performance.now(),
    private readonly schedule: (fn: () => void, ms: number) => ReturnType<typeof setTimeout> = (fn, ms) => setTimeout(fn, ms),
    private readonly cancel: (t: ReturnType<typeof setTimeout>) => void = (t) => clearTimeout(t),
  ) {
    this.lastFlush = now();
  }

  push(item: T): void {
    this.items.push(item);
    if (this.now() - this.lastFlush >= this.intervalMs) {
      this.flush();
    } else if (this.timer === null) {
      this.timer = this.schedule(() => {
        this.timer = null;
        this.flush();
      }, Math.max(0, this.intervalMs - (this.now() - this.lastFlush)));
    }
  }

  flush(): void {
    if (this.timer !== null) {
      this.cancel(this.timer);
      this.timer = null;
    }
    this.lastFlush = this.now();
    if (this.items.length === 0) return;
    const batch = this.items;
    this.items = [];
    const sent = this.send(batch);
    if (sent instanceof Promise) {
      const settled = sent.catch(() => undefined);
      this.inFlight.add(settled);
      void settled.then(() => this.inFlight.delete(settled));
    }
  }

  /** Sends what is pending and resolves when every batch sent so far has been handled (or failed). */
  async drain(): Promise<void> {
    this.flush();
    await Promise.all([...this.inFlight]);
  }

  get pending(): number {
    return this.items.length;
  }
}
