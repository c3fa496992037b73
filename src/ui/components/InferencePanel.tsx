import { memo } from 'react';
import type { InferenceEvent, InferenceTiming } from '../../engine/events';
import { gapExplanation, speedupVerdict, TARGET_FRACTION, VARIANT_NAMES } from '../../engine/infer/report';
import type { InferenceJob } from '../session/run-session';
import './inference.css';

const ms = (x: number) => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : x >= 100 ? `${x.toFixed(0)} ms` : x >= 10 ? `${x.toFixed(1)} ms` : `${x.toFixed(2)} ms`);
const rate = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toPrecision(2));

function Timing({ t, testId }: { t: InferenceTiming; testId: string }) {
  return (
    <>
      <span data-testid={testId}>{ms(t.medianMs)}</span>{' '}
      <span className="muted small" title={`${t.samples} timed calls: min ${ms(t.minMs)}, quartiles ${ms(t.q1Ms)}–${ms(t.q3Ms)}, max ${ms(t.maxMs)}`}>
        IQR {ms(t.q1Ms)}–{ms(t.q3Ms)} · {rate(t.imagesPerSec)} img/s
      </span>
    </>
  );
}

function Result({ e }: { e: InferenceEvent }) {
  const v = speedupVerdict(e);
  const why = gapExplanation(e);
  const fused = e.batches.some((b) => b.fused);
  const fastest = e.fastest ?? [];
  return (
    <>
      <table className="result-table" data-testid="inference-table">
        <thead>
          <tr>
            <th scope="col">Batch</th>
            <th scope="col">Dense {e.denseSource === 'projected' ? '(projected)' : '(architecture)'}</th>
            <th scope="col">Compact</th>
            <th scope="col">Speed-up</th>
            {fused ? <th scope="col">Fused forward (engine)</th> : null}
          </tr>
        </thead>
        <tbody>
          {e.batches.map((b) => (
            <tr key={b.batch} data-testid="inference-row" data-batch={b.batch}>
              <th scope="row">
                {b.batch} <span className="muted small">{b.batch === 1 ? 'latency' : 'throughput'}</span>
              </th>
              <td>
                <Timing t={b.dense} testId="inference-dense-ms" />
              </td>
              <td>
                <Timing t={b.compact} testId="inference-compact-ms" />
              </td>
              <td data-testid="inference-speedup">{b.speedup.toFixed(2)}×</td>
              {fused ? (
                <td data-testid="inference-fused">
                  {b.fused ? (
                    <>
                      <Timing t={b.fused} testId="inference-fused-ms" /> <b>{b.fusedSpeedup?.toFixed(2)}×</b>
                    </>
                  ) : (
                    '–'
                  )}
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
        <caption>
          The exported TensorFlow.js graph models (what you download) on {e.backend}
          {e.device ? ` (${e.device})` : ''}: median of {e.iterations} timed calls per model after {e.warmup} warm-up call{e.warmup === 1 ? '' : 's'}, each from the call until the logits are read back,
          dense and compact alternating.{' '}
          {e.denseSource === 'projected'
            ? 'Dense: the run’s projected model.'
            : 'Dense: the dense architecture with random weights (the run’s own dense model is not kept; its speed does not depend on the weights).'}
        </caption>
      </table>
      <p data-testid="inference-ratios">
        <span data-testid="inference-mac-ratio">MACs {e.macRatio.toFixed(2)}× fewer</span>, parameters {e.paramRatio.toFixed(2)}× fewer.
        {v ? (
          <>
            {' '}
            Measured speed-up at batch {v.batch}: <b>{v.speedup.toFixed(2)}×</b>, <span data-testid="inference-fraction">{v.fraction.toFixed(2)}</span> of the MAC reduction{' '}
            {v.meetsTarget ? `(≥ ${TARGET_FRACTION}: time falls about as the MACs do).` : `(below ${TARGET_FRACTION}).`}
          </>
        ) : null}
      </p>
      {e.paddedRanks?.length ? (
        <table className="result-table" data-testid="inference-padded">
          <thead>
            <tr>
              <th scope="col">Ranks padded to</th>
              <th scope="col">MACs</th>
              {e.paddedRanks[0].batches.map((b) => (
                <th key={b.batch} scope="col">
                  Speed-up at batch {b.batch}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {e.paddedRanks.map((p) => (
              <tr key={p.multiple} data-testid="inference-padded-row" data-multiple={p.multiple}>
                <th scope="row">×{p.multiple}</th>
                <td>{p.macRatio.toFixed(2)}× fewer</td>
                {p.batches.map((b) => (
                  <td key={b.batch}>{b.speedup.toFixed(2)}×</td>
                ))}
              </tr>
            ))}
          </tbody>
          <caption>The compact graph model with every split layer's rank padded with zero filters to the multiple (the same function), timed as above.</caption>
        </table>
      ) : null}
      {fastest.length && (fused || e.paddedRanks?.length) ? (
        <p data-testid="inference-fastest">
          Fastest compact variant:{' '}
          {fastest.map((f, i) => (
            <span key={f.batch}>
              {i ? '; ' : ''}batch {f.batch}: {VARIANT_NAMES[f.variant]} ({f.speedup.toFixed(2)}×)
            </span>
          ))}
          .
        </p>
      ) : null}
      {why.length ? (
        <div className="callout info" data-testid="inference-explanation">
          <b>Why the compact model is not {e.macRatio.toFixed(2)}× faster here</b>
          <ul>
            {why.map((w) => (
              <li key={w.slice(0, 40)}>{w}</li>
            ))}
          </ul>
        </div>
      ) : null}
    </>
  );
}

/**
 * Inference speed of the dense and the compact model on this page's backend: after a run (measured
 * automatically on a GPU, on a click on a software renderer), or of a stored run (from the runs list).
 */
export const InferencePanel = memo(function InferencePanel({
  job,
  runEvent,
  shownRunId,
  canMeasure,
  blocked,
  software,
  onMeasure,
  onCancel,
}: {
  job: InferenceJob | null;
  /** The shown run's latest measurement (from its events). */
  runEvent: InferenceEvent | null;
  shownRunId: string | null;
  /** The shown run has a compact model to measure. */
  canMeasure: boolean;
  /** Why nothing can be measured now (a run is going), or null. */
  blocked: string | null;
  software: boolean;
  onMeasure: () => void;
  onCancel: () => void;
}) {
  const other = job !== null && job.runId !== shownRunId;
  const mine = job !== null && !other ? job : null;
  const event = other ? job.event : (mine?.event ?? runEvent);
  const current = other ? job : mine;
  if (!canMeasure && !event && !current) return null;
  const measuring = current?.status === 'measuring';
  return (
    <section className="results inference" aria-label="Inference speed" data-testid="inference-panel">
      <div className="inference-head">
        <b>Inference speed{other ? ` — ${job.runName || 'a stored run'}` : ''}</b>
        {canMeasure && !other ? (
          <button type="button" className="small" onClick={onMeasure} disabled={measuring || blocked !== null} title={blocked ?? undefined} data-testid="inference-measure">
            {event ? 'Measure again' : 'Measure'}
          </button>
        ) : null}
        {measuring ? (
          <>
            <span className="progress-text" data-testid="inference-progress">
              {current.progress ? `${current.progress.label} (${current.progress.loaded}/${current.progress.total})` : 'loading the models'}{' '}
              <progress max={current.progress?.total ?? undefined} value={current.progress?.loaded ?? 0} aria-label="Measuring inference speed" />
            </span>
            <button type="button" className="small secondary" onClick={onCancel}>
              Cancel
            </button>
          </>
        ) : null}
      </div>
      {!event && !measuring && canMeasure ? (
        <p className="muted" data-testid="inference-hint">
          Times the dense and the compact model at batch 1 (latency) and 128 (throughput) on this backend.
          {software ? ' On this software renderer it takes minutes (a few calls per model), so it waits for a click.' : ''}
        </p>
      ) : null}
      {current?.status === 'failed' || current?.status === 'cancelled' ? (
        <div className={`callout ${current.status === 'failed' ? 'error' : 'warn'}`} role="alert" data-testid="inference-error">
          {current.status === 'failed' ? `The measurement failed: ${current.message}` : 'The measurement was cancelled.'}
        </div>
      ) : null}
      {event ? <Result e={event} /> : null}
    </section>
  );
});
