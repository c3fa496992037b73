/**
 * An immutable snapshot with change listeners: the shape React's useSyncExternalStore reads
 * (`subscribe` and `get` are bound, so they can be passed as they are).
 */
export class Observable<T extends object> {
  private value: T;
  private readonly listeners = new Set<() => void>();

  constructor(initial: T) {
    this.value = initial;
  }

  readonly get = (): T => this.value;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  };

  /** A new snapshot with `patch` applied; listeners hear of it only when a field really changed. */
  set(patch: Partial<T>): void {
    if (!Object.keys(patch).some((k) => !Object.is(patch[k as keyof T], this.value[k as keyof T]))) return;
    this.value = { ...this.value, ...patch };
    for (const l of [...this.listeners]) l();
  }
}
