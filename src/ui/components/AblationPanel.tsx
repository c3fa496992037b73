import { useState } from 'react';
import { MAX_SEEDS_PER_ARM } from '../session/batch';
import { ABLATION_IDS, ablationBatch, skippedAblations, type AblationId } from '../state/ablations';
import type { FormState } from '../state/form';

/** Picks which of the paper's ablations to run as one batch (same seeds, data and schedule for all), and over how many seeds. */
export function AblationPanel({ form, disabled, onRun, onClose }: { form: FormState; disabled: boolean; onRun: (ids: AblationId[], seeds: number) => void; onClose: () => void }) {
  const [picked, setPicked] = useState<AblationId[]>([...ABLATION_IDS]);
  const [seeds, setSeeds] = useState(1);
  const all = ablationBatch(form);
  // Ablations that need another one of the batch (LRPET from the dense baseline) are skipped without it.
  const possible = ablationBatch(form, picked);
  const skipped = skippedAblations(form, picked);
  const runnable = picked.filter((id) => possible.some((a) => a.id === id));
  return (
    <div className="batch-panel" data-testid="ablation-panel">
      <b>Ablation batch</b> — one run after another, same seeds, data and schedule ({form.model}, {form.epochs} epoch{form.epochs === 1 ? '' : 's'}):
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
      <div>
        <label>
          Seeds per arm{' '}
          <input
            type="number"
            min={1}
            max={MAX_SEEDS_PER_ARM}
            step={1}
            value={seeds}
            onChange={(e) => setSeeds(Math.min(MAX_SEEDS_PER_ARM, Math.max(1, Math.round(Number(e.target.value)) || 1)))}
          />
        </label>
        <div className="why">
          Each arm runs with seed {form.seed}
          {seeds > 1 ? ` to ${form.seed + seeds - 1}` : ''} on the same data: {runnable.length * seeds} run{runnable.length * seeds === 1 ? '' : 's'}. With more than one seed the claims
          panel gives mean ± standard deviation and says when a difference is within the noise.
        </div>
      </div>
      <div className="run-actions">
        <button type="button" className="primary small" disabled={disabled || !runnable.length} onClick={() => onRun(runnable, seeds)}>
          Run batch
        </button>
        <button type="button" className="small" onClick={onClose}>
          Close
        </button>
      </div>
    </div>
  );
}
