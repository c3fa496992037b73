import { useState } from 'react';
import '../runs.css';
import type { RunRecord } from '../../runs/store';
import { fmtBytes, fmtPct } from '../state/format';
import type { Runs } from '../useRuns';

const STATUS: Record<RunRecord['status'], string> = {
  running: 'running',
  paused: 'paused',
  interrupted: 'interrupted',
  stopped: 'stopped',
  finished: 'finished',
  failed: 'failed',
  imported: 'imported',
};

const when = (t: number) => new Date(t).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

function RunRow({
  run,
  current,
  busy,
  selected,
  onToggle,
  onResume,
  onMeasureSpeed,
  canMeasureSpeed,
  runs,
}: {
  run: RunRecord;
  current: boolean;
  busy: boolean;
  selected: boolean;
  onToggle: () => void;
  onResume: (id: string) => void;
  onMeasureSpeed: (id: string) => void;
  canMeasureSpeed: boolean;
  runs: Runs;
}) {
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(run.name);
  const acc = run.summary.compactAccuracy ?? run.summary.testAccuracy;
  const resumable = !current && run.checkpoint !== null && (run.status === 'interrupted' || run.status === 'stopped' || run.status === 'paused' || run.status === 'failed');
  return (
    <li className={`run-item${current ? ' current' : ''}`} data-testid="run-item" data-run-id={run.id}>
      <label className="run-select" title="Overlay this run in the comparison">
        <input type="checkbox" checked={selected} onChange={onToggle} aria-label={`Compare ${run.name}`} />
      </label>
      <div className="run-main">
        {editing ? (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void runs.rename(run.id, name);
              setEditing(false);
            }}
          >
            <input aria-label="Run name" value={name} maxLength={120} onChange={(e) => setName(e.target.value)} autoFocus onBlur={() => setEditing(false)} onKeyDown={(e) => e.key === 'Escape' && setEditing(false)} />
          </form>
        ) : (
          <div className="run-name" data-testid="run-name">
            {run.name}
          </div>
        )}
        <div className="run-meta muted">
          <span className={`badge ${run.status}`} data-testid="run-status">
            {current ? 'this run' : STATUS[run.status]}
          </span>{' '}
          {run.config?.model ?? '?'} · it {run.summary.iteration}
          {acc !== null ? ` · test ${fmtPct(acc)}` : ''}
          {run.batch ? ` · batch: ${run.batch.label}` : ''} · {when(run.updatedAt)}
          {run.checkpoint ? ` · checkpoint at it ${run.checkpoint.iteration}` : ''}
        </div>
        <div className="run-actions">
          {resumable ? (
            <button type="button" className="primary small" onClick={() => onResume(run.id)} disabled={busy}>
              Resume
            </button>
          ) : null}
          <button type="button" className="small" onClick={() => { setName(run.name); setEditing(true); }}>
            Rename
          </button>
          <button type="button" className="small" onClick={() => void runs.exportOne(run.id)}>
            Export
          </button>
          {run.hasModel && run.config ? (
            <button
              type="button"
              className="small"
              onClick={() => onMeasureSpeed(run.id)}
              disabled={!canMeasureSpeed}
              title="Time its compact model against the dense architecture on this backend"
              data-testid="run-measure-speed"
            >
              Inference speed
            </button>
          ) : null}
          <button
            type="button"
            className="small danger"
            disabled={current && busy}
            onClick={() => {
              if (confirm(`Delete “${run.name}” and everything stored with it?`)) void runs.remove(run.id);
            }}
          >
            Delete
          </button>
        </div>
      </div>
    </li>
  );
}

/** The runs kept in this browser: resume, rename, delete, export, import, pick for comparison; storage use. */
export function RunsPanel({
  runs,
  currentId,
  busy,
  selected,
  setSelected,
  onResume,
  onCompare,
  onMeasureSpeed,
  canMeasureSpeed,
  compactZip,
}: {
  runs: Runs;
  /** Turns an imported compact .safetensors into the graph model a run keeps (the training worker does it). */
  compactZip?: (bytes: Uint8Array, name: string) => Promise<Uint8Array>;
  currentId: string | null;
  busy: boolean;
  selected: string[];
  setSelected: (ids: string[]) => void;
  onResume: (id: string) => void;
  onCompare: () => void;
  onMeasureSpeed: (id: string) => void;
  canMeasureSpeed: boolean;
}) {
  const toggle = (id: string) => setSelected(selected.includes(id) ? selected.filter((x) => x !== id) : [...selected, id]);
  const est = runs.usage?.estimate;
  return (
    <div className="runs-panel" data-testid="runs-panel">
      {runs.storeProblem ? (
        <div className="callout error" role="alert">
          {runs.storeProblem}
        </div>
      ) : null}
      <div className="runs-head">
        <span className="muted" data-testid="storage-usage">
          {runs.usage ? `${runs.runs.length} run${runs.runs.length === 1 ? '' : 's'} · ${fmtBytes(runs.usage.runs)}` : '…'}
          {est ? ` · browser storage ${fmtBytes(est.usage)} of ${fmtBytes(est.quota)}` : ''}
        </span>
        <button type="button" className="small" disabled={selected.length < 1} onClick={onCompare} data-testid="compare-button">
          Compare {selected.length ? `(${selected.length})` : ''}
        </button>
      </div>
      {runs.warning ? (
        <div className="callout warn" role="alert">
          {runs.warning}
        </div>
      ) : null}
      <ul className="run-list">
        {runs.runs.map((r) => (
          <RunRow key={r.id} run={r} current={r.id === currentId} busy={busy} selected={selected.includes(r.id)} onToggle={() => toggle(r.id)} onResume={onResume} onMeasureSpeed={onMeasureSpeed} canMeasureSpeed={canMeasureSpeed} runs={runs} />
        ))}
      </ul>
      <label className="file-button small">
        Import runs (.lrpet.zip, .jsonl; with a trainer's compact.safetensors)
        <input
          type="file"
          accept=".zip,.jsonl,.json,.ndjson,.safetensors,application/zip,application/x-ndjson"
          multiple
          data-testid="import-input"
          onChange={(e) => {
            const files = [...(e.target.files ?? [])];
            e.target.value = '';
            if (files.length) void runs.importFiles(files, compactZip);
          }}
        />
      </label>
      {runs.importStatus ? (
        <div className={`callout ${runs.importStatus.ok ? 'info' : 'error'} pre`} role={runs.importStatus.ok ? 'status' : 'alert'} data-testid="import-status">
          {runs.importStatus.message}
        </div>
      ) : null}
      {runs.exportStatus ? (
        <div className={`callout ${runs.exportStatus.ok ? 'info' : 'error'}`} role={runs.exportStatus.ok ? 'status' : 'alert'} data-testid="export-status">
          {runs.exportStatus.message}
        </div>
      ) : null}
    </div>
  );
}
