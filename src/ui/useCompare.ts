import { useEffect, useMemo, useState } from 'react';
import type { RunRecord, RunStore } from '../runs/store';
import { palette } from './compare/palette';
import { replayEvents } from './compare/replay';
import type { CompareRun } from './compare/types';
import { describeDifferences, type ComparedConfig } from './state/config-diff';
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

  const runs = useMemo((): { runs: CompareRun[]; common: string } => {
    const picked = ids
      .map((id) => ({ id, record: records.find((r) => r.id === id), state: id === liveId ? live : loaded.get(id) }))
      .filter((x): x is { id: string; record: RunRecord; state: RunState } => !!x.record && !!x.state);
    const configs = picked.map((p) => (p.state.start?.config ?? p.record.config) as ComparedConfig | null);
    const withConfig = configs.every((c) => c !== null);
    const diff = withConfig ? describeDifferences(configs as ComparedConfig[]) : null;
    return {
      runs: picked.map((p, i) => ({
        id: p.id,
        name: p.record.name,
        legend: diff ? diff.perRun[i].join(', ') : '',
        color: palette(i),
        state: p.state,
        live: p.id === liveId,
      })),
      common: diff ? diff.common.join(' · ') : '',
    };
  }, [ids, records, liveId, live, loaded]);

  return { ...runs, error };
}
