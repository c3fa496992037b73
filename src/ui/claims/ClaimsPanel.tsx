import { memo, useMemo } from 'react';
import type { RunRecord } from '../../runs/records';
import '../compare/compare.css';
import './claims.css';
import { batchesIn, batchReport, PAPER } from './claims';
import { armAccuracyText, costText, DATA_CAVEAT, reportCsv, reportMarkdown, seedsText, VERDICT_LABEL } from './report';
import { NOISE_RULE, sampleText } from './stats';

export interface ClaimsPanelProps {
  /** The stored runs (the batch's are picked out by id). */
  records: readonly RunRecord[];
  batchId: string;
  /** Another stored batch was picked. */
  onPickBatch?: (id: string) => void;
  onClose?: () => void;
  /** Saves a download. */
  save: (blob: Blob, filename: string) => void;
}

const when = (t: number) => new Date(t).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

/** The paper's claims an ablation batch tests, each with what the batch measured and what that says. */
export const ClaimsPanel = memo(function ClaimsPanel({ records, batchId, onPickBatch, onClose, save }: ClaimsPanelProps) {
  const report = useMemo(() => batchReport(records, batchId), [records, batchId]);
  const batches = useMemo(() => batchesIn(records), [records]);
  const runs = report.arms.reduce((n, a) => n + a.runs.length, 0);
  const file = `lrpet-claims-${batchId.replace(/[^A-Za-z0-9-]+/g, '-')}`;
  return (
    <section className="claims-panel" data-testid="claims-panel" aria-label="The paper's claims, measured">
      <div className="compare-title">
        <h2>
          The paper&apos;s claims, measured{' '}
          <span className="muted small">
            batch of {runs} run{runs === 1 ? '' : 's'}, {when(report.createdAt)}
          </span>
        </h2>
        <div className="claims-tools">
          {onPickBatch && batches.length > 1 ? (
            <select aria-label="Ablation batch" value={batchId} onChange={(e) => onPickBatch(e.target.value)}>
              {batches.map((b) => (
                <option key={b.id} value={b.id}>
                  {when(b.createdAt)} · {b.runs} run{b.runs === 1 ? '' : 's'}
                </option>
              ))}
            </select>
          ) : null}
          <button type="button" className="small" onClick={() => save(new Blob([reportMarkdown(report)], { type: 'text/markdown' }), `${file}.md`)}>
            Download report (.md)
          </button>
          <button type="button" className="small" onClick={() => save(new Blob([reportCsv(report)], { type: 'text/csv' }), `${file}.csv`)}>
            Download runs (.csv)
          </button>
          {onClose ? (
            <button type="button" className="secondary" onClick={onClose}>
              Close
            </button>
          ) : null}
        </div>
      </div>
      <div className="claims-body">
        <p className="compare-common" data-testid="claims-context">
          {report.common.join(' · ')}
          {report.common.length ? ' · ' : ''}
          {seedsText(report)} · backend {report.backends.join(', ') || 'not recorded'} · data: {report.data.join('; ') || 'not recorded'}
        </p>
        <p className="muted small" data-testid="claims-noise-rule">
          Claims from {PAPER}. Noise rule: {NOISE_RULE}.
        </p>
        {report.notCounted.length ? (
          <p className="callout warn">Not counted (did not finish): {report.notCounted.join('; ')}</p>
        ) : null}
        <ol className="claims-list">
          {report.claims.map((c) => (
            <li key={c.spec.id} data-testid="claim" data-claim={c.spec.id} data-verdict={c.verdict}>
              <p className="claim-statement">
                {c.spec.statement} <span className="muted small">— {c.spec.reference}</span>
              </p>
              {c.measured ? <p data-testid="claim-measured">{c.measured}</p> : null}
              {c.method && c.alternative && c.verdict !== 'not-run' ? (
                <p className="muted small">
                  MACs of the compact model: {c.method.label} {costText(c.method.macs, c.method.macsDense)}, {c.alternative.label} {costText(c.alternative.macs, c.alternative.macsDense)}
                </p>
              ) : null}
              <p data-testid="claim-conclusion">
                <span className={`verdict ${c.verdict}`}>{VERDICT_LABEL[c.verdict]}</span> {c.conclusion}
              </p>
            </li>
          ))}
        </ol>
        <div className="table-wrap">
          <table className="result-table" data-testid="claims-arms">
            <thead>
              <tr>
                <th scope="col">Arm</th>
                <th scope="col">What differs</th>
                <th scope="col">Runs counted</th>
                <th scope="col">Final test accuracy</th>
                <th scope="col">Last-epoch test accuracy</th>
                <th scope="col">MACs</th>
                <th scope="col">Parameters</th>
              </tr>
            </thead>
            <tbody>
              {report.arms.map((a) => (
                <tr key={a.arm} data-testid="claims-arm" data-arm={a.arm}>
                  <th scope="row">{a.label}</th>
                  <td className="compare-diff">{a.differs || '–'}</td>
                  <td>
                    {a.runs.filter((m) => m.counted).length} of {a.runs.length}
                  </td>
                  <td className="acc" data-testid="claims-arm-accuracy">
                    {armAccuracyText(a)} {a.accuracy ? <span className="muted small">{a.accuracyOf === 'compact' ? 'compact model' : a.accuracyOf}</span> : null}
                  </td>
                  <td>{a.lastEpoch ? sampleText(a.lastEpoch) : '–'}</td>
                  <td>{costText(a.macs, a.macsDense)}</td>
                  <td>{costText(a.params, a.paramsDense)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <p className="compare-note">
          {DATA_CAVEAT} Final test accuracy is the compact model’s when the run built one, else (the dense baseline) the last epoch’s; ± is the sample standard deviation over seeds.
        </p>
      </div>
    </section>
  );
});
