import type { RunRecord } from '../../runs/store';
import { describeDifferences, type ComparedConfig } from '../state/config-diff';
import type { RunState } from '../state/store';
import { palette } from './palette';
import type { CompareRun } from './types';

export interface PickedRun {
  id: string;
  record: RunRecord;
  state: RunState;
}

/**
 * The runs of a comparison, each with its colour and a legend of what sets it apart from the others, and
 * what they share. A run is described by the settings it ended with (or has now): its live changes count,
 * not only what it started with.
 */
export function compareSet(picked: readonly PickedRun[], liveId: string | null): { runs: CompareRun[]; common: string } {
  const configs = picked.map((p) => (p.state.config ?? p.record.config) as ComparedConfig | null);
  const diff = configs.every((c) => c !== null) ? describeDifferences(configs as ComparedConfig[]) : null;
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
}
