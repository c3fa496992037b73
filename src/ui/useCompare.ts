import { useEffect, useMemo, useState } from 'react';
import type { RunRecord, RunStore } from '../runs/store';
import { compareSet, type PickedRun } from './compare/compare-set';
import { replayEvents } from './compare/replay';
import type { RunState } from './state/store';
import { errorText } from '../engine/errors';

/**
 * The runs picked for comparison as chart-ready states: stored runs replayed from their event logs,
 * the run going now taken live. The legend of each run says what differs from the others.
 */
export function useCompare(opts: { store: RunStore | null; ids: string[]; open: boolean; records: RunRecord[]; liveId: string | null; live: RunState }) {
  const { store, ids, open, records, liveId, live } = opts;
  const [loaded, setLoaded] = useState<Map<string, RunState>>(new Map());
  const [error, setError] = useState<string | null>(null);
  // Reload when the picked runs change or a stored run got new events (e.g. it finished).
  const stamp = ids.map((id) => `${id}:${records.find((r) => r.id === id)?.eventCount ?? 0}`).join(',');

  useEffect(() => {
    if (!open || !store) return;
    let alive = true;
    (async () => {
      const next = new Map<string, RunState>();
      for (const id of ids) {
        if (id === liveId) continue;
        next.set(id, replayEvents(await store.getEvents(id)));
      }
      if (alive) {
        setLoaded(next);
        setError(null);
      }
    })().catch((e) => alive && setError(`could not load the runs: ${errorText(e)}`));
    return () => {
      alive = false;
    };
    // `stamp` stands for ids and their event counts
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [open, store, stamp, liveId]);

  const runs = useMemo(() => {
    const picked = ids
      .map((id) => ({ id, record: records.find((r) => r.id === id), state: id === liveId ? live : loaded.get(id) }))
      .filter((x): x is PickedRun => !!x.record && !!x.state);
    return compareSet(picked, liveId);
  }, [ids, records, liveId, live, loaded]);

  return { ...runs, error };
}
