/**
 * A bounded series for long runs: points are averaged into buckets; when the series reaches `max`
 * points, neighbouring pairs are merged and the bucket size doubles. So a run of a million steps still
 * draws at most `max` points, evenly spaced over the whole run, and the newest bucket is always shown.
 * Immutable: add() returns a new series (one O(max) copy per call; call it once per batch of points).
 */
export interface Bucketed<P> {
  /** Finished points (each the merge of `stride` raw points), oldest first. */
  points: P[];
  /** The bucket being filled (shown as the newest point). */
  open: { point: P; count: number } | null;
  /** Raw points per finished point. */
  stride: number;
  max: number;
  total: number;
}

/** Merges two points: `a` covers `wa` raw points, `b` covers `wb`. */
export type Merge<P> = (a: P, wa: number, b: P, wb: number) => P;

export function emptySeries<P>(max = 600): Bucketed<P> {
  if (max < 4) throw new RangeError('max must be at least 4');
  return { points: [], open: null, stride: 1, max, total: 0 };
}

export function addPoints<P>(s: Bucketed<P>, raw: P[], merge: Merge<P>): Bucketed<P> {
  if (!raw.length) return s;
  let points = s.points.slice();
  let open = s.open ? { ...s.open } : null;
  let stride = s.stride;
  for (const p of raw) {
    open = open ? { point: merge(open.point, open.count, p, 1), count: open.count + 1 } : { point: p, count: 1 };
    if (open.count >= stride) {
      points.push(open.point);
      open = null;
      if (points.length >= s.max) {
        const merged: P[] = [];
        for (let i = 0; i + 1 < points.length; i += 2) merged.push(merge(points[i], stride, points[i + 1], stride));
        if (points.length % 2) open = { point: points[points.length - 1], count: stride };
        points = merged;
        stride *= 2;
      }
    }
  }
  return { points, open, stride, max: s.max, total: s.total + raw.length };
}

/** The points to draw: finished ones plus the open bucket. */
export function seriesPoints<P>(s: Bucketed<P>): P[] {
  return s.open ? [...s.points, s.open.point] : s.points;
}

/** Weighted mean helper for merges. */
export const wmean = (a: number, wa: number, b: number, wb: number) => (a * wa + b * wb) / (wa + wb);

/** At most `max` items, evenly spaced, always keeping the first and the last. */
export function decimate<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return items.slice();
  if (max < 2) return items.slice(items.length - max);
  const out: T[] = [];
  for (let k = 0; k < max; k++) out.push(items[Math.round((k * (items.length - 1)) / (max - 1))]);
  return out;
}

/** Keeps at most `max` items of a list: the newest `keepRecent` as they are, the older part decimated. */
export function thin<T>(items: T[], max: number, keepRecent = Math.floor(max / 2)): T[] {
  if (items.length <= max) return items;
  const split = items.length - keepRecent;
  return [...decimate(items.slice(0, split), max - keepRecent), ...items.slice(split)];
}

/** Bias-corrected exponential moving average state (the first values are not pulled towards 0). */
export interface Ema {
  biased: number;
  weight: number;
}
export const EMA0: Ema = { biased: 0, weight: 0 };

export function emaAdd(e: Ema, x: number, decay: number): Ema {
  if (!Number.isFinite(x)) return e;
  return { biased: decay * e.biased + (1 - decay) * x, weight: decay * e.weight + (1 - decay) };
}

export function emaValue(e: Ema): number {
  return e.weight > 0 ? e.biased / e.weight : NaN;
}
