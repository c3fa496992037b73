import { useId, useState, type ReactNode } from 'react';
import { fmtAmount } from '../state/format';
import './fields.css';

interface Common {
  label: string;
  hint?: ReactNode;
  disabled?: boolean;
  /** Marks controls that can be changed during a run. */
  live?: boolean;
  id?: string;
}

function Hint({ hint, live }: { hint?: ReactNode; live?: boolean }) {
  if (!hint && !live) return null;
  return (
    <div className="hint">
      {live ? <span className="live-tag" title="can be changed while training">live</span> : null}
      {hint}
    </div>
  );
}

export function Slider(p: Common & { value: number; min: number; max: number; step: number; onChange: (v: number) => void; format?: (v: number) => string }) {
  const auto = useId();
  const id = p.id ?? auto;
  return (
    <div className="field">
      <div className="field-head">
        <label htmlFor={id}>{p.label}</label>
        <output htmlFor={id}>{p.format ? p.format(p.value) : p.value}</output>
      </div>
      <input id={id} type="range" min={p.min} max={p.max} step={p.step} value={p.value} disabled={p.disabled} onChange={(e) => p.onChange(Number(e.target.value))} />
      <Hint hint={p.hint} live={p.live} />
    </div>
  );
}

/**
 * A number box that keeps what the user types and commits only valid values (so "0." or an empty
 * box while typing does not reset the field).
 */
export function NumberField(p: Common & { value: number | null; min?: number; max?: number; step?: number | 'any'; integer?: boolean; nullLabel?: string; onChange: (v: number | null) => void }) {
  const auto = useId();
  const id = p.id ?? auto;
  const [text, setText] = useState(p.value === null ? '' : String(p.value));
  const [bad, setBad] = useState(false);
  const [shown, setShown] = useState(p.value);
  if (shown !== p.value) {
    // The value changed from outside (a preset, a reset): show it, unless the text already means it.
    setShown(p.value);
    if (!(text !== '' && Number(text) === p.value)) setText(p.value === null ? '' : String(p.value));
    setBad(false);
  }
  const commit = (t: string) => {
    setText(t);
    if (t.trim() === '' && p.nullLabel) {
      setBad(false);
      p.onChange(null);
      return;
    }
    const v = Number(t);
    const ok = t.trim() !== '' && Number.isFinite(v) && (p.min === undefined || v >= p.min) && (p.max === undefined || v <= p.max) && (!p.integer || Number.isInteger(v));
    setBad(!ok);
    if (ok) p.onChange(v);
  };
  return (
    <div className="field">
      <div className="field-head">
        <label htmlFor={id}>{p.label}</label>
      </div>
      <input
        id={id}
        type="number"
        inputMode="decimal"
        value={text}
        min={p.min}
        max={p.max}
        step={p.step ?? (p.integer ? 1 : 'any')}
        placeholder={p.nullLabel}
        disabled={p.disabled}
        aria-invalid={bad}
        onChange={(e) => commit(e.target.value)}
      />
      {bad ? (
        <div className="hint bad">
          {p.integer ? 'a whole number' : 'a number'}
          {p.min !== undefined ? ` ≥ ${p.min}` : ''}
          {p.max !== undefined ? ` and ≤ ${p.max}` : ''}
        </div>
      ) : null}
      <Hint hint={p.hint} live={p.live} />
    </div>
  );
}

export function Toggle(p: Common & { checked: boolean; onChange: (v: boolean) => void }) {
  const auto = useId();
  const id = p.id ?? auto;
  return (
    <div className="field toggle">
      <input id={id} type="checkbox" checked={p.checked} disabled={p.disabled} onChange={(e) => p.onChange(e.target.checked)} />
      <label htmlFor={id}>{p.label}</label>
      <Hint hint={p.hint} live={p.live} />
    </div>
  );
}

export function Select<T extends string>(p: Common & { value: T; options: { value: T; label: string }[]; onChange: (v: T) => void }) {
  const auto = useId();
  const id = p.id ?? auto;
  return (
    <div className="field">
      <div className="field-head">
        <label htmlFor={id}>{p.label}</label>
      </div>
      <select id={id} value={p.value} disabled={p.disabled} onChange={(e) => p.onChange(e.target.value as T)}>
        {p.options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      <Hint hint={p.hint} live={p.live} />
    </div>
  );
}

export function Section({ title, children, aside }: { title: string; children: ReactNode; aside?: ReactNode }) {
  return (
    <section className="panel-section">
      <h2>
        {title}
        {aside ? <span className="section-aside">{aside}</span> : null}
      </h2>
      {children}
    </section>
  );
}

/** A wait with what it is doing, how much of it is done (MB) and a bar (indeterminate without a total). */
export function ProgressText({ label, loaded, total, testId }: { label: string; loaded: number; total: number | null; testId?: string }) {
  const amount = fmtAmount(loaded, total);
  return (
    <span className="progress-text" data-testid={testId}>
      {[label, amount].filter(Boolean).join(' — ')} <progress max={total ?? undefined} value={total ? loaded : undefined} aria-label={label || 'progress'} />
    </span>
  );
}
