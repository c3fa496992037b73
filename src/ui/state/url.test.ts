import '../../worker/zod-setup'; // as on the page: zod without eval
import { describe, expect, it } from 'vitest';
import { MODEL_NAMES, RunConfigSchema } from '../../engine/config';
import { Rng } from '../../engine/rng';
import { presetById, PRESETS, toRunConfig, type FormState } from './form';
import { FormStateSchema, formFromSearch, formToSearch, presetLink, rankableLayers, RANGES } from './url';

const quick = presetById('quick').form;
const paper = presetById('paper').form;
const read = (search: string, fallback: FormState = paper) => formFromSearch(search, fallback);

/** A random form inside every range, with numbers of any precision, nulls and rank overrides. */
function randomForm(rng: Rng): FormState {
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)];
  const inRange = (r: { min: number; max: number; int: boolean }) => {
    const x = r.min + rng.next() * (r.max - r.min);
    return r.int ? Math.round(x) : pick([x, Math.round(x * 100) / 100, r.min, r.max]);
  };
  const model = pick(MODEL_NAMES.filter((m) => m !== 'resnet110'));
  const layers = [...rankableLayers(model)];
  const rankOverrides: Record<string, number> = {};
  for (let i = rng.int(4); i > 0; i--) {
    const [name, n] = pick(layers);
    rankOverrides[name] = 1 + rng.int(n);
  }
  const epochs = pick([1, 2, 7, inRange(RANGES.epochs)]);
  const startEpoch = rng.int(epochs);
  return {
    model,
    lrpetEnabled: rng.next() < 0.5,
    compression: pick(['prune', 'flops'] as const),
    prune: inRange(RANGES.prune),
    flopsTarget: inRange(RANGES.flopsTarget),
    rankFloors: rng.next() < 0.5,
    rankMultiple: inRange(RANGES.rankMultiple),
    rankOverrides,
    interval: rng.next() < 0.3 ? null : inRange(RANGES.interval),
    startEpoch,
    endEpoch: rng.next() < 0.3 ? null : startEpoch + rng.int(epochs - startEpoch),
    energyTransfer: rng.next() < 0.5,
    beta: inRange(RANGES.beta),
    bnRectification: rng.next() < 0.5,
    bnRecalibrationBatches: rng.next() < 0.5 ? 0 : inRange(RANGES.bnRecalibrationBatches),
    lr: inRange(RANGES.lr),
    weightDecayScope: pick(['all', 'kernels'] as const),
    scheduleKind: pick(['step', 'cosine', 'constant'] as const),
    batchSize: inRange(RANGES.batchSize),
    epochs,
    seed: inRange(RANGES.seed),
    trainLimit: rng.next() < 0.3 ? null : inRange(RANGES.trainLimit),
    testLimit: rng.next() < 0.3 ? null : inRange(RANGES.testLimit),
    augment: rng.next() < 0.5,
    checkpointMinutes: inRange(RANGES.checkpointMinutes),
    gradNormEvery: inRange(RANGES.gradNormEvery),
  };
}

/** The keys links are written with: the settings' ids, in the table's order. */
const KEY_ORDER = ['model', 'lrpetEnabled', 'compression', 'prune', 'flopsTarget', 'rankFloors', 'rankMultiple', 'rankOverrides', 'interval', 'startEpoch', 'endEpoch', 'energyTransfer', 'beta', 'bnRectification', 'bnRecalibrationBatches', 'lr', 'weightDecayScope', 'scheduleKind', 'batchSize', 'epochs', 'seed', 'trainLimit', 'testLimit', 'augment', 'checkpointMinutes', 'gradNormEvery'];
/** The keys of links written before the keys were the ids: they keep working. */
const OLD_KEYS = ['model', 'lrpet', 'comp', 'p', 'flops', 'floors', 'rankMultiple', 'ranks', 'interval', 'start', 'end', 'et', 'beta', 'bn', 'bnrecal', 'lr', 'wdscope', 'sched', 'batch', 'epochs', 'seed', 'train', 'test', 'aug', 'ckpt', 'grads'];
const keysOf = (search: string) => [...new URLSearchParams(search).keys()];

describe('formToSearch / formFromSearch round trip', () => {
  it('every preset, exactly and without notes', () => {
    for (const p of PRESETS) {
      const other = p.id === 'quick' ? paper : quick;
      expect(formFromSearch(formToSearch(p.form), other)).toEqual({ form: p.form, notes: [] });
    }
  });

  it('random valid forms (seeded)', () => {
    const rng = new Rng(20240607);
    for (let i = 0; i < 300; i++) {
      const f = randomForm(rng);
      expect(FormStateSchema.safeParse(f).success).toBe(true);
      const search = formToSearch(f);
      expect(keysOf(search)).toEqual(KEY_ORDER);
      expect(formFromSearch(search, i % 2 ? quick : paper)).toEqual({ form: f, notes: [] });
    }
  });

  it('writes every field under its id, in a fixed order, readable', () => {
    const search = formToSearch({ ...quick, rankOverrides: { 'stem/conv': 6, 'stage1/block1/conv1': 3 }, endEpoch: 4, trainLimit: null });
    expect(keysOf(search)).toEqual(KEY_ORDER);
    expect(search).toContain('rankOverrides=stem/conv:6,stage1/block1/conv1:3');
    expect(search).toContain('model=resnet8-tiny&lrpetEnabled=1&compression=prune&prune=0.5&');
    expect(search).toContain('interval=4&startEpoch=0&endEpoch=4&energyTransfer=1');
    expect(search).toContain('trainLimit=all&testLimit=500');
    expect(search).toContain('checkpointMinutes=0.5');
    expect(formToSearch(paper)).toContain('interval=epoch&startEpoch=0&endEpoch=last');
  });

  it('presets are links to their whole form', () => {
    for (const p of PRESETS) {
      const link = presetLink(p);
      expect(link.startsWith('?')).toBe(true);
      expect(read(link, p.id === 'quick' ? paper : quick).form).toEqual(p.form);
    }
  });
});

describe('formFromSearch: the old links keep working', () => {
  it('preset plus overrides (the e2e tests\' links)', () => {
    const { form, notes } = read('?preset=quick&epochs=1&train=64&test=64&batch=16');
    expect(form).toEqual({ ...quick, epochs: 1, trainLimit: 64, testLimit: 64, batchSize: 16 });
    expect(notes).toEqual([]);
    const g = read('preset=quick&train=64&test=50&batch=16&epochs=3&interval=2&p=0.5&lr=0.02&seed=7&model=vgg-tiny').form;
    expect(g).toEqual({ ...quick, model: 'vgg-tiny', trainLimit: 64, testLimit: 50, batchSize: 16, epochs: 3, interval: 2, prune: 0.5, lr: 0.02, seed: 7 });
  });

  it('weight decay scope and BN recalibration: their own keys, both ways', () => {
    const f = { ...quick, weightDecayScope: 'kernels' as const, bnRecalibrationBatches: 20 };
    const search = formToSearch(f);
    expect(search).toContain('bnRecalibrationBatches=20');
    expect(search).toContain('weightDecayScope=kernels');
    expect(read(search, paper)).toEqual({ form: f, notes: [] });
    expect(read('preset=quick&wdscope=all&bnrecal=5').form).toEqual({ ...quick, weightDecayScope: 'all', bnRecalibrationBatches: 5 });
    // A link without them (written before they existed) gets the fallback's: the official scope, no recalibration.
    expect(read('preset=quick&epochs=3').form).toMatchObject({ weightDecayScope: 'all', bnRecalibrationBatches: 0 });
    expect(read('preset=quick&wdscope=some').notes).toEqual(['wdscope: "some" is not one of all, kernels, kept all']);
  });

  it('without a preset starts from the fallback; the preset wherever it stands', () => {
    expect(read('epochs=3').form).toEqual({ ...paper, epochs: 3 });
    expect(read('epochs=3&preset=quick').form).toEqual({ ...quick, epochs: 3 });
    expect(read('', quick)).toEqual({ form: quick, notes: [] });
  });

  it('an unknown preset is reported and the fallback used', () => {
    expect(read('preset=huge&epochs=5')).toEqual({ form: { ...paper, epochs: 5 }, notes: ['preset: "huge" is not quick, paper or vgg, ignored'] });
  });
});

describe('formFromSearch: bad input', () => {
  it('malformed values are kept out, with a note', () => {
    const { form, notes } = read('preset=quick&lr=abc&epochs=&et=maybe&model=nope&sched=linear&comp=ranks&interval=often&train=lots');
    expect(form).toEqual(quick);
    expect(notes).toEqual([
      'model: "nope" is not one of resnet20, resnet32, resnet44, resnet56, resnet110, vgg16, resnet8-tiny, resnet14-narrow, vgg-tiny, kept resnet8-tiny',
      'comp: "ranks" is not one of prune, flops, kept prune',
      'interval: "often" is not a number or "epoch", kept 4',
      'et: "maybe" is not 1 or 0, kept 1',
      'lr: "abc" is not a number, kept 0.05',
      'sched: "linear" is not one of step, cosine, constant, kept constant',
      'epochs: "" is not a number, kept 6',
      'train: "lots" is not a number or "all", kept 512',
    ]);
  });

  it('NaN and infinities are not numbers', () => {
    for (const v of ['NaN', 'Infinity', '-Infinity', '1/2']) {
      const r = read(`preset=quick&lr=${encodeURIComponent(v)}`);
      expect(r.form.lr).toBe(quick.lr);
      expect(r.notes).toEqual([`lr: "${v}" is not a number, kept 0.05`]);
    }
  });

  it('out-of-range values are clamped to the nearest allowed value and reported', () => {
    const { form, notes } = read('preset=quick&epochs=0&batch=5000&p=1.5&lr=0&seed=-3&train=60000&test=0&beta=1&flops=0&ckpt=500&interval=0');
    expect(form).toEqual({ ...quick, epochs: 1, batchSize: 4096, prune: 0.99, lr: 1e-6, seed: 0, trainLimit: 50000, testLimit: 1, beta: 0.99, flopsTarget: 0.01, checkpointMinutes: 120, interval: 1 });
    expect(notes).toEqual([
      'p 1.5 is above the maximum 0.99: using 0.99',
      'flops 0 is below the minimum 0.01: using 0.01',
      'interval 0 is below the minimum 1: using 1',
      'beta 1 is above the maximum 0.99: using 0.99',
      'lr 0 is below the minimum 0.000001: using 0.000001',
      'batch 5000 is above the maximum 4096: using 4096',
      'epochs 0 is below the minimum 1: using 1',
      'seed -3 is below the minimum 0: using 0',
      'train 60000 is above the maximum 50000: using 50000',
      'test 0 is below the minimum 1: using 1',
      'ckpt 500 is above the maximum 120: using 120',
    ]);
    expect(read('seed=9999999999').form.seed).toBe(2 ** 31 - 1);
    expect(read('ckpt=0.01').form.checkpointMinutes).toBe(0.05);
  });

  it('integers are rounded where one is required (reported); fractions kept where allowed', () => {
    const { form, notes } = read('preset=quick&batch=16.4&epochs=2.5&p=0.125&lr=0.0125');
    expect(form).toMatchObject({ batchSize: 16, epochs: 3, prune: 0.125, lr: 0.0125 });
    expect(notes).toEqual(['batch 16.4 is not a whole number: using 16', 'epochs 2.5 is not a whole number: using 3']);
  });

  it('start and end epochs stay within [0, epochs − 1], end not before start', () => {
    expect(read('preset=quick&epochs=5&start=9&end=12')).toEqual({
      form: { ...quick, epochs: 5, startEpoch: 4, endEpoch: 4 },
      notes: ['start 9 is above the maximum 4 (the last epoch): using 4', 'end 12 is above the maximum 4 (the last epoch): using 4'],
    });
    expect(read('preset=quick&start=3&end=1')).toEqual({ form: { ...quick, startEpoch: 3, endEpoch: 3 }, notes: ['end 1 is before start 3: using 3'] });
    expect(read('preset=quick&end=last&interval=epoch&train=all&test=all').form).toEqual({ ...quick, endEpoch: null, interval: null, trainLimit: null, testLimit: null });
    // the fallback's window is checked against new epochs too
    expect(read('epochs=10', { ...paper, startEpoch: 50, endEpoch: 300 }).form).toMatchObject({ epochs: 10, startEpoch: 9, endEpoch: 9 });
  });

  it('unknown keys are ignored with a note; the page\'s own keys silently', () => {
    expect(read('preset=quick&foo=1&backend=webgl&kernels=stock&Epochs=3')).toEqual({
      form: quick,
      notes: ['unknown setting "foo" ignored', 'unknown setting "Epochs" ignored'],
    });
  });

  it('links with the older short keys still read, to the same form; a setting given under both keys: the id wins, reported', () => {
    for (const p of PRESETS) {
      const search = new URLSearchParams(formToSearch(p.form));
      const old = new URLSearchParams();
      for (const [k, v] of search) old.set(OLD_KEYS[KEY_ORDER.indexOf(k)], v);
      expect(formFromSearch(old.toString(), p.id === 'quick' ? paper : quick)).toEqual({ form: p.form, notes: [] });
    }
    expect(read('preset=quick&p=0.3&prune=0.6')).toEqual({ form: { ...quick, prune: 0.6 }, notes: ['prune and p both set prune: using prune'] });
    expect(read('preset=quick&p=2').notes).toEqual(['p 2 is above the maximum 0.99: using 0.99']);
  });

  it("a link to VGG-16 that says nothing of the rank floors gets the model's default (on); one that does keeps its word", () => {
    expect(read('preset=quick&model=vgg16').form.rankFloors).toBe(true);
    expect(read('preset=quick&model=vgg16&rankFloors=0').form.rankFloors).toBe(false);
    expect(read('preset=vgg&model=resnet20').form.rankFloors).toBe(false);
    expect(read('preset=vgg').form).toEqual(presetById('vgg').form);
  });

  it('a key given twice: the last wins, reported', () => {
    expect(read('preset=quick&epochs=3&epochs=4')).toEqual({ form: { ...quick, epochs: 4 }, notes: ['epochs is given 2 times: using the last (4)'] });
  });

  it('switches read 1/0, on/off, true/false, yes/no', () => {
    expect(read('preset=quick&et=0&bn=off&aug=false&floors=yes&lrpet=no').form).toEqual({ ...quick, energyTransfer: false, bnRectification: false, augment: false, rankFloors: true, lrpetEnabled: false });
    expect(read('preset=quick&et=ON').form.energyTransfer).toBe(true);
  });

  it('no input can make the form invalid (seeded fuzz)', () => {
    const rng = new Rng(7);
    const junk = ['', ' ', '-1', '0', '1', '0.5', '1e9', '-0', 'abc', '2.5', 'epoch', 'last', 'all', 'flops', 'cosine', 'vgg16', 'stem/conv:0', 'conv1:4,x', '1e-9', '%', '∞'];
    for (let i = 0; i < 300; i++) {
      const parts = ['preset=quick'];
      for (const key of [...KEY_ORDER, ...OLD_KEYS]) if (rng.next() < 0.3) parts.push(`${key}=${encodeURIComponent(junk[rng.int(junk.length)])}`);
      const { form } = read(parts.join('&'));
      const checked = FormStateSchema.safeParse(form);
      expect(checked.success, `${parts.join('&')}: ${checked.error?.message}`).toBe(true);
      expect(form.startEpoch).toBeLessThan(form.epochs);
      if (form.endEpoch !== null) expect(form.endEpoch).toBeLessThan(form.epochs);
      expect(() => RunConfigSchema.parse(toRunConfig(form))).not.toThrow();
    }
  });

  it('the ranges agree with the engine: forms at every bound give valid engine configs', () => {
    for (const end of ['min', 'max'] as const) {
      const f = { ...quick };
      for (const [field, r] of Object.entries(RANGES)) (f as Record<string, unknown>)[field] = r[end];
      f.startEpoch = Math.min(f.startEpoch, f.epochs - 1);
      f.endEpoch = Math.min(f.endEpoch ?? 0, f.epochs - 1);
      expect(FormStateSchema.safeParse(f).success).toBe(true);
      expect(() => RunConfigSchema.parse(toRunConfig(f))).not.toThrow();
    }
  });
});

describe('formFromSearch: rank overrides', () => {
  it('are checked against the layers of the model in the link', () => {
    expect(read('model=vgg-tiny&ranks=conv1:6,conv3:13')).toEqual({ form: { ...paper, model: 'vgg-tiny', rankOverrides: { conv1: 6, conv3: 13 } }, notes: [] });
    const { form, notes } = read('preset=quick&ranks=stem/conv:3,conv9:4,fc:2,stage1/block1/conv1:40,stage1/block1/conv2:0,junk,stage2/block1/conv1:2.6');
    expect(form.rankOverrides).toEqual({ 'stem/conv': 3, 'stage1/block1/conv1': 8, 'stage1/block1/conv2': 1, 'stage2/block1/conv1': 3 });
    expect(notes).toEqual([
      'ranks: resnet8-tiny has no projected layer "conv9", dropped',
      'ranks: resnet8-tiny has no projected layer "fc", dropped',
      'rank of stage1/block1/conv1 40 is above the maximum 8: using 8',
      'rank of stage1/block1/conv2 0 is below the minimum 1: using 1',
      'ranks: "junk" is not layer:rank, dropped',
      'rank of stage2/block1/conv1 2.6 is not a whole number: using 3',
    ]);
  });

  it('an empty list clears them; a new model without a list clears the old model\'s', () => {
    const withRanks = { ...quick, rankOverrides: { 'stem/conv': 2 } };
    expect(read('ranks=', withRanks).form.rankOverrides).toEqual({});
    expect(read('epochs=3', withRanks).form.rankOverrides).toEqual({ 'stem/conv': 2 });
    expect(read('model=vgg-tiny', withRanks)).toEqual({ form: { ...quick, model: 'vgg-tiny', rankOverrides: {} }, notes: ['rank overrides are for resnet8-tiny, not vgg-tiny: cleared'] });
    expect(read('model=resnet8-tiny', withRanks).form.rankOverrides).toEqual({ 'stem/conv': 2 });
  });

  it('layer names survive the URL encoding', () => {
    const f = { ...quick, rankOverrides: { 'stage2/block1/conv1': 5, 'stage1/block1/conv2': 2 } };
    expect(read(formToSearch(f))).toEqual({ form: f, notes: [] });
    expect(read('preset=quick&ranks=stage2%2Fblock1%2Fconv1%3A5').form.rankOverrides).toEqual({ 'stage2/block1/conv1': 5 });
  });
});
