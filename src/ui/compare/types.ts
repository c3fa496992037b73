import type { RunState } from '../state/store';

/** One run in the compare view. */
export interface CompareRun {
  id: string;
  name: string;
  /** What differs from the others, e.g. 'energy transfer: off'. */
  legend: string;
  color: string;
  state: RunState;
  live: boolean;
}

/** One row of a chart's data array: x plus one value per run, keyed by runKey(i). */
export type ChartRow = Record<string, number | null | undefined>;

/** The data key of run i in chart rows (indices, not ids: Recharts reads dots in a key as a path). */
export const runKey = (i: number): string => `r${i}`;
