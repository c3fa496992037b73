import { useState } from 'react';
import { ABLATION_IDS, ablationBatch, skippedAblations, type AblationId } from '../state/ablations';
import type { FormState } from '../state/form';

/** Picks which of the paper's ablations to run as one batch (same seed, data and schedule for all). */
export function AblationPanel({ form, disabled, onRun, onClose }: { form: FormState; disabled: boolean; onRun: (ids: AblationId[]) => void; onClose: () => void }) {
  const [picked, setPicked] = useState<AblationId[]>([...ABLATION_IDS]);
  const all = ablationBatch(form);
  // Ablations that need another one of the batch (LRPET from the dense baseline) are skipped without it.
  const possible = ablationBatch(form, picked);
  const skipped = skippedAblations(form, picked);
  const runnable = picked.filter((id) => possible.some((a) => a.id === id));
  return (
    <div className="batch-panel" data-testid="ablation-panel">
      <b>Ablation batch</b> — one run after another, same seed, data and schedule ({form.model}, {form.epochs} epoch{form.epochs === 1 ? '' : 's'}):
      {all.map((a) => (
        <div key={a.id}>
          <label>
            <input
              type="checkbox"
              checked={picked.includes(a.id)}
              onChange={(e) => setPicked((p) => (e.target.checked ? [...p, a.id] : p.filter((x) => x !== a.id)))}
            />{' '}
            {a.label}
          </label>
          <div className="why">{a.description}</div>
        </div>
      ))}
      {skipped.map((s) => (
        <div key={s.id} className="why">
          {s.label}: not possible here — {s.reason}
        </div>
      ))}
      <div className="run-actions">
        <button type="button" className="primary small" disabled={disabled || !runnable.length} onClick={() => onRun(runnable)}>
          Run batch
        </button>
        <button type="button" className="small" onClick={onClose}>
          Close
        </button>
      </div>
    </div>
  );
}
