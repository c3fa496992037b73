import '../../worker/zod-setup'; // as on the page: zod without eval
import { describe, expect, it } from 'vitest';
import { RunConfigSchema } from '../../engine/config';
import { ABLATION_IDS, ablationBatch, ablationIdOfLabel, ablationLabel, fineTuneEpochs, skippedAblations, type AblationConfigInput } from './ablations';
import { describeDifferences, type ComparedConfig } from './config-diff';
import { presetById, toRunConfig, type FormState } from './form';

const quick = presetById('quick').form;
const paper = presetById('paper').form;

const parsed = (c: AblationConfigInput): ComparedConfig => RunConfigSchema.parse(c);

describe('ablationBatch', () => {
  it('all seven, in order, each a valid engine config with the same data, seed, epochs, batch and schedule', () => {
    const form: FormState = { ...quick, seed: 42, scheduleKind: 'step' };
    const batch = ablationBatch(form);
    expect(batch.map((a) => a.id)).toEqual(['lrpet', 'no-et', 'no-bn', 'dense', 'pretrained', 'posthoc', 'scratch']);
    expect(new Set(batch.map((a) => a.label)).size).toBe(7);
    for (const a of batch) {
      expect(a.description.length).toBeGreaterThan(20);
      const c = RunConfigSchema.parse(a.config);
      expect(c).toMatchObject({ seed: 42, trainLimit: 512, testLimit: 500, epochs: 6, batchSize: 32, lr: 0.05, augment: true, model: 'resnet8-tiny' });
      expect(c.schedule).toEqual({ kind: 'step', milestones: [3, 5], gamma: 0.1 });
      expect(c.lrpet.prune).toBe(0.5);
    }
  });

  it('the LRPET run is the form as configured with LRPET on', () => {
    const form: FormState = { ...quick, lrpetEnabled: false, beta: 0.2 };
    const [lrpet] = ablationBatch(form, ['lrpet']);
    expect(lrpet.form).toEqual({ ...form, lrpetEnabled: true });
    expect(lrpet.config).toEqual(toRunConfig({ ...form, lrpetEnabled: true }));
  });

  it('each ablation differs from LRPET in its one switch only', () => {
    const [lrpet, ...others] = ablationBatch(paper).map((a) => ({ ...a, parsed: parsed(a.config) }));
    const expected: Record<string, [string[], string[]]> = {
      'no-et': [['energy transfer: on'], ['energy transfer: off']],
      'no-bn': [['BN rectification: on'], ['BN rectification: off']],
      dense: [['LRPET'], ['dense (no LRPET)']],
      pretrained: [['init: from the seed'], ["init: the dense baseline's final weights"]],
      posthoc: [['LRPET'], ['post-hoc (fine-tune 100 ep)']],
      scratch: [['LRPET'], ['compact from scratch']],
    };
    expect(others.map((o) => o.id)).toEqual(Object.keys(expected));
    for (const o of others) expect(describeDifferences([lrpet.parsed, o.parsed]).perRun, o.id).toEqual(expected[o.id]);
  });

  it('switches: energy transfer, BN rectification, LRPET; the baselines\' own fields', () => {
    const byId = Object.fromEntries(ablationBatch(quick).map((a) => [a.id, a.config]));
    expect(byId['no-et'].lrpet).toMatchObject({ enabled: true, energyTransfer: false, bnRectification: true });
    expect(byId['no-bn'].lrpet).toMatchObject({ enabled: true, energyTransfer: true, bnRectification: false });
    expect(byId.dense.lrpet).toMatchObject({ enabled: false });
    expect(byId.posthoc).toMatchObject({ posthoc: { fineTuneEpochs: 2 }, lrpet: { enabled: true, energyTransfer: false, bnRectification: false } });
    expect(byId.scratch).toMatchObject({ compactFromScratch: true, lrpet: { enabled: true } });
    for (const id of ['lrpet', 'no-et', 'no-bn', 'dense'] as const) {
      expect(byId[id].posthoc).toBeUndefined();
      expect(byId[id].compactFromScratch).toBeUndefined();
    }
  });

  it('post-hoc fine-tunes the last quarter (at least one epoch) and needs two epochs', () => {
    expect([2, 3, 6, 7, 400].map(fineTuneEpochs)).toEqual([1, 1, 2, 2, 100]);
    const one = { ...quick, epochs: 1 };
    expect(ablationBatch(one).map((a) => a.id)).toEqual(['lrpet', 'no-et', 'no-bn', 'dense', 'pretrained', 'scratch']);
    expect(skippedAblations(one)).toEqual([{ id: 'posthoc', label: 'Post-hoc SVD', reason: expect.stringMatching(/needs at least 2 epochs.*this run has 1/) }]);
    expect(skippedAblations(one, ['dense'])).toEqual([]);
    expect(skippedAblations(quick)).toEqual([]);
    expect(ablationBatch({ ...quick, epochs: 2 }, ['posthoc'])[0].config.posthoc).toEqual({ fineTuneEpochs: 1 });
    expect(ablationBatch(paper, ['posthoc'])[0].description).toMatch(/dense for 300 epochs.*fine-tune the compact model for 100 epochs/);
  });

  it('a chosen subset, in the fixed order', () => {
    expect(ablationBatch(quick, ['scratch', 'dense']).map((a) => a.id)).toEqual(['dense', 'scratch']);
    expect(ablationBatch(quick, []).length).toBe(0);
    expect(ABLATION_IDS.length).toBe(7);
  });

  it('LRPET from the dense baseline starts from the dense run of the same batch, with the same epochs and schedule as LRPET', () => {
    const batch = ablationBatch(quick, ['lrpet', 'dense', 'pretrained']);
    const pre = batch.find((a) => a.id === 'pretrained')!;
    expect(pre.initFrom).toBe('dense');
    expect(pre.config.init).toEqual({ name: "the dense baseline's final weights" });
    const lrpet = RunConfigSchema.parse(batch[0].config);
    expect({ ...RunConfigSchema.parse(pre.config), init: null }).toEqual(lrpet);
    expect(ablationBatch(quick, ['lrpet', 'pretrained']).map((a) => a.id)).toEqual(['lrpet']);
    expect(skippedAblations(quick, ['pretrained'])).toEqual([{ id: 'pretrained', label: 'LRPET from the dense baseline', reason: expect.stringMatching(/needs the dense baseline in the same batch/) }]);
  });
});

describe('ablation labels', () => {
  it('from id to label and back; unknown ones are null', () => {
    for (const a of ablationBatch(quick)) {
      expect(ablationLabel(a.id)).toBe(a.label);
      expect(ablationIdOfLabel(a.label)).toBe(a.id);
    }
    expect(ablationLabel('nope')).toBeNull();
    expect(ablationLabel('toString')).toBeNull();
    expect(ablationIdOfLabel('LRPET ')).toBeNull();
  });
});
