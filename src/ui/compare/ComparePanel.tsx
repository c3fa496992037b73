import { memo, useMemo, type ReactNode } from 'react';
import { Empty } from '../charts/common';
import './compare.css';
import { CompareEnergy } from './CompareEnergy';
import { CompareGradients } from './CompareGradients';
import { CompareLoss } from './CompareLoss';
import { CompareSpectrum } from './CompareSpectrum';
import { CompareTable } from './CompareTable';
import { CompareHeader } from './Legend';
import { safeColor } from './palette';
import type { CompareRun } from './types';
import { useStableRuns } from './useStableRuns';

export interface ComparePanelProps {
  runs: CompareRun[];
  /** What all runs share (e.g. 'resnet20 · p = 0.57 · 10 epochs'), shown under the title. */
  common?: ReactNode;
  onClose?: () => void;
}

/** Several runs overlaid on the same charts, with a shared legend and a summary table. */
export const ComparePanel = memo(function ComparePanel({ runs, common, onClose }: ComparePanelProps) {
  const stable = useStableRuns(runs);
  const shown = useMemo(() => stable.map((r, i) => ({ ...r, color: safeColor(r.color, i) })), [stable]);
  return (
    <section className="compare-panel" data-testid="compare-panel" aria-label="Compare runs">
      <div className="compare-title">
        <h2>
          Compare runs <span className="muted small">{shown.length === 1 ? '1 run' : `${shown.length} runs`}</span>
        </h2>
        {onClose ? (
          <button type="button" className="secondary" onClick={onClose} data-testid="compare-close">
            Close
          </button>
        ) : null}
      </div>
      <CompareHeader runs={shown} common={common} />
      {shown.length ? (
        <>
          <div className="grid compare-grid">
            <CompareLoss runs={shown} />
            <CompareEnergy runs={shown} />
            <CompareSpectrum runs={shown} />
            <CompareGradients runs={shown} />
          </div>
          <CompareTable runs={shown} />
        </>
      ) : (
        <Empty>Choose runs to compare.</Empty>
      )}
    </section>
  );
});
