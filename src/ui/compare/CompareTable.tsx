import { memo, useMemo } from 'react';
import { fmtCount, fmtDuration, fmtPct, fmtReduction } from '../state/format';
import type { Phase } from '../state/store';
import { summaryRows, type CostCell } from './summary';
import type { CompareRun } from './types';

const PHASE_LABEL: Record<Phase, string> = {
  idle: 'not started',
  loading: 'starting',
  running: 'running',
  paused: 'paused',
  stopping: 'stopping',
  finished: 'finished',
  stopped: 'stopped',
  failed: 'failed',
  interrupted: 'interrupted',
};

function Cost({ cell }: { cell: CostCell | null }) {
  if (!cell) return <>–</>;
  return (
    <>
      {fmtCount(cell.value)} {cell.compact ? <span className="delta">{fmtReduction(cell.dense, cell.value)}</span> : <span className="muted small">dense</span>}
    </>
  );
}

export const CompareTable = memo(function CompareTable({ runs }: { runs: CompareRun[] }) {
  const rows = useMemo(() => summaryRows(runs), [runs]);
  return (
    <section className="results compare-summary" aria-label="Summary">
      <div className="table-wrap">
        <table className="result-table compare-table" data-testid="compare-table">
          <thead>
            <tr>
              <th scope="col">Run</th>
              <th scope="col">What differs</th>
              <th scope="col">Status</th>
              <th scope="col">Trained on</th>
              <th scope="col">Final test accuracy</th>
              <th scope="col">MACs</th>
              <th scope="col">Parameters</th>
              <th scope="col">Time</th>
              <th scope="col">Iterations</th>
              <th scope="col">Inference speed-up</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={`${i}:${r.id}`} data-testid="compare-row" className={r.best ? 'best' : undefined}>
                <th scope="row">
                  <i className="compare-swatch" style={{ background: r.color }} aria-hidden="true" />
                  {r.name}
                </th>
                <td className="compare-diff">{r.legend || '–'}</td>
                <td>
                  <span className={`phase ${r.phase}`}>{PHASE_LABEL[r.phase]}</span>
                  {r.live ? <span className="live-tag compare-live">live</span> : null}
                </td>
                <td data-testid="compare-backend">{r.backend ?? '–'}</td>
                <td className="acc" data-testid="compare-accuracy">
                  {fmtPct(r.accuracy, 2)}
                  {r.accuracySource ? <span className="muted small"> {r.accuracySource === 'compact' ? 'compact' : 'last epoch'}</span> : null}
                  {r.best ? <span className="best-tag">best</span> : null}
                </td>
                <td>
                  <Cost cell={r.macs} />
                </td>
                <td>
                  <Cost cell={r.params} />
                </td>
                <td>{r.timeMs === null ? '–' : fmtDuration(r.timeMs / 1000)}</td>
                <td>{r.iterations.toLocaleString('en')}</td>
                <td data-testid="compare-inference">
                  {r.inference ? (
                    <>
                      {r.inference.speedup.toFixed(2)}× <span className="muted small">batch {r.inference.batch}, {r.inference.backend}; MACs {r.inference.macRatio.toFixed(2)}× fewer</span>
                    </>
                  ) : (
                    '–'
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p className="compare-note">
        Accuracies are measured on the test images loaded in this browser and hold for these runs on that data only; they are not benchmark results. Final accuracy is the compact model’s when one
        was built, else the last epoch’s; MACs and parameters are the compact model’s (change against the dense network) or, without one, the dense network’s; time is the sum of the epochs’ times; inference speed-up is the compact model’s over the dense one, as last measured (Inference speed), at the largest batch timed.
      </p>
    </section>
  );
});
