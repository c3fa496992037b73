import { describe, expect, it } from 'vitest';
import { parseStoredRunConfig, RunConfigSchema, type RunConfigInput } from '../../engine/config';
import { ablationBatch, type AblationConfigInput } from './ablations';
import { describeDifferences, type ComparedConfig } from './config-diff';
import { presetById, toRunConfig, type FormState } from './form';

const quick = presetById('quick').form;
const parsed = (c: AblationConfigInput): ComparedConfig => RunConfigSchema.parse(c);
const cfg = (f: Partial<FormState>) => parsed(toRunConfig({ ...quick, ...f }));

describe('describeDifferences', () => {
  it('labels the seven ablations by what sets each apart', () => {
    const { common, perRun } = describeDifferences(ablationBatch(quick).map((a) => parsed(a.config)));
    expect(perRun).toEqual([
      ['LRPET', 'energy transfer: on', 'BN rectification: on', 'init: from the seed'],
      ['energy transfer: off'],
      ['BN rectification: off'],
      ['dense (no LRPET)'],
      ["init: the dense baseline's final weights"],
      ['post-hoc (fine-tune 2 ep)'],
      ['compact from scratch'],
    ]);
    expect(common).toEqual([
      'resnet8-tiny',
      'p 0.5',
      'projection every 4 iterations',
      'lr 0.05',
      'momentum 0.9',
      'weight decay 0.0001',
      'wd scope all',
      'constant lr',
      'batch 32',
      '6 epochs',
      'seed 1',
      'train 512 images',
      'test 500 images',
      'augmentation: on',
    ]);
  });

  it('one run: everything is common', () => {
    const { common, perRun } = describeDifferences([cfg({ beta: 0.3, rankOverrides: { 'stem/conv': 2 } })]);
    expect(perRun).toEqual([[]]);
    expect(common).toContain('β 0.3');
    expect(common).toContain('ranks stem/conv:2');
    expect(common).toContain('energy transfer: on');
    expect(describeDifferences([])).toEqual({ common: [], perRun: [] });
  });

  it('two runs: each labelled by its own values of what differs', () => {
    const { common, perRun } = describeDifferences([cfg({ prune: 0.5, lr: 0.1 }), cfg({ prune: 0.7, lr: 0.05 })]);
    expect(perRun).toEqual([
      ['p 0.5', 'lr 0.1'],
      ['p 0.7', 'lr 0.05'],
    ]);
    expect(common).not.toContain('p 0.5');
    expect(common).toContain('seed 1');
  });

  it('where most runs agree, the others are labelled by their departure only', () => {
    expect(describeDifferences([cfg({ prune: 0.5 }), cfg({ prune: 0.5, seed: 2 }), cfg({ prune: 0.7 })]).perRun).toEqual([
      ['p 0.5', 'seed 1'],
      ['seed 2'],
      ['p 0.7'],
    ]);
  });

  it('ignores the LRPET switches of a dense run', () => {
    const dense = cfg({ lrpetEnabled: false, energyTransfer: false, bnRectification: false, beta: 0.5, interval: null, prune: 0.9 });
    expect(describeDifferences([cfg({}), dense]).perRun).toEqual([['LRPET'], ['dense (no LRPET)']]);
    expect(describeDifferences([dense, cfg({ lrpetEnabled: false })]).perRun).toEqual([[], []]);
  });

  it('quiet defaults are left out of the subtitle but shown when they differ', () => {
    const { common, perRun } = describeDifferences([cfg({}), cfg({ rankOverrides: { 'stem/conv': 2 }, beta: 0.2, startEpoch: 1, endEpoch: 4 })]);
    expect(perRun).toEqual([
      ['no rank overrides', 'projections in every epoch', 'β 0'],
      ['ranks stem/conv:2', 'projections in epochs 1–4', 'β 0.2'],
    ]);
    expect(common.join()).not.toMatch(/rank|β|window|floors|dense layers|BN recal/);
  });

  it('names the weight decay scope and BN recalibration where runs differ in them (a stored run from before the scope: kernels)', () => {
    const labels = (a: Partial<FormState>, b: Partial<FormState>) => describeDifferences([cfg(a), cfg(b)]).perRun;
    expect(labels({ weightDecayScope: 'all' }, { weightDecayScope: 'kernels' })).toEqual([['wd scope all'], ['wd scope kernels']]);
    expect(labels({}, { bnRecalibrationBatches: 40 })).toEqual([['BN recal 0'], ['BN recal 40']]);
    const { weightDecayScope: _w, ...old } = cfg({});
    expect(describeDifferences([cfg({}), parseStoredRunConfig(old)]).perRun).toEqual([['wd scope all'], ['wd scope kernels']]);
  });

  it('every setting of the table shows where runs differ in it (gradient-norm sampling, the compact model switch too)', () => {
    const labels = (a: Partial<ComparedConfig>) => describeDifferences([cfg({}), { ...cfg({}), ...a }]).perRun;
    expect(labels({ gradNormEvery: 0 })).toEqual([['grad norms 10'], ['grad norms 0']]);
    expect(labels({ buildCompact: false })).toEqual([['compact model built: on'], ['compact model built: off']]);
    expect(labels({ stepEventEvery: 5 })).toEqual([['step events 1'], ['step events 5']]);
    expect(describeDifferences([cfg({}), cfg({})]).common.join()).not.toMatch(/grad norms|compact|step events/);
  });

  it('spells out targets, schedules, data limits and post-hoc variants', () => {
    const labels = (a: Partial<FormState>, b: Partial<FormState>) => describeDifferences([cfg(a), cfg(b)]).perRun;
    expect(labels({ compression: 'flops', flopsTarget: 0.55 }, { prune: 0.57 })).toEqual([['FLOPs −55%'], ['p 0.57']]);
    expect(labels({ scheduleKind: 'step', epochs: 400 }, { scheduleKind: 'cosine', epochs: 400 })).toEqual([['lr ×0.1 at epochs 200, 300'], ['cosine lr']]);
    expect(labels({ trainLimit: null, interval: null }, {})).toEqual([
      ['projection every epoch', 'all training images'],
      ['projection every 4 iterations', 'train 512 images'],
    ]);
    const posthoc = (lrpet: RunConfigInput['lrpet']) => parsed({ ...toRunConfig(quick), lrpet, posthoc: { fineTuneEpochs: 2 } });
    expect(
      describeDifferences([posthoc({ energyTransfer: false, bnRectification: false }), posthoc({ energyTransfer: true, bnRectification: false })]).perRun,
    ).toEqual([['post-hoc (fine-tune 2 ep)'], ['post-hoc + energy transfer (fine-tune 2 ep)']]);
  });
});
