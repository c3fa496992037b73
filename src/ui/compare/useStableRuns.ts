import { useState } from 'react';
import type { CompareRun } from './types';

/** Same runs, field by field (the states by reference: the reducer makes a new one on every change). */
function sameRuns(a: readonly CompareRun[], b: readonly CompareRun[]): boolean {
  return (
    a.length === b.length &&
    a.every((r, i) => {
      const o = b[i];
      return r.id === o.id && r.name === o.name && r.legend === o.legend && r.color === o.color && r.state === o.state && r.live === o.live;
    })
  );
}

/**
 * The previous `runs` array while its runs are unchanged, so that memoised charts and derivations do
 * not redo their work when a parent rebuilds the array on every render.
 */
export function useStableRuns(runs: CompareRun[]): CompareRun[] {
  const [kept, setKept] = useState(runs);
  if (kept === runs || sameRuns(kept, runs)) return kept;
  setKept(runs);
  return runs;
}
