export const RUN_LOCK_PREFIX = 'lrpet-run:';

/**
 * Holds a Web Lock named after the run while this tab records it, so another tab opened meanwhile
 * does not take the run for interrupted. Returns the release function (a no-op without Web Locks).
 */
export function holdRunLock(runId: string): () => void {
  if (typeof navigator === 'undefined' || !navigator.locks) return () => {};
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  void navigator.locks.request(`${RUN_LOCK_PREFIX}${runId}`, () => held).catch(() => undefined);
  return release;
}
