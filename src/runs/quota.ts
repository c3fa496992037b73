export interface StorageEstimateLite {
  usage: number;
  quota: number;
}

/** The share of the quota past which the page warns. */
const STORAGE_WARN_FRACTION = 0.8;

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

/** The browser's storage estimate for this origin, or null where the browser does not give one. */
export async function estimateStorage(): Promise<StorageEstimateLite | null> {
  const storage = typeof navigator !== 'undefined' ? navigator.storage : undefined;
  if (!storage || typeof storage.estimate !== 'function') return null;
  try {
    const e = await storage.estimate();
    if (!e.quota) return null;
    return { usage: e.usage ?? 0, quota: e.quota };
  } catch {
    return null;
  }
}

/** A warning when storing `incomingBytes` more would take usage past 80 % of the quota; null otherwise. */
export function storageWarning(estimate: StorageEstimateLite | null, incomingBytes: number): string | null {
  if (!estimate || !(estimate.quota > 0)) return null;
  const after = estimate.usage + Math.max(0, incomingBytes);
  if (after <= STORAGE_WARN_FRACTION * estimate.quota) return null;
  const pct = Math.round((100 * after) / estimate.quota);
  const what = incomingBytes > 0 ? `with ${formatBytes(incomingBytes)} more, browser storage would be` : 'browser storage is';
  return `${what} ${pct} % full (${formatBytes(after)} of ${formatBytes(estimate.quota)}); delete runs or export them to files to make room`;
}
