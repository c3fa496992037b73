import { describe, expect, it } from 'vitest';
import { RunConfigSchema, type RunConfigInput } from '../../engine/config';
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
      ['LRPET', 'init: from the seed', 'energy transfer: on', 'BN rectification: on'],
      ['energy transfer: off'],
      ['BN rectification: off'],
      ['dense (no LRPET)'],
      ["init: the dense baseline's final weights"],
      ['post-hoc (fine-tune 2 ep)'],
      ['compact from scratch'],
    ]);
    expect(common).toEqual([
      'resnet8-tiny',
      '6 epochs',
      'batch 32',
      'lr 0.05',
      'constant lr',
      'momentum 0.9',
      'weight decay 0.0001',
      'seed 1',
      'train 512 images',
      'test 500 images',
      'augmentation: on',
      'p 0.5',
      'projection every 4 iterations',
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
      ['lr 0.1', 'p 0.5'],
      ['lr 0.05', 'p 0.7'],
    ]);
    expect(common).not.toContain('p 0.5');
    expect(common).toContain('seed 1');
  });

  it('where most runs agree, the others are labelled by their departure only', () => {
    expect(describeDifferences([cfg({ prune: 0.5 }), cfg({ prune: 0.5, seed: 2 }), cfg({ prune: 0.7 })]).perRun).toEqual([
      ['seed 1', 'p 0.5'],
      ['seed 2'],
      ['p 0.7'],
    ]);
  });

  it('ignores the LRPET switches of a dense run', () => {
    const dense = cfg({ lrpet: false, energyTransfer: false, bnRectification: false, beta: 0.5, interval: null, prune: 0.9 });
    expect(describeDifferences([cfg({}), dense]).perRun).toEqual([['LRPET'], ['dense (no LRPET)']]);
    expect(describeDifferences([dense, cfg({ lrpet: false })]).perRun).toEqual([[], []]);
  });

  it('quiet defaults are left out of the subtitle but shown when they differ', () => {
    const { common, perRun } = describeDifferences([cfg({}), cfg({ rankOverrides: { 'stem/conv': 2 }, beta: 0.2, startEpoch: 1, endEpoch: 4 })]);
    expect(perRun).toEqual([
      ['no rank overrides', 'projections in every epoch', 'β 0'],
      ['ranks stem/conv:2', 'projections in epochs 1–4', 'β 0.2'],
    ]);
    expect(common.join()).not.toMatch(/rank|β|window|floors|dense layers/);
  });

  it('spells out targets, schedules, data limits and post-hoc variants', () => {
    const labels = (a: Partial<FormState>, b: Partial<FormState>) => describeDifferences([cfg(a), cfg(b)]).perRun;
    expect(labels({ compression: 'flops', flopsTarget: 0.55 }, { prune: 0.57 })).toEqual([['FLOPs −55%'], ['p 0.57']]);
    expect(labels({ schedule: 'step', epochs: 400 }, { schedule: 'cosine', epochs: 400 })).toEqual([['lr ×0.1 at epochs 200, 300'], ['cosine lr']]);
    expect(labels({ trainLimit: null, interval: null }, {})).toEqual([
      ['all training images', 'projection every epoch'],
      ['train 512 images', 'projection every 4 iterations'],
    ]);
    const posthoc = (lrpet: RunConfigInput['lrpet']) => parsed({ ...toRunConfig(quick), lrpet, posthoc: { fineTuneEpochs: 2 } });
    expect(
      describeDifferences([posthoc({ energyTransfer: false, bnRectification: false }), posthoc({ energyTransfer: true, bnRectification: false })]).perRun,
    ).toEqual([['post-hoc (fine-tune 2 ep)'], ['post-hoc + energy transfer (fine-tune 2 ep)']]);
  });
});
