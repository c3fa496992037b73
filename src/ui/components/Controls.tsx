import { memo } from 'react';
import { MODEL_NAMES, type ModelName } from '../../engine/config';
import type { LayerInfo } from '../../engine/events';
import { fmtCount, fmtReduction } from '../state/format';
import { presetLink } from '../state/url';
import { PRESETS, type FormState, type PlanResult, type Preset } from '../state/form';
import { NumberField, Section, Select, Slider, Toggle } from './fields';
import { RankTable } from './RankTable';

const MODEL_LABELS: Record<ModelName, string> = {
  resnet20: 'ResNet-20',
  resnet32: 'ResNet-32',
  resnet44: 'ResNet-44',
  resnet56: 'ResNet-56',
  resnet110: 'ResNet-110',
  vgg16: 'VGG-16-BN',
  'resnet8-tiny': 'ResNet-8 tiny (8/16/32 ch)',
  'resnet14-narrow': 'ResNet-14 narrow (8/16/32 ch)',
  'vgg-tiny': 'VGG tiny (16-32-64)',
};

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
        <Select
          label="Model"
          value={form.model}
          disabled={fixed}
          options={MODEL_NAMES.map((m) => ({ value: m, label: MODEL_LABELS[m] }))}
          onChange={(m) => set('model', m)}
        />
        <Toggle label="LRPET (low-rank projection)" checked={form.lrpet} disabled={fixed} onChange={(v) => set('lrpet', v)} hint={form.lrpet ? null : 'off: a dense baseline, no projections'} />
        <div className="segmented" role="radiogroup" aria-label="Compression given as">
          <label>
            <input type="radio" name="compression" checked={form.compression === 'prune'} onChange={() => set('compression', 'prune')} disabled={!form.lrpet} />
            Prune ratio
          </label>
          <label>
            <input type="radio" name="compression" checked={form.compression === 'flops'} onChange={() => set('compression', 'flops')} disabled={!form.lrpet} />
            FLOPs target
          </label>
        </div>
        {form.compression === 'prune' ? (
          <Slider
            id="prune"
            label="Prune ratio (p)"
            value={form.prune}
            min={0}
            max={0.95}
            step={0.01}
            format={(v) => v.toFixed(2)}
            disabled={!form.lrpet}
            onChange={(v) => set('prune', v)}
            live
            hint="fraction of each layer's singular values removed: r = ⌊n − n·p⌋"
          />
        ) : (
          <Slider
            id="flops-target"
            label="FLOPs reduction target"
            value={form.flopsTarget}
            min={0.05}
            max={0.95}
            step={0.01}
            format={(v) => `${Math.round(v * 100)}%`}
            disabled={!form.lrpet}
            onChange={(v) => set('flopsTarget', v)}
            live
            hint={p ? `solved: p = ${p.prune.toFixed(3)}` : 'p is solved to remove this share of MACs'}
          />
        )}
        {form.model === 'vgg16' ? (
          <Toggle label="Official VGG rank floors (18, then 43)" checked={form.rankFloors} disabled={fixed || !form.lrpet} onChange={(v) => set('rankFloors', v)} />
        ) : null}
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
        {p ? <RankTable layers={p.layers} runLayers={runLayers} overrides={form.rankOverrides} disabled={!form.lrpet} onChange={(o) => set('rankOverrides', o)} /> : null}
      </Section>

      <Section title="Projection schedule">
        <NumberField
          id="interval"
          label="Projection interval (iterations)"
          value={form.interval}
          min={1}
          max={1000000}
          integer
          nullLabel={stepsPerEpoch ? `one epoch (${stepsPerEpoch})` : 'one epoch'}
          disabled={!form.lrpet}
          onChange={(v) => set('interval', v)}
          live
          hint="empty = once per epoch (the paper)"
        />
        <div className="two">
          <NumberField id="start-epoch" label="Start epoch" value={form.startEpoch} min={0} max={100000} integer disabled={!form.lrpet} onChange={(v) => set('startEpoch', v ?? 0)} live />
          <NumberField
            id="end-epoch"
            label="End epoch"
            value={form.endEpoch}
            min={0}
            max={100000}
            integer
            nullLabel="last"
            disabled={!form.lrpet}
            onChange={(v) => set('endEpoch', v)}
            live
          />
        </div>
        <Toggle
          id="energy-transfer"
          label="Energy transfer"
          checked={form.energyTransfer}
          disabled={!form.lrpet}
          onChange={(v) => set('energyTransfer', v)}
          live
          hint="put the removed energy back on the kept singular values"
        />
        <Slider id="beta" label="β (soft factor)" value={form.beta} min={0} max={0.9} step={0.01} format={(v) => v.toFixed(2)} disabled={!form.lrpet} onChange={(v) => set('beta', v)} live hint="cut values are scaled by β instead of set to 0" />
        <Toggle
          id="bn-rect"
          label="BN rectification"
          checked={form.bnRectification}
          disabled={!form.lrpet}
          onChange={(v) => set('bnRectification', v)}
          live
          hint="project diag(γ/σ)·W, the conv as BN scales it"
        />
      </Section>

      <Section title="Training">
        <NumberField id="lr" label="Learning rate" value={form.lr} min={0.000001} max={10} onChange={(v) => set('lr', v ?? form.lr)} live hint="SGD, momentum 0.9, weight decay 1e-4" />
        <Select
          label="LR schedule"
          value={form.schedule}
          disabled={fixed}
          options={[
            { value: 'step', label: '×0.1 at ½ and ¾ of the run (paper)' },
            { value: 'cosine', label: 'Cosine' },
            { value: 'constant', label: 'Constant' },
          ]}
          onChange={(v) => set('schedule', v)}
        />
        <div className="two">
          <NumberField id="batch" label="Batch size" value={form.batchSize} min={1} max={4096} integer disabled={fixed} onChange={(v) => set('batchSize', v ?? form.batchSize)} />
          <NumberField id="epochs" label="Epochs" value={form.epochs} min={1} max={10000} integer disabled={fixed} onChange={(v) => set('epochs', v ?? form.epochs)} />
        </div>
        <div className="two">
          <NumberField id="train-limit" label="Training images" value={form.trainLimit} min={1} max={50000} integer nullLabel="all 50 000" disabled={fixed} onChange={(v) => set('trainLimit', v)} />
          <NumberField id="test-limit" label="Test images" value={form.testLimit} min={1} max={10000} integer nullLabel="all 10 000" disabled={fixed} onChange={(v) => set('testLimit', v)} />
        </div>
        <div className="two">
          <NumberField id="seed" label="Seed" value={form.seed} min={0} max={2147483647} integer disabled={fixed} onChange={(v) => set('seed', v ?? 0)} />
          <Toggle id="augment" label="Augment (crop + flip)" checked={form.augment} disabled={fixed} onChange={(v) => set('augment', v)} />
        </div>
        <NumberField
          id="checkpoint-minutes"
          label="Checkpoint every (minutes)"
          value={form.checkpointMinutes}
          min={0.05}
          max={120}
          step="any"
          disabled={fixed}
          onChange={(v) => set('checkpointMinutes', v ?? form.checkpointMinutes)}
          hint="also at every pause and stop; kept in this browser so a run survives a reload or a lost GPU"
        />
      </Section>
    </div>
  );
});
