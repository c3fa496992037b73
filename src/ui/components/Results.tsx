import { memo } from 'react';
import type { CompactEvent, RunStartEvent } from '../../engine/events';
import { fmtCount, fmtPct, fmtReduction } from '../state/format';
import './results.css';

export const Results = memo(function Results({
  start,
  compact,
  exports,
  onDownloadModel,
  onDownloadFiles,
  onDownloadSafetensors,
  onDownloadOnnx,
  onDownloadLog,
  canDownloadLog,
}: {
  start: RunStartEvent | null;
  compact: CompactEvent | null;
  exports: { compact: boolean; projected: boolean; pytorch: { compact: boolean; projected: boolean } };
  onDownloadModel: (which: 'compact' | 'projected') => void;
  onDownloadFiles: (which: 'compact' | 'projected') => void;
  onDownloadSafetensors: (which: 'compact' | 'projected') => void;
  /** The model as an ONNX file (inference only, BN folded, NCHW input): what deployment runtimes read. */
  onDownloadOnnx: (which: 'compact' | 'projected') => void;
  onDownloadLog: () => void;
  canDownloadLog: boolean;
}) {
  if (!start && !canDownloadLog) return null;
  const splits = compact?.layers.filter((l) => l.split).length ?? 0;
  const zeros = compact?.layers.filter((l) => l.zero).length ?? 0;
  const dense = compact ? compact.layers.length - splits : 0;
  const recal = compact?.bnRecalibration ?? null;
  return (
    <section className="results" aria-label="Result" data-testid="results">
      {compact ? (
        <table className="result-table" data-testid="compact-result">
          <thead>
            <tr>
              <th />
              <th scope="col">Test accuracy</th>
              <th scope="col">MACs</th>
              <th scope="col">Parameters</th>
            </tr>
          </thead>
          <tbody>
            {recal ? (
              <tr className="recal-row" data-testid="bn-recalibration">
                <th scope="row">Projected, before BN recalibration</th>
                <td data-testid="recal-before-accuracy">{fmtPct(recal.testAccuracyBefore, 2)}</td>
                <td colSpan={2} className="hint">
                  running statistics recomputed over {recal.batches.toLocaleString('en')} training batch{recal.batches === 1 ? '' : 'es'}: {fmtPct(recal.testAccuracyBefore, 2)} →{' '}
                  {fmtPct(recal.testAccuracyAfter, 2)}
                </td>
              </tr>
            ) : null}
            <tr>
              <th scope="row">Dense network (projected{recal ? ', BN recalibrated' : ''})</th>
              <td data-testid="dense-accuracy">{fmtPct(compact.denseTestAccuracy, 2)}</td>
              <td>{fmtCount(compact.macsDense)}</td>
              <td>{fmtCount(compact.paramsDense)}</td>
            </tr>
            <tr className="compact-row">
              <th scope="row">Compact model (split convs)</th>
              <td data-testid="compact-accuracy">{fmtPct(compact.testAccuracy, 2)}</td>
              <td>
                {fmtCount(compact.macsCompact)} <span className="delta">{fmtReduction(compact.macsDense, compact.macsCompact)}</span>
              </td>
              <td>
                {fmtCount(compact.paramsCompact)} <span className="delta">{fmtReduction(compact.paramsDense, compact.paramsCompact)}</span>
              </td>
            </tr>
          </tbody>
          <caption>
            The compact model replaces each projected k×k conv by a k×k conv to r channels and a 1×1 conv ({splits} split
            {dense ? `, ${dense} kept dense because splitting would not save anything` : ''}
            {zeros ? `, ${zeros} dead layers output zeros` : ''}); it computes the same function as the projected network.
            {compact.hardProjection ? ' The run projected softly (β > 0, every layer stays full rank), so one hard projection (β = 0) cut the layers to rank r before the split.' : ''}{' '}
            Evaluated on {start?.testSize.toLocaleString('en')} test images.
          </caption>
        </table>
      ) : null}
      <div className="downloads">
        <button type="button" onClick={() => onDownloadModel('compact')} disabled={!exports.compact}>
          Download compact model (.zip)
        </button>
        <button type="button" className="secondary" onClick={() => onDownloadFiles('compact')} disabled={!exports.compact}>
          model.json + weights.bin
        </button>
        <button type="button" className="secondary" onClick={() => onDownloadModel('projected')} disabled={!exports.projected}>
          Download dense model (.zip)
        </button>
        <button type="button" className="secondary" onClick={() => onDownloadSafetensors('projected')} disabled={!exports.pytorch.projected} data-testid="download-pytorch-projected">
          Download for PyTorch: projected
        </button>
        <button type="button" className="secondary" onClick={() => onDownloadSafetensors('compact')} disabled={!exports.pytorch.compact} data-testid="download-pytorch-compact">
          compact (.safetensors)
        </button>
        <button type="button" className="secondary" onClick={() => onDownloadOnnx('compact')} disabled={!exports.compact} data-testid="download-onnx-compact">
          Download ONNX: compact
        </button>
        <button type="button" className="secondary" onClick={() => onDownloadOnnx('projected')} disabled={!exports.projected} data-testid="download-onnx-projected">
          Download ONNX: dense
        </button>
        <button type="button" className="secondary" onClick={onDownloadLog} disabled={!canDownloadLog}>
          Download event log (.jsonl)
        </button>
        <span className="hint">
          TensorFlow.js graph models: <code>await tf.loadGraphModel(&apos;…/model.json&apos;)</code>; input 'input' [n, 32, 32, 3] normalised with the CIFAR mean/std, output 'logits'.
          PyTorch: state_dicts with the official names (<code>load_state_dict(…, strict=True)</code>); the compact one loads with <code>reference/pytorch/lrpet_compact.py</code>. ONNX (opset 13, BN folded): input 'input' [n, 3, 32, 32] (NCHW), output 'logits'.
        </span>
      </div>
    </section>
  );
});
