import type { RunConfigInput } from '../../engine/config';
import { toRunConfig, type FormState } from './form';

export type AblationConfigInput = RunConfigInput;

export type AblationId = 'lrpet' | 'no-et' | 'no-bn' | 'dense' | 'pretrained' | 'posthoc' | 'scratch';
export const ABLATION_IDS: readonly AblationId[] = ['lrpet', 'no-et', 'no-bn', 'dense', 'pretrained', 'posthoc', 'scratch'];

export interface AblationRun {
  id: AblationId;
  label: string;
  description: string;
  form: FormState;
  config: AblationConfigInput;
  /** Starts from the final weights of this earlier run of the batch (its projected.safetensors). */
  initFrom?: AblationId;
}

export interface SkippedAblation {
  id: AblationId;
  label: string;
  reason: string;
}

/** Epochs of fine-tuning in the post-hoc baseline: the last quarter of the run, at least one. */
export const fineTuneEpochs = (epochs: number): number => Math.max(1, Math.round(epochs / 4));

interface AblationSpec {
  label: string;
  describe: (f: FormState) => string;
  /** Why this ablation cannot run with this form, or null. */
  skip: (f: FormState, batch: readonly AblationId[]) => string | null;
  form: (f: FormState) => FormState;
  extra: (f: FormState) => Pick<RunConfigInput, 'posthoc' | 'compactFromScratch' | 'init'>;
  initFrom?: AblationId;
}

const never = () => null;
const none = (): Pick<RunConfigInput, 'posthoc' | 'compactFromScratch' | 'init'> => ({});

/** What config.init says for the pre-trained ablation (the weights come from the dense run of the same batch). */
export const DENSE_BASELINE_WEIGHTS = "the dense baseline's final weights";

const SPECS: Record<AblationId, AblationSpec> = {
  lrpet: {
    label: 'LRPET',
    describe: () => 'The settings as configured, with low-rank projection and energy transfer on: the method itself.',
    skip: never,
    form: (f) => ({ ...f, lrpetEnabled: true }),
    extra: none,
  },
  'no-et': {
    label: 'No energy transfer',
    describe: () => 'LRPET without energy transfer: each projection drops the cut energy instead of putting it back on the kept singular values.',
    skip: never,
    form: (f) => ({ ...f, lrpetEnabled: true, energyTransfer: false }),
    extra: none,
  },
  'no-bn': {
    label: 'No BN rectification',
    describe: () => 'LRPET projecting the raw conv weights instead of the weights as scaled by the following BatchNorm.',
    skip: never,
    form: (f) => ({ ...f, lrpetEnabled: true, bnRectification: false }),
    extra: none,
  },
  dense: {
    label: 'Dense baseline',
    describe: () => 'Plain SGD without projections: the uncompressed network, the accuracy to compare against.',
    skip: never,
    form: (f) => ({ ...f, lrpetEnabled: false }),
    extra: none,
  },
  pretrained: {
    label: 'LRPET from the dense baseline',
    describe: () =>
      "LRPET started from the dense baseline's final weights instead of a random initialisation, with the same epochs and schedule as LRPET from scratch: the paper's first claim is that a well pre-trained model is not a good initialisation for the low-rank model.",
    skip: (_f, batch) => (batch.includes('dense') ? null : 'LRPET from the dense baseline needs the dense baseline in the same batch (it starts from its final weights).'),
    form: (f) => ({ ...f, lrpetEnabled: true }),
    extra: () => ({ init: { name: DENSE_BASELINE_WEIGHTS } }),
    initFrom: 'dense',
  },
  posthoc: {
    label: 'Post-hoc SVD',
    describe: (f) => {
      const ft = fineTuneEpochs(f.epochs);
      return `Train dense for ${f.epochs - ft} epoch${f.epochs - ft === 1 ? '' : 's'}, cut every layer to its rank once by plain SVD (no energy transfer, no BN rectification), then fine-tune the compact model for ${ft} epoch${ft === 1 ? '' : 's'}.`;
    },
    skip: (f) =>
      f.epochs < 2
        ? `Post-hoc SVD needs at least 2 epochs (dense training, then at least one epoch of fine-tuning the compact model); this run has ${f.epochs}.`
        : null,
    form: (f) => ({ ...f, lrpetEnabled: true, energyTransfer: false, bnRectification: false }),
    extra: (f) => ({ posthoc: { fineTuneEpochs: fineTuneEpochs(f.epochs) } }),
  },
  scratch: {
    label: 'Compact from scratch',
    describe: () => 'The compact architecture (the same ranks) trained from random initialisation, without ever being dense.',
    skip: never,
    form: (f) => ({ ...f, lrpetEnabled: true }),
    extra: () => ({ compactFromScratch: true }),
  },
};

const selected = (which: readonly AblationId[] | undefined) => ABLATION_IDS.filter((id) => !which || which.includes(id));

/**
 * The paper's ablations of the current form as one batch, in a fixed order. Only the switch each one is
 * about changes: seed, data limits, epochs, batch and schedule are the form's for all of them.
 * Ablations that cannot run with this form are left out (see `skippedAblations`).
 */
export function ablationBatch(form: FormState, which?: readonly AblationId[]): AblationRun[] {
  const ids = selected(which);
  return ids
    .filter((id) => SPECS[id].skip(form, ids) === null)
    .map((id) => {
      const spec = SPECS[id];
      const f = spec.form(form);
      return { id, label: spec.label, description: spec.describe(form), form: f, config: { ...toRunConfig(f), ...spec.extra(form) }, ...(spec.initFrom && { initFrom: spec.initFrom }) };
    });
}

/** The requested ablations that `ablationBatch` leaves out for this form, and why. */
export function skippedAblations(form: FormState, which?: readonly AblationId[]): SkippedAblation[] {
  const ids = selected(which);
  return ids.flatMap((id) => {
    const reason = SPECS[id].skip(form, ids);
    return reason === null ? [] : [{ id, label: SPECS[id].label, reason }];
  });
}

/** The label of an ablation id, or null for an id this page does not know. */
export const ablationLabel = (id: string): string | null => (Object.hasOwn(SPECS, id) ? SPECS[id as AblationId].label : null);

/** The ablation a label names (batch runs stored before their records named the arm carry only the label). */
export const ablationIdOfLabel = (label: string): AblationId | null => ABLATION_IDS.find((id) => SPECS[id].label === label) ?? null;
