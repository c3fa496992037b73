import { memo } from 'react';
import type { LayerInfo } from '../../engine/events';
import { isLive, SETTINGS, spec, type FormId } from '../../engine/settings';
import { fmtCount, fmtReduction } from '../state/format';
import { presetLink, RANGES } from '../state/url';
import { PRESETS, type FormState, type PlanResult, type Preset } from '../state/form';
import { NumberField, Section, Select, Slider, Toggle } from './fields';
import { RankTable } from './RankTable';

type RangeId = keyof typeof RANGES;

/** The rank multiples the page offers: powers of two, which GPU kernels' vector loads like. */
const RANK_MULTIPLES = [1, 2, 4, 8, 16] as const;
type RankMultiple = (typeof RANK_MULTIPLES)[number];

/** Label, help and the live badge of a setting, from the settings table (src/engine/settings.ts). */
const described = (id: FormId) => ({ label: spec(id).label, hint: spec(id).help, live: isLive(id) });

/** The above plus the limits the page allows (the table's page range). */
function limited(id: RangeId) {
  const s = spec(id);
  const r = RANGES[id];
  return { ...described(id), min: r.min, max: r.max, nullLabel: s.kind === 'number' && s.nullable ? s.nullLabel : undefined };
}

const options = <V extends string>(s: { values: readonly V[]; optionLabels: Record<V, string> }) => s.values.map((value) => ({ value, label: s.optionLabels[value] }));

/** An LRPET setting (under lrpet.*, or a page field of the rank plan): nothing to set while LRPET is off. */
const lrpetOnly = (id: FormId) => id !== 'lrpetEnabled' && ((spec(id).path ?? '').startsWith('lrpet.') || (spec(id).path === null && spec(id).plan === true));

export interface ControlsProps {
  form: FormState;
  set: <K extends keyof FormState>(key: K, value: FormState[K]) => void;
  applyPreset: (p: Preset) => void;
  plan: PlanResult;
  /** During a run: the run's current layers (ranks as the engine uses them). */
  runLayers: LayerInfo[] | null;
  running: boolean;
  stepsPerEpoch: number | null;
  /** Shown right after the presets (the data source). */
  children?: React.ReactNode;
}

export const Controls = memo(function Controls({ form, set, applyPreset, plan, runLayers, running, stepsPerEpoch, children }: ControlsProps) {
  const fixed = running; // settings a run cannot change
  /** Settings a run cannot change are fixed while it goes; LRPET's own are off without LRPET. */
  const off = (id: FormId) => (!isLive(id) && running) || (lrpetOnly(id) && !form.lrpetEnabled);
  /** A whole-number box; an empty box means null where the setting allows it, else keeps the value. */
  const count = (id: 'interval' | 'startEpoch' | 'endEpoch' | 'bnRecalibrationBatches' | 'batchSize' | 'epochs' | 'trainLimit' | 'testLimit' | 'seed' | 'gradNormEvery') => ({
    ...limited(id),
    integer: true,
    value: form[id],
    disabled: off(id),
    onChange: (v: number | null) => set(id, (v ?? (limited(id).nullLabel ? null : form[id])) as never),
  });
  const p = plan.plan;
  return (
    <div className="controls">
      <Section title="Presets">
        <div className="presets">
          {PRESETS.map((pr) => (
            // A preset is a link (shareable, opens in a new tab); a plain click applies it in place.
            <a
              key={pr.id}
              className={`preset${fixed ? ' disabled' : ''}`}
              href={presetLink(pr)}
              aria-disabled={fixed}
              title={pr.description}
              onClick={(e) => {
                if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
                e.preventDefault();
                if (!fixed) applyPreset(pr);
              }}
            >
              {pr.name}
            </a>
          ))}
        </div>
      </Section>
      {children}

      <Section title="Model & compression">
        <Select {...described('model')} value={form.model} disabled={off('model')} options={options(SETTINGS.model)} onChange={(m) => set('model', m)} />
        <Toggle {...described('lrpetEnabled')} checked={form.lrpetEnabled} disabled={off('lrpetEnabled')} onChange={(v) => set('lrpetEnabled', v)} hint={form.lrpetEnabled ? null : SETTINGS.lrpetEnabled.help} />
        <div className="segmented" role="radiogroup" aria-label={SETTINGS.compression.label}>
          {options(SETTINGS.compression).map((o) => (
            <label key={o.value}>
              <input type="radio" name="compression" checked={form.compression === o.value} onChange={() => set('compression', o.value)} disabled={off('compression')} />
              {o.label}
            </label>
          ))}
        </div>
        {form.compression === 'prune' ? (
          <Slider id="prune" {...limited('prune')} value={form.prune} step={0.01} format={(v) => v.toFixed(2)} disabled={off('prune')} onChange={(v) => set('prune', v)} />
        ) : (
          <Slider
            id="flops-target"
            {...limited('flopsTarget')}
            value={form.flopsTarget}
            step={0.01}
            format={(v) => `${Math.round(v * 100)}%`}
            disabled={off('flopsTarget')}
            onChange={(v) => set('flopsTarget', v)}
            hint={p ? `solved: p = ${p.prune.toFixed(3)}` : SETTINGS.flopsTarget.help}
          />
        )}
        {form.model === 'vgg16' ? <Toggle {...described('rankFloors')} checked={form.rankFloors} disabled={off('rankFloors')} onChange={(v) => set('rankFloors', v)} /> : null}
        <Select
          {...described('rankMultiple')}
          value={String(form.rankMultiple) as `${RankMultiple}`}
          disabled={off('rankMultiple')}
          options={RANK_MULTIPLES.map((k) => ({ value: `${k}` as `${RankMultiple}`, label: k === 1 ? "1 (the paper's ranks)" : `${k}` }))}
          onChange={(v) => set('rankMultiple', Number(v))}
        />
        {plan.error ? (
          <div className="callout error" role="alert">
            {plan.error}
          </div>
        ) : p ? (
          <div className="cost-preview" aria-live="polite" data-testid="cost-preview">
            <div>
              <span className="k">MACs</span> <span className="v">{fmtCount(p.macsDense)}</span> → <span className="v strong">{fmtCount(p.macsCompact)}</span>{' '}
              <span className="delta">{fmtReduction(p.macsDense, p.macsCompact)}</span>
            </div>
            <div>
              <span className="k">Params</span> <span className="v">{fmtCount(p.paramsDense)}</span> → <span className="v strong">{fmtCount(p.paramsCompact)}</span>{' '}
              <span className="delta">{fmtReduction(p.paramsDense, p.paramsCompact)}</span>
            </div>
          </div>
        ) : null}
        {p ? <RankTable layers={p.layers} runLayers={runLayers} overrides={form.rankOverrides} disabled={off('rankOverrides')} onChange={(o) => set('rankOverrides', o)} /> : null}
      </Section>

      <Section title="Projection schedule">
        <NumberField id="interval" {...count('interval')} nullLabel={stepsPerEpoch ? `${SETTINGS.interval.nullLabel} (${stepsPerEpoch})` : SETTINGS.interval.nullLabel} />
        <div className="two">
          <NumberField id="start-epoch" {...count('startEpoch')} />
          <NumberField id="end-epoch" {...count('endEpoch')} />
        </div>
        <Toggle id="energy-transfer" {...described('energyTransfer')} checked={form.energyTransfer} disabled={off('energyTransfer')} onChange={(v) => set('energyTransfer', v)} />
        <Slider id="beta" {...limited('beta')} value={form.beta} step={0.01} format={(v) => v.toFixed(2)} disabled={off('beta')} onChange={(v) => set('beta', v)} />
        <Toggle id="bn-rect" {...described('bnRectification')} checked={form.bnRectification} disabled={off('bnRectification')} onChange={(v) => set('bnRectification', v)} />
        <NumberField id="bn-recal" {...count('bnRecalibrationBatches')} />
      </Section>

      <Section title="Training">
        <NumberField
          id="lr"
          {...limited('lr')}
          hint={`SGD, momentum ${SETTINGS.momentum.default}, weight decay ${SETTINGS.weightDecay.default.toExponential()}`}
          value={form.lr}
          disabled={off('lr')}
          onChange={(v) => set('lr', v ?? form.lr)}
        />
        <Select
          id="wd-scope"
          {...described('weightDecayScope')}
          value={form.weightDecayScope}
          disabled={off('weightDecayScope')}
          options={options(SETTINGS.weightDecayScope)}
          onChange={(v) => set('weightDecayScope', v)}
        />
        <Select {...described('scheduleKind')} value={form.scheduleKind} disabled={off('scheduleKind')} options={options(SETTINGS.scheduleKind)} onChange={(v) => set('scheduleKind', v)} />
        <div className="two">
          <NumberField id="batch" {...count('batchSize')} />
          <NumberField id="epochs" {...count('epochs')} />
        </div>
        <div className="two">
          <NumberField id="train-limit" {...count('trainLimit')} />
          <NumberField id="test-limit" {...count('testLimit')} />
        </div>
        <div className="two">
          <NumberField id="seed" {...count('seed')} />
          <Toggle id="augment" {...described('augment')} checked={form.augment} disabled={off('augment')} onChange={(v) => set('augment', v)} />
        </div>
        <NumberField
          id="checkpoint-minutes"
          {...limited('checkpointMinutes')}
          value={form.checkpointMinutes}
          disabled={off('checkpointMinutes')}
          onChange={(v) => set('checkpointMinutes', v ?? form.checkpointMinutes)}
        />
        <NumberField id="grad-norm-every" {...count('gradNormEvery')} />
      </Section>
    </div>
  );
});
