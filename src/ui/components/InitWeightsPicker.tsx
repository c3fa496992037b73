import { useRef } from 'react';
import type { InitWeights } from '../state/init-weights';

/** "Start from weights…": a .safetensors file of the model's dense weights (PyTorch names), checked before any run. */
export function InitWeightsPicker({
  weights,
  problem,
  disabled,
  onPick,
  onClear,
}: {
  weights: InitWeights | null;
  problem: string | null;
  disabled: boolean;
  onPick: (file: File) => void;
  onClear: () => void;
}) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <div className="init-weights" data-testid="init-weights">
      <button type="button" className="small" disabled={disabled} onClick={() => input.current?.click()}>
        Start from weights…
      </button>
      <input
        ref={input}
        type="file"
        accept=".safetensors"
        hidden
        data-testid="init-weights-input"
        onChange={(e) => {
          const f = e.target.files?.[0];
          e.target.value = '';
          if (f) onPick(f);
        }}
      />
      {weights ? (
        <span className={problem ? 'muted' : undefined}>
          {' '}
          next run starts from <b data-testid="init-weights-name">{weights.name}</b>{' '}
          <button type="button" className="small" onClick={onClear} disabled={disabled}>
            Clear
          </button>
        </span>
      ) : (
        <span className="muted"> a .safetensors of the model&apos;s weights with the PyTorch names (e.g. a run&apos;s projected.safetensors)</span>
      )}
      {problem ? (
        <div className="callout error" role="alert" data-testid="init-weights-error">
          {problem}
        </div>
      ) : null}
    </div>
  );
}
