import { useEffect } from 'react';
import type { RunState } from './state/store';

const BASE = 'LRPET Playground';
const MARK: Partial<Record<RunState['phase'], string>> = { running: '▶', paused: '⏸', stopping: '■', finished: '✓', stopped: '■', failed: '✗', loading: '…' };

/** The run's progress in the tab title, so a background tab shows how far training got. */
export function useTitleProgress(run: RunState, lastStep: { iteration: number; epoch: number } | null): void {
  const s = run.start;
  const total = s ? s.stepsPerEpoch * s.config.epochs : 0;
  const it = lastStep?.iteration ?? 0;
  const pct = total ? Math.min(100, Math.floor((100 * it) / total)) : 0;
  const epoch = (lastStep?.epoch ?? 0) + 1;
  const title = !s || run.phase === 'idle' ? BASE : `${MARK[run.phase] ?? ''} ${pct}% · epoch ${epoch}/${s.config.epochs} · ${BASE}`.trim();
  useEffect(() => {
    document.title = title;
  }, [title]);
}
