import type { ReactNode } from 'react';
import type { CompareRun } from './types';

/** Colour, name and what differs, once per run: the key to every compare chart. */
function CompareLegend({ runs }: { runs: CompareRun[] }) {
  return (
    <ul className="compare-legend" data-testid="compare-legend" aria-label="Runs compared">
      {runs.map((r, i) => (
        <li key={`${i}:${r.id}`} className="compare-legend-item" data-testid="compare-legend-item">
          <i className="compare-swatch" style={{ background: r.color }} aria-hidden="true" />
          <span className="compare-name">{r.name}</span>
          {r.legend ? <span className="compare-diff">{r.legend}</span> : null}
          {r.live ? <span className="live-tag">live</span> : null}
        </li>
      ))}
    </ul>
  );
}

/** The shared header above the charts: what all runs have in common, then the legend. */
export function CompareHeader({ runs, common }: { runs: CompareRun[]; common?: ReactNode }) {
  return (
    <div className="compare-header">
      {common ? (
        <p className="compare-common" data-testid="compare-common">
          {common}
        </p>
      ) : null}
      <CompareLegend runs={runs} />
    </div>
  );
}
